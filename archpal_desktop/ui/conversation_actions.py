"""Renaming and deleting a conversation, as the window offers them (issue 11, build 7).

Delete asks once (the button says "Delete"), hides the conversation at once and offers **Undo**
in the toast for a few seconds. Only when the toast goes (its time is up, it is closed, another
message replaces it, or the window closes) is the delete written to the cache, and with it the
tombstone the next sync uploads: an undone delete never reaches S3.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox

from archpal_desktop import APP_NAME

RENAME_MIN_WIDTH = 520


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

    def __init__(self, window):
        self.window = window
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
            w.title_label.setText("")
            w.setWindowTitle(APP_NAME)
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
        w, store = self.window, self.window.store
        if self.pending == cid:
            self._set_pending(None)

        def done(_r) -> None:
            self.hidden.discard(cid)
        w.tasks.run_db(lambda: store.delete_conversation(cid), done, w._error("Deleting"))
