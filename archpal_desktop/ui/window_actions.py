"""The main window's less central actions: search results, export and print, dialogs.

A mixin of :class:`~archpal_desktop.ui.main_window.MainWindow` (kept apart so each module stays
small); it uses the window's widgets, task runner and store.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from archpal_desktop.ui import theme
from archpal_desktop.ui.shortcuts import ShortcutsDialog


class WindowActions:
    # -- search ---------------------------------------------------------------------------------
    def focus_search(self) -> None:
        self.search_box.setFocus()
        self.search_box.selectAll()

    def _search_changed(self, text: str) -> None:
        self.search.set_query(text)
        if not text.strip():
            self.results_label.hide()
            self.side_stack.setCurrentWidget(self.conversations)

    def _show_hits(self, query: str, hits: list) -> None:
        if not query:
            return
        self.results.hits_model.set_hits(hits)
        self.side_stack.setCurrentWidget(self.results)
        self.results_label.setText(f"{len(hits)} result{'s' if len(hits) != 1 else ''} for “{query}”"
                                   if hits else f"Nothing found for “{query}”")
        self.results_label.show()

    def _open_first_hit(self) -> None:
        if self.results.hits_model.hits:
            self.open_hit(self.results.hits_model.hits[0])

    def open_hit(self, hit) -> None:
        if hit is None:
            return
        if hit.conversation_id == self.current_cid and self.chat.chat_model.message(hit.message_id):
            self.chat.scroll_to_message(hit.message_id)
            return
        self.conversations.blockSignals(True)
        self.conversations.select(hit.conversation_id)
        self.conversations.blockSignals(False)
        self.open_conversation(hit.conversation_id, scroll_to=hit.message_id)

    # -- export -----------------------------------------------------------------------------------
    def export_conversation(self, cid: str | None, kind: str, path: str | None = None) -> None:
        from archpal_desktop.ui import export as ui_export  # PDF machinery: not needed at startup
        conv = self.conversations.conv_model.conversation(cid) if cid else None
        if conv is None:
            self.flash("Open a conversation to export it.")
            return
        if path is None:
            ext, filt = ("pdf", "PDF (*.pdf)") if kind == "pdf" else ("md", "Markdown (*.md)")
            start = str(Path.home() / ui_export.safe_file_name(conv.title, ext))
            path, _ = QFileDialog.getSaveFileName(self, "Export conversation", start, filt)
            if not path:
                return
        store, email = self.store, self.state.email
        target = Path(path)
        if kind == "md":
            def work_md():
                ui_export.write_markdown(target, ui_export.conversation_markdown(store, cid))
            self.tasks.run_db(work_md, lambda _r: self.flash(f"Exported to {target}"),
                              self._error("Exporting"))
            return

        def write(data) -> None:
            try:
                ui_export.write_pdf(target, data["html"], data["title"])
            except Exception as exc:  # a disk error must reach the student, not the log only
                self._error("Exporting")(exc)
                return
            self.flash(f"Exported to {target}")
        self.tasks.run_db(lambda: ui_export.load_conversation(store, cid, email), write,
                          self._error("Exporting"))

    def print_conversation(self) -> None:
        from archpal_desktop.ui import export as ui_export
        cid, store, email = self.current_cid, self.store, self.state.email
        if not cid:
            self.flash("Open a conversation to print it.")
            return
        self.tasks.run_db(lambda: ui_export.load_conversation(store, cid, email),
                          lambda d: ui_export.print_conversation(d["html"], self),
                          self._error("Printing"))

    def choose_folder(self, title: str, start: str) -> str:
        """A folder picked by the student ("" if cancelled): the system's dialog where there is one."""
        dlg = QFileDialog(self, title, start)
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
        if not isinstance(folder, str) or not folder:   # from the menu: ask where
            folder = self.choose_folder("Export all my data to…", str(Path.home()))
            if not folder:
                return
        store = self.store
        out = Path(folder) / "archpal-export"

        def work():
            from archpal_desktop.core.export import export_all
            return export_all(store, out)
        self.tasks.run_db(work, lambda counts: self.flash(f"Exported all your data to {out}", 8000),
                          self._error("Exporting your data"))

    # -- dialogs ----------------------------------------------------------------------------------
    def show_shortcuts(self) -> None:
        ShortcutsDialog(self).exec()

    def show_about(self) -> None:
        from archpal_desktop.ui.dialogs import AboutDialog
        AboutDialog(self.state, self).exec()

    def settings_dialog(self):
        from archpal_desktop.ui.settings_dialog import SettingsDialog
        dlg = SettingsDialog(self.state, self)
        dlg.applied.connect(self._settings_applied)
        return dlg

    def open_settings(self) -> None:
        self.settings_dialog().exec()

    def _settings_applied(self) -> None:
        from archpal_desktop.core import config as cfg
        s = self.state.settings
        if self.state.theme is not None:
            self.state.theme.set_font_size(int(s[cfg.FONT_SIZE] or 0))
            self.state.theme.set_mode(str(s[cfg.THEME]))
        self.sync.set_interval(int(s[cfg.SYNC_INTERVAL_SECONDS] or 120))

    def edit_profile(self) -> None:
        from archpal_desktop.ui import account as ui_app
        ui_app.edit_profile(self.state, self)

    def sign_in_again(self) -> None:
        from archpal_desktop.ui import account as ui_app
        if ui_app.sign_in_again(self.state, self):
            self.sync.sync_now("signed-in")

    def sign_out(self) -> None:
        from archpal_desktop.ui import account as ui_app
        if ui_app.sign_out(self.state, self):
            self.close()

    def _theme_changed(self, colors) -> None:
        theme.set_current(colors)
        self.toast.refresh_look()
        self.coach_card.refresh_look()
        self.chat.refresh_look()
        self.conversations.viewport().update()
        self.results.viewport().update()
        self.companion.set_emotion(self.companion.emotion)

