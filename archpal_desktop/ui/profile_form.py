"""The profile form: first name, last name, college year, major, course number (all required,
trimmed), saved as ``info.json`` in the web app's format through ``Store.save_profile``.

When to show it (the window's job): after the first sign-in and the first sync, if
``store.get_profile()`` is still None (no ``info.json`` in the cache or in S3). A returning user's
profile comes from the cache or S3 and the form is skipped; ``ProfileForm(store, profile=...)``
edits it later. The save runs on the task runner's database worker, never on the UI thread.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar,
    QPushButton, QVBoxLayout, QWidget,
)

from archpal_desktop.core import layout
from archpal_desktop.core.errors import ArchPalError, map_exception
from archpal_desktop.ui import a11y, plain
from archpal_desktop.ui.tasks import TaskManager

log = logging.getLogger(__name__)

LABELS = {"first_name": "First name", "last_name": "Last name", "college_year": "College year",
          "major": "Major", "course_number": "Course number"}
PLACEHOLDERS = {"major": "e.g. History", "course_number": "e.g. ENGL 1101"}
CHOOSE = "Choose your year…"
#: ``done()`` code when the student chose to sign out instead of filling the first-run form
SIGN_OUT = 2
WHY = ("ArchPal coaches you for your course: it uses your name, year, major and course number to "
       "pitch its advice, and your teacher's ArchPal shows them beside your conversations, as on "
       "the website. Nothing is sent until you press Save.\n\nYou can fill it in now, or sign "
       "out and come back later: your sign-in is kept until you sign out.")


class ProfileForm(QDialog):
    saved = Signal(dict)  # the profile as stored (web-app info.json fields)

    def __init__(self, store, email: str = "", profile: dict | None = None,
                 tasks: TaskManager | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.email = email
        self.tasks = tasks or TaskManager(self)
        self.busy = False
        editing = self.editing = bool(profile)
        self.setObjectName("profile_form")
        self.setWindowTitle("Your profile" if editing else "Welcome to ArchPal")
        top = QVBoxLayout(self)
        self.form_page = QWidget(self)
        top.addWidget(self.form_page)
        self.why_page = self._why_page()
        top.addWidget(self.why_page)
        outer = QVBoxLayout(self.form_page)
        outer.setContentsMargins(0, 0, 0, 0)
        intro = QLabel("Update your details." if editing else
                       "Tell ArchPal a little about yourself so it can coach you for your course.")
        intro.setWordWrap(True)
        outer.addWidget(intro)
        self.page_error = self._error("profile_error")
        outer.addWidget(self.page_error)
        form = QFormLayout()
        outer.addLayout(form)
        self.inputs: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        for key in layout.PROFILE_TEXT_FIELDS:
            if key == "college_year":
                widget = QComboBox()
                widget.addItem(CHOOSE, "")
                for year in layout.COLLEGE_YEARS:
                    widget.addItem(year, year)
                widget.currentIndexChanged.connect(lambda _i, k=key: self._set_error(k, ""))
            else:
                widget = QLineEdit()
                widget.setPlaceholderText(PLACEHOLDERS.get(key, ""))
                widget.textEdited.connect(lambda _t, k=key: self._set_error(k, ""))
                widget.returnPressed.connect(self._save)
            widget.setObjectName(f"profile_{key}")
            error = self._error(f"profile_{key}_error")
            box = QVBoxLayout()
            box.setSpacing(2)
            box.addWidget(widget)
            box.addWidget(error)
            form.addRow(a11y.label_for(LABELS[key], widget), box)
            a11y.mark_required(widget)
            self.inputs[key], self.errors[key] = widget, error
        if profile:
            self._fill(profile)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumHeight(6)
        self.progress.setTextVisible(False)
        self.progress.hide()
        outer.addWidget(self.progress)
        buttons = QDialogButtonBox()
        self.save_button = buttons.addButton("Save", QDialogButtonBox.AcceptRole)
        self.save_button.setObjectName("profile_save")
        self.save_button.setDefault(True)
        if editing:
            buttons.addButton(QDialogButtonBox.Cancel)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        outer.addWidget(buttons)
        self.setMinimumWidth(420)
        self.inputs["first_name"].setFocus()

    def _why_page(self) -> QWidget:
        """First run: Esc or closing says why the profile is needed, never quits silently."""
        page = QWidget(self)
        page.setObjectName("profile_why")
        title = QLabel("Your profile is needed to start", page)
        title.setObjectName("profile_why_title")
        f = title.font()
        f.setBold(True)
        title.setFont(f)
        text = QLabel(WHY, page)
        text.setObjectName("profile_why_text")
        text.setWordWrap(True)
        self.back_button = QPushButton("Fill in my profile", page)
        self.back_button.setObjectName("profile_back")
        self.back_button.setDefault(True)
        self.sign_out_button = QPushButton("Sign out", page)
        self.sign_out_button.setObjectName("profile_sign_out")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.sign_out_button)
        row.addWidget(self.back_button)
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(title)
        lay.addWidget(text, 1)
        lay.addLayout(row)
        self.back_button.clicked.connect(self.show_form)
        self.sign_out_button.clicked.connect(lambda: self.done(SIGN_OUT))
        page.hide()
        return page

    def show_why(self) -> None:
        self.form_page.hide()
        self.why_page.show()
        self.back_button.setFocus()
        a11y.announce(self.why_page, "Your profile is needed to start. " + WHY, polite=False)

    def show_form(self) -> None:
        self.why_page.hide()
        self.form_page.show()
        self.save_button.setDefault(True)
        self.inputs["first_name"].setFocus()

    @staticmethod
    def _error(name: str) -> QLabel:
        return a11y.error_label(name)

    def _set_error(self, key: str, text: str) -> None:
        label = self.errors.get(key, self.page_error)
        a11y.set_field_error(self.inputs.get(key), label, text)
        if text and not key:
            a11y.announce(label, text, polite=False)

    def _fill(self, profile: dict) -> None:
        for key, widget in self.inputs.items():
            value = str(profile.get(key) or "")
            if isinstance(widget, QComboBox):
                index = widget.findData(value)
                widget.setCurrentIndex(max(index, 0))
            else:
                widget.setText(value)

    def values(self) -> dict[str, str]:
        out = {}
        for key, widget in self.inputs.items():
            out[key] = (widget.currentData() or "") if isinstance(widget, QComboBox) else widget.text().strip()
        return out

    def reject(self) -> None:
        """Esc or the window's close button. Editing: cancel. The first run: say why first."""
        if self.busy:
            return
        if self.editing:
            super().reject()
        else:   # the why page stays until the student picks: back to the form, or Sign out
            self.show_why()

    def _save(self) -> None:
        if self.busy:
            return
        fields = self.values()
        for key in list(self.errors) + [""]:
            self._set_error(key, "")
        problems = layout.validate_profile(fields)
        if problems:
            for key, problem in problems.items():
                self._set_error(key, "Choose your college year." if key == "college_year" else problem)
            self.inputs[next(k for k in layout.PROFILE_TEXT_FIELDS if k in problems)].setFocus()
            return
        self.busy = True
        self.progress.show()
        self.save_button.setEnabled(False)
        for widget in self.inputs.values():
            widget.setEnabled(False)

        def done(profile: dict) -> None:
            self._idle()
            self.saved.emit(profile)
            self.accept()

        def failed(exc: BaseException) -> None:
            self._idle()
            err = exc if isinstance(exc, ArchPalError) else map_exception(exc)
            self._set_error("", str(err))

        store, email = self.store, self.email
        self.tasks.run_db(lambda: store.save_profile(fields, email=email), done, failed)

    def _idle(self) -> None:
        self.busy = False
        self.progress.hide()
        self.save_button.setEnabled(True)
        for widget in self.inputs.values():
            widget.setEnabled(True)
