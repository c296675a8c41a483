"""Settings: the assistant, appearance, sync and data folder; site-managed values read-only.

"Test connection" checks sign-in, S3 (the doctor's check) and the model in a worker and reports
each in words.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QGroupBox,
                               QFrame, QHBoxLayout, QLabel, QLineEdit, QPushButton, QScrollArea, QSpinBox,
                               QToolButton, QVBoxLayout, QWidget)

from archpal_desktop.core import config as cfg
from archpal_desktop.core.errors import map_exception
from archpal_desktop.ui import a11y, plain

log = logging.getLogger(__name__)

MANAGED = "Managed by your organisation"
#: how the access was obtained, in words (core.aws.AwsAccess.source)
SIGN_IN_WORDS = {"identity-pool": " with your university account",
                 "static": " with this computer's access keys", "default": " with this computer's access keys"}


def check_connection(state) -> list[tuple[str, bool, str]]:
    """Worker: (what, ok, words) for sign-in, S3 and the coach. These are the doctor's checks
    (core.doctor: what ``archpal-desktop doctor --coach`` runs), grouped under three headings; a
    part the doctor did not reach (it stops at the first failure) says so."""
    from archpal_desktop.core.doctor import FAIL, Doctor
    from archpal_desktop.core.errors import AuthExpiredError

    used = []   # the access the doctor got, for how the student is signed in

    def access():
        if state.access is None:
            raise AuthExpiredError("You are not signed in.", "Sign in from the File menu.")
        used.append(state.access())
        return used[-1]

    checks = Doctor(state.settings, access, coach_answers=True).run()

    def part(name: str) -> str:
        if name.startswith("sign-in") or name == "credentials":
            return "Sign-in"
        return "Coach model" if name.startswith("coach") else "Cloud storage (S3)"

    # the check that ends each part when all is well, and the words shown then
    last = {"Sign-in": "credentials", "Cloud storage (S3)": "delete probe", "Coach model": "coach answers"}
    how = SIGN_IN_WORDS.get(getattr(used[-1], "source", ""), "") if used else ""
    good = {"Sign-in": f"Signed in{how}.", "Cloud storage (S3)": "Your conversations can be saved online.",
            "Coach model": "The model answered."}
    first_fail = next((c for c in checks if c.status == FAIL), None)
    out: list[tuple[str, bool, str]] = []
    for what in ("Sign-in", "Cloud storage (S3)", "Coach model"):
        mine = {c.name: c for c in checks if part(c.name) == what}
        failed = next((c for c in mine.values() if c.status == FAIL), None)
        if failed is not None:
            out.append((what, False, f"{failed.detail} {failed.fix}".strip() if failed.fix else failed.detail))
        elif last[what] not in mine:
            stopped = part(first_fail.name).split(" (")[0].lower() if first_fail else "the rest"
            out.append((what, False, f"Not checked until {stopped} works."))
        else:
            out.append((what, True, good[what]))
    return out


class SettingsDialog(QDialog):
    """In the student's words first (their coach, the look, where their work is kept); the
    technical values (model ids, the local model's address, the sync interval, the storage
    bucket) under "Advanced", folded away until asked for. Every setting stays reachable."""

    applied = Signal()

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.settings = state.settings
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self.fields: dict[str, QWidget] = {}
        s = self.settings

        self.provider = QComboBox(self)
        self.provider.addItem("ArchPal's coach, online", "bedrock")
        self.provider.addItem("Local model on this computer", "openai")
        self.provider.setCurrentIndex(max(0, self.provider.findData(str(s[cfg.PROVIDER]))))
        self.provider.setToolTip("Who answers your messages. A local model (for example Ollama) "
                                 "runs on this computer; set its address under Advanced.")
        self.model = QLineEdit(str(s[cfg.ANTHROPIC_MODEL]), self)
        self.local_url = QLineEdit(str(s[cfg.OPENAI_BASE_URL]), self)
        self.local_url.setPlaceholderText("e.g. http://127.0.0.1:11434/v1 (Ollama)")
        self.local_model = QLineEdit(str(s[cfg.OPENAI_MODEL]), self)
        self.local_model.setPlaceholderText("e.g. llama3.1")
        self.theme = QComboBox(self)
        for label, value in (("Follow the system", "system"), ("Light", "light"), ("Dark", "dark")):
            self.theme.addItem(label, value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(str(s[cfg.THEME]))))
        self.font_size = QSpinBox(self)
        self.font_size.setRange(0, 32)
        self.font_size.setSpecialValueText("Usual size")
        self.font_size.setSuffix(" pt")
        self.font_size.setValue(int(s[cfg.FONT_SIZE] or 0))
        self.interval = QSpinBox(self)
        self.interval.setRange(15, 86_400)
        self.interval.setSuffix(" seconds")
        self.interval.setValue(int(s[cfg.SYNC_INTERVAL_SECONDS] or 120))
        self.data_dir = QLineEdit(str(s[cfg.DATA_DIR] or ""), self)
        self.data_dir.setPlaceholderText(str(s.data_dir()))
        self.bucket = QLineEdit(str(s[cfg.S3_BUCKET_NAME] or ""), self)
        self.bucket.setReadOnly(True)   # the school's: shown, never edited here
        self.bucket.setPlaceholderText("Not set")
        browse = QPushButton("Choose…", self)
        browse.setAccessibleName("Choose the folder for your work")
        browse.clicked.connect(self._browse)

        # accessible names say what each field is (never its current value)
        for key, w, name in ((cfg.PROVIDER, self.provider, "Your coach"),
                             (cfg.ANTHROPIC_MODEL, self.model, "Coach model id"),
                             (cfg.OPENAI_BASE_URL, self.local_url, "Local model address"),
                             (cfg.OPENAI_MODEL, self.local_model, "Local model name"),
                             (cfg.THEME, self.theme, "Look"),
                             (cfg.FONT_SIZE, self.font_size, "Text size"),
                             (cfg.SYNC_INTERVAL_SECONDS, self.interval, "In the background, sync every"),
                             (cfg.DATA_DIR, self.data_dir, "Folder for your work on this computer")):
            w.setAccessibleName(name)
            self.fields[key] = w
            if s.is_managed(key):
                w.setEnabled(False)
                w.setToolTip(MANAGED)
                w.setAccessibleDescription(MANAGED)
                if key == cfg.DATA_DIR:
                    browse.setEnabled(False)
        self.bucket.setAccessibleName("Online storage (bucket)")
        self.bucket.setAccessibleDescription("Set by your school; shown for help requests.")

        def row(key: str, w: QWidget) -> QWidget:
            if not s.is_managed(key):
                return w
            box = QWidget(self)
            lay = QHBoxLayout(box)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.addWidget(w, 1)
            note = QLabel(MANAGED, box)
            note.setObjectName("muted")
            lay.addWidget(note)
            return box

        def muted(text: str) -> QLabel:
            label = QLabel(text, self)
            label.setObjectName("muted")
            label.setWordWrap(True)
            return label

        coach = QGroupBox("Your coach", self)
        fc = QFormLayout(coach)
        fc.addRow("Who answers:", row(cfg.PROVIDER, self.provider))
        fc.addRow("", muted("ArchPal's coach needs the internet. A local model works offline; "
                            "it must be running on this computer."))
        look = QGroupBox("How it looks", self)
        fl = QFormLayout(look)
        fl.addRow("Colours:", row(cfg.THEME, self.theme))
        fl.addRow("Text size:", row(cfg.FONT_SIZE, self.font_size))
        fl.addRow("", muted("Ctrl+= and Ctrl+- change the text size too; Ctrl+0 goes back."))
        work = QGroupBox("Your work on this computer", self)
        fw = QFormLayout(work)
        dd = QWidget(self)
        dl = QHBoxLayout(dd)
        dl.setContentsMargins(0, 0, 0, 0)
        dl.addWidget(row(cfg.DATA_DIR, self.data_dir), 1)
        dl.addWidget(browse)
        fw.addRow("Kept in:", dd)
        fw.addRow("", muted("A new folder is used the next time ArchPal starts."))

        # -- Advanced: folded away until asked for ---------------------------------------------
        self.advanced_button = QToolButton(self)
        self.advanced_button.setObjectName("advancedToggle")
        self.advanced_button.setCheckable(True)
        self.advanced_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_button.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_button.setText("Advanced")
        self.advanced_button.setAccessibleName("Advanced settings")
        self.advanced_button.setAccessibleDescription("Model ids, the local model's address, how "
                                                      "often to sync, the storage bucket")
        self.advanced = QGroupBox(self)
        self.advanced.setObjectName("advanced")
        fa = QFormLayout(self.advanced)
        fa.addRow("Coach model id:", row(cfg.ANTHROPIC_MODEL, self.model))
        fa.addRow("Local model address:", row(cfg.OPENAI_BASE_URL, self.local_url))
        fa.addRow("Local model name:", row(cfg.OPENAI_MODEL, self.local_model))
        fa.addRow("In the background, sync every:", row(cfg.SYNC_INTERVAL_SECONDS, self.interval))
        fa.addRow("Storage bucket:", self.bucket)
        self.advanced.hide()
        self.advanced_button.toggled.connect(self._show_advanced)
        for form in (fc, fl, fw, fa):
            a11y.tie_form(form)   # each field labelled by its row's label

        self.test_button = QPushButton("Check the connection", self)
        self.test_button.setAccessibleName("Check the connection")
        self.test_button.setToolTip("Checks your sign-in, the online storage and the coach")
        self.test_button.clicked.connect(self.test_connection)
        self.test_result = plain.label(QLabel(self))
        self.test_result.setObjectName("testResult")
        a11y.value_label(self.test_result, "Connection check result")
        self.test_result.setWordWrap(True)
        self.error = plain.label(QLabel(self))
        self.error.setObjectName("statusError")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        # everything but Save/Cancel scrolls when it is taller than the screen (a big text size)
        self.content = QWidget(self)
        lay = QVBoxLayout(self.content)
        lay.setContentsMargins(0, 0, 0, 0)
        for w in (coach, look, work):
            lay.addWidget(w)
        lay.addWidget(self.advanced_button, 0, Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(self.advanced)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(self.test_result, 1)
        lay.addLayout(test_row)
        lay.addWidget(self.error)
        lay.addStretch(1)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.content)
        outer = QVBoxLayout(self)
        outer.addWidget(self.scroll, 1)
        outer.addWidget(buttons)
        self._fit()

    def _show_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self._fit()
        if shown:
            self.scroll.ensureWidgetVisible(self.advanced)

    def _fit(self) -> None:
        """Room for what shows, at the current text size (zoom), within the screen."""
        self.content.adjustSize()
        inner = self.content.sizeHint()
        m = self.layout().contentsMargins()
        extra_h = m.top() + m.bottom() + self.layout().spacing() + self.buttons.sizeHint().height()
        w = max(560, inner.width() + m.left() + m.right() + self.scroll.verticalScrollBar().sizeHint().width())
        h = inner.height() + extra_h + 4
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        if screen is not None:
            w, h = min(w, int(screen.width() * 0.95)), min(h, int(screen.height() * 0.9))
        self.resize(max(w, self.width() if self.isVisible() else 0), max(h, self.height() if self.isVisible() else 0))

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for your work", self.data_dir.text()
                                                  or str(self.settings.data_dir()))
        if folder:
            self.data_dir.setText(folder)

    def values(self) -> dict:
        return {cfg.PROVIDER: self.provider.currentData(), cfg.ANTHROPIC_MODEL: self.model.text().strip(),
                cfg.OPENAI_BASE_URL: self.local_url.text().strip(),
                cfg.OPENAI_MODEL: self.local_model.text().strip(), cfg.THEME: self.theme.currentData(),
                cfg.FONT_SIZE: self.font_size.value(), cfg.SYNC_INTERVAL_SECONDS: self.interval.value(),
                cfg.DATA_DIR: self.data_dir.text().strip()}

    def save(self) -> None:
        s = self.settings
        try:
            for key, value in self.values().items():
                if s.is_managed(key) or s[key] == value:
                    continue
                s.set_user(key, value)
        except Exception as exc:  # shown next to the buttons; nothing is lost
            self.error.setText(str(map_exception(exc)))
            self.error.show()
            a11y.announce(self.error, self.error.text(), polite=False)
            return
        self.applied.emit()
        self.accept()

    def test_connection(self) -> None:
        self.test_button.setEnabled(False)
        self.test_result.setText("Testing…")
        state = self.state

        def shown(rows) -> None:
            self.test_button.setEnabled(True)
            self.test_result.setText("\n".join(f"{'✔' if ok else '✘'} {what}: {words}"
                                               for what, ok, words in rows))
            self._fit()
            a11y.announce(self.test_result, self.test_result.text())

        def failed(exc) -> None:
            self.test_button.setEnabled(True)
            self.test_result.setText(str(map_exception(exc)))
            a11y.announce(self.test_result, self.test_result.text())
        state.tasks.run_in_background(lambda: check_connection(state), shown, failed)
