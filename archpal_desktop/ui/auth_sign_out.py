"""Signing out: asks first, offers to remove this user's local data, and (after a browser
sign-in) to end the university sign-in page's own session in the browser."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget
from archpal_desktop.ui import plain


class SignOutDialog(QDialog):
    """Sign out, optionally removing this user's cached conversations from this computer."""

    def __init__(self, email: str, pending_uploads: int = 0, parent: QWidget | None = None,
                 browser: bool = False):
        super().__init__(parent)
        self.setWindowTitle("Sign out")
        self.setObjectName("sign_out_dialog")
        layout = QVBoxLayout(self)
        text = plain.label(QLabel())
        text.setText(f"Sign out {email} from ArchPal on this computer and your other devices?")
        text.setWordWrap(True)
        layout.addWidget(text)
        self.remove_data = QCheckBox("Also remove my conversations from this computer")
        self.remove_data.setObjectName("remove_data")
        layout.addWidget(self.remove_data)
        note = QLabel("They stay in your account online; only this computer's copy is deleted.")
        note.setWordWrap(True)
        note.setIndent(22)
        layout.addWidget(note)
        # a browser sign-in leaves the university page's own session open in the browser: the
        # next sign-in there would go straight through as this person (shared lab computers)
        self.end_browser = QCheckBox("Also sign out of the university's sign-in page in my browser")
        self.end_browser.setObjectName("end_browser_session")
        self.end_browser.setChecked(browser)
        self.end_browser.setVisible(browser)
        layout.addWidget(self.end_browser)
        self.warning = QLabel(f"{pending_uploads} change(s) have not been uploaded yet and would be "
                              "lost. Go online and sync first to keep them." if pending_uploads else "")
        self.warning.setObjectName("remove_warning")
        self.warning.setWordWrap(True)
        self.warning.setProperty("a11yError", True)   # the theme's error colour (readable on dark)
        self.warning.setTextFormat(Qt.TextFormat.PlainText)
        self.warning.hide()
        layout.addWidget(self.warning)
        def toggled(on: bool) -> None:
            self.warning.setVisible(on and bool(pending_uploads))
            self.resize(self.width(), self.sizeHint().height())  # room for the warning

        self.remove_data.toggled.connect(toggled)
        self.setMinimumWidth(460)
        # parented at once: a default set on a button outside the dialog is forgotten, and the
        # dialog then made Cancel its default (Enter cancelled the sign-out)
        buttons = QDialogButtonBox(QDialogButtonBox.Cancel, self)
        self.ok = buttons.addButton("Sign out", QDialogButtonBox.AcceptRole)
        self.ok.setObjectName("sign_out")
        self.ok.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
