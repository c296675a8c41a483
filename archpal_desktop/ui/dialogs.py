"""Small dialogs: About."""
from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QVBoxLayout

from archpal_desktop import APP_NAME, __version__
from archpal_desktop.core import paths
from archpal_desktop.ui import companion


class AboutDialog(QDialog):
    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"About {APP_NAME}")
        self.setAccessibleName(f"About {APP_NAME}")
        pic = QLabel(self)
        pic.setPixmap(companion.pixmap("hello", 96, self.devicePixelRatioF()))
        pic.setAccessibleName("ArchPal waving hello")
        try:
            logs = str(paths.user_log_dir())
        except Exception:  # the About box must open even if the log folder cannot be resolved
            logs = "unknown"
        text = QLabel(self)
        text.setObjectName("aboutText")
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.setText(
            f"<h2>{APP_NAME} Desktop</h2><p>Version {html.escape(__version__)}</p>"
            "<p>Your writing coach, offline-first. ArchPal helps you brainstorm, plan, draft, revise "
            "and reflect; it never writes your assignment for you.</p>"
            f"<p><b>Data folder:</b> {html.escape(str(state.data_dir))}<br/>"
            f"<b>Log folder:</b> {html.escape(logs)}<br/>"
            f"<b>Signed in as:</b> {html.escape(state.email or state.sub)}</p>")
        text.setWordWrap(True)
        self.text = text
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(pic, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(text, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(buttons)
        self.resize(520, 280)
