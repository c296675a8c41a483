"""The window's conversation commands (issue 17 point 6): new, next and previous, rename,
delete with Undo, export (one conversation or all my data) and print.

:class:`ConversationActions` is a controller like ``SearchController``: the menus, the list's
context menu and the sidebar's button connect to its methods; it reaches the window only through
the parts :class:`ConversationWindow` declares.

Delete asks once (the button says "Delete"), hides the conversation at once and offers **Undo**
in the toast for a few seconds. Only when the toast goes (its time is up, it is closed, another
message replaces it, or the window closes) is the delete written to the cache, and with it the
tombstone the next sync uploads: an undone delete never reaches S3.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMessageBox

from archpal_desktop.ui.conversation_pane import show_title

if TYPE_CHECKING:
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QLabel, QStackedWidget

    from archpal_desktop.ui.chat_view import ChatView
    from archpal_desktop.ui.composer import Composer
    from archpal_desktop.ui.conversation_list import ConversationList
    from archpal_desktop.ui.state import AppState
    from archpal_desktop.ui.toast import Toast

RENAME_MIN_WIDTH = 520


class ConversationWindow(Protocol):
    """The parts of the main window the conversation commands use (the window is their parent
    for dialogs and owns which conversation is open)."""
    current_cid: str | None
    conversations: ConversationList
    side_stack: QStackedWidget
    empty_list: QLabel
    search_box: QLineEdit
    title_label: QLabel
    chat: ChatView
    composer: Composer
    toast: Toast
    act_undo: QAction

    def flash(self, text: str, ms: int = 5000, *, error: bool = False) -> None: ...
    def flash_action(self, text: str, action: str, *, on_action: Callable[[], Any],
                     on_expire: Callable[[], Any]) -> None: ...
    def _error(self, what: str) -> Callable[[BaseException], None]: ...
    def setWindowTitle(self, title: str) -> None: ...  # noqa: N802
    def width(self) -> int: ...


def rename_dialog(parent, title: str) -> QInputDialog:
    """The rename box, wide enough for a long title (up to most of the window's width)."""
    dlg = QInputDialog(parent)
    dlg.setObjectName("renameDialog")
    dlg.setWindowTitle("Rename conversation")
    dlg.setLabelText("New title:")
    dlg.setInputMode(QInputDialog.InputMode.TextInput)
    dlg.setTextEchoMode(QLineEdit.EchoMode.Normal)
    dlg.setTextValue(title)
    dlg.setOkButtonText("Rename")
    want = dlg.fontMetrics().horizontalAdvance(title) + 40
    limit = max(RENAME_MIN_WIDTH, int(parent.width() * 0.8)) if parent is not None else 900
    # the dialog's own layout sets its size from its children: widen the field itself
    edit = dlg.findChild(QLineEdit)
    if edit is not None:
        edit.setMinimumWidth(min(max(RENAME_MIN_WIDTH, want), limit))
    return dlg


def ask_title(parent, title: str) -> str:
    dlg = rename_dialog(parent, title)
    try:
        ok = dlg.exec()
        return dlg.textValue().strip() if ok else ""
    finally:
        dlg.deleteLater()


def confirm_delete(parent, title: str) -> bool:
    box = QMessageBox(QMessageBox.Icon.Question, "Delete conversation",
                      f"Delete “{title}”?\n\nIt is removed from this computer and, at the next sync, "
                      "from your ArchPal account everywhere. You can undo it for a few seconds.",
                      QMessageBox.StandardButton.NoButton, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)     # an S3 title is shown as text, never markup
    delete = box.addButton("&Delete", QMessageBox.ButtonRole.DestructiveRole)
    delete.setObjectName("confirmDelete")
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    try:
        box.exec()
        return box.clickedButton() is delete
    finally:
        box.deleteLater()


class DeleteWithUndo:
    """The window's delete: hide now, Undo in the toast, write the delete when the toast goes."""

    def __init__(self, window: ConversationWindow, tasks, store):
        self.window = window
        self.tasks = tasks
        self.store = store
        self.hidden: set[str] = set()     # deleted here, not yet written: kept out of the list
        self.pending: str | None = None   # the delete the toast's Undo (and Edit ▸ Undo) takes back

    def _set_pending(self, cid: str | None) -> None:
        self.pending = cid
        act = getattr(self.window, "act_undo", None)
        if act is not None:
            act.setEnabled(cid is not None)

    def undo_last(self) -> None:
        """Edit ▸ Undo delete (Ctrl+Z outside text fields): the toast's Undo, from the keyboard."""
        if self.pending is not None:
            self.window.toast.run_action()

    def request(self, cid: str | None, *, confirm: bool = True) -> None:
        w = self.window
        conv = w.conversations.conv_model.conversation(cid) if cid else None
        if conv is None:
            return
        if confirm and not confirm_delete(w, conv.title):
            return
        self.hidden.add(cid)
        self._hide(cid)
        self._set_pending(cid)
        w.flash_action(f"Deleted “{conv.title}”.", "Undo", on_action=lambda: self._undo(conv),
                       on_expire=lambda: self._write(cid))

    def _hide(self, cid: str) -> None:
        w = self.window
        model = w.conversations.conv_model
        row = model.row_of(cid)
        model.remove(cid)
        if cid == w.current_cid:
            w.current_cid = None
            w.chat.show_messages(None, [])
            show_title(w, None)
            if model.rowCount():
                w.conversations.setCurrentIndex(model.index(min(max(row, 0), model.rowCount() - 1)))
            else:
                w.side_stack.setCurrentWidget(w.empty_list)
                w.composer.load_draft("")

    def _undo(self, conv) -> None:
        w = self.window
        self._set_pending(None)
        self.hidden.discard(conv.conversation_id)
        w.conversations.conv_model.upsert(conv)
        w.side_stack.setCurrentWidget(w.conversations)
        w.conversations.select(conv.conversation_id)
        w.flash(f"“{conv.title}” is back.")

    def _write(self, cid: str) -> None:
        w, store = self.window, self.store
        if self.pending == cid:
            self._set_pending(None)

        def done(_r) -> None:
            self.hidden.discard(cid)
        self.tasks.run_db(lambda: store.delete_conversation(cid), done, w._error("Deleting"))


class ConversationActions(QObject):
    """New, next/previous, rename, delete (with Undo), export and print, for the window's menus."""

    def __init__(self, window: ConversationWindow, state: AppState, parent: QObject | None = None):
        super().__init__(parent)
        self.window = window
        self.state = state           # its email is read when a PDF is written (it may change)
        self.tasks = state.tasks
        self.store = state.store
        self.deleting = DeleteWithUndo(window, self.tasks, self.store)

    # -- new, next, rename, delete ----------------------------------------------------------------
    def new_conversation(self) -> None:
        w, store = self.window, self.store

        def made(conv) -> None:
            w.conversations.conv_model.upsert(conv)
            w.side_stack.setCurrentWidget(w.conversations)
            w.search_box.clear()
            w.conversations.select(conv.conversation_id)
            w.composer.edit.setFocus()
        self.tasks.run_db(store.create_conversation, made, w._error("Creating a conversation"))

    def step_conversation(self, delta: int) -> None:
        w = self.window
        model = w.conversations.conv_model
        if not model.rowCount():
            return
        row = max(0, min(model.rowCount() - 1, model.row_of(w.current_cid) + delta))
        w.conversations.setCurrentIndex(model.index(row))

    def rename_conversation(self, cid: str | None) -> None:
        conv = self.window.conversations.conv_model.conversation(cid) if cid else None
        if conv is None or cid is None:
            return
        title = ask_title(self.window, conv.title)
        if title:
            self.apply_rename(cid, title)

    def apply_rename(self, cid: str, title: str) -> None:
        w, store = self.window, self.store

        def work():
            store.rename_conversation(cid, title)
            return store.get_conversation(cid)

        def done(conv) -> None:
            w.conversations.conv_model.upsert(conv)
            w.conversations.select(cid)
            if cid == w.current_cid:
                show_title(w, conv)
        self.tasks.run_db(work, done, w._error("Renaming"))

    def delete_conversation(self, cid: str | None, *, confirm: bool = True) -> None:
        self.deleting.request(cid, confirm=confirm)   # Undo in the toast before it is written

    # -- export and print -------------------------------------------------------------------------
    def export_conversation(self, cid: str | None, kind: str, path: str | None = None) -> None:
        from archpal_desktop.ui import export as ui_export  # PDF machinery: not needed at startup
        w = self.window
        conv = w.conversations.conv_model.conversation(cid) if cid else None
        if conv is None or cid is None:
            w.flash("Open a conversation to export it.")
            return
        if path is None:
            ext, filt = ("pdf", "PDF (*.pdf)") if kind == "pdf" else ("md", "Markdown (*.md)")
            start = str(Path.home() / ui_export.safe_file_name(conv.title, ext))
            path, _ = QFileDialog.getSaveFileName(w, "Export conversation", start, filt)
            if not path:
                return
        store, email = self.store, self.state.email
        target = Path(path)
        if kind == "md":
            def work_md():
                ui_export.write_markdown(target, ui_export.conversation_markdown(store, cid))
            self.tasks.run_db(work_md, lambda _r: w.flash(f"Exported to {target}"), w._error("Exporting"))
            return

        def write(data) -> None:
            try:
                ui_export.write_pdf(target, data["html"], data["title"])
            except Exception as exc:  # a disk error must reach the student, not the log only
                w._error("Exporting")(exc)
                return
            w.flash(f"Exported to {target}")
        self.tasks.run_db(lambda: ui_export.load_conversation(store, cid, email), write,
                          w._error("Exporting"))

    def print_conversation(self) -> None:
        from archpal_desktop.ui import export as ui_export
        w = self.window
        cid, store, email = w.current_cid, self.store, self.state.email
        if not cid:
            w.flash("Open a conversation to print it.")
            return
        self.tasks.run_db(lambda: ui_export.load_conversation(store, cid, email),
                          lambda d: ui_export.print_conversation(d["html"], w),
                          w._error("Printing"))

    def choose_folder(self, title: str, start: str) -> str:
        """A folder picked by the student ("" if cancelled): the system's dialog where there is one."""
        dlg = QFileDialog(self.window, title, start)
        dlg.setObjectName("chooseFolderDialog")
        dlg.setFileMode(QFileDialog.FileMode.Directory)
        dlg.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dlg.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
        dlg.setLabelText(QFileDialog.DialogLabel.Accept, "Export here")
        try:
            return dlg.selectedFiles()[0] if dlg.exec() and dlg.selectedFiles() else ""
        finally:
            dlg.deleteLater()

    def export_all(self, folder: str | None = None) -> None:
        w = self.window
        if not isinstance(folder, str) or not folder:   # from the menu: ask where
            folder = self.choose_folder("Export all my data to…", str(Path.home()))
            if not folder:
                return
        store = self.store
        out = Path(folder) / "archpal-export"

        def work():
            from archpal_desktop.core.export import export_all
            return export_all(store, out)
        self.tasks.run_db(work, lambda counts: w.flash(f"Exported all your data to {out}", 8000),
                          w._error("Exporting your data"))
