"""The sign-in dialog's building block: a titled form with an error line under each field, a
page error, a filled primary button, links that look like links, and a show-password switch."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QToolButton,
    QVBoxLayout, QWidget,
)

from archpal_desktop.ui import a11y
from archpal_desktop.ui.auth_browser import PRIMARY_STYLE


class Page(QWidget):
    """A titled form: fields with an error line under each, a page error, buttons."""

    def __init__(self, name: str, title: str, intro: str = ""):
        super().__init__()
        self.setObjectName(f"page_{name}")
        self.name = name
        self.fields: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        layout = QVBoxLayout(self)
        heading = QLabel(title)
        heading.setObjectName("title")
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        heading.setFont(font)
        layout.addWidget(heading)
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        self.intro.setObjectName(f"{name}_intro")
        self.intro.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.intro.setVisible(bool(intro))
        layout.addWidget(self.intro)
        self.page_error = self._error_label(f"{name}_error")
        layout.addWidget(self.page_error)
        self.form = QFormLayout()
        self.form.setRowWrapPolicy(QFormLayout.WrapLongRows)
        layout.addLayout(self.form)
        self.buttons = QHBoxLayout()
        layout.addLayout(self.buttons)
        self.links = QHBoxLayout()
        layout.addLayout(self.links)
        layout.addStretch(1)
        self.primary: QPushButton | None = None

    @staticmethod
    def _error_label(name: str) -> QLabel:
        return a11y.error_label(name)   # themed colour, a mark, its words read as its text (plain)

    def add_field(self, key: str, label: str, *, secret: bool = False, placeholder: str = "") -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(f"{self.name}_{key}")
        edit.setPlaceholderText(placeholder)
        edit.setAccessibleName(label)
        error = self._error_label(f"{self.name}_{key}_error")
        box = QVBoxLayout()
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        if secret:
            edit.setEchoMode(QLineEdit.Password)
            row = QHBoxLayout()
            row.setSpacing(4)
            row.addWidget(edit, 1)
            row.addWidget(self._show_toggle(edit, label))
            box.addLayout(row)
        else:
            box.addWidget(edit)
        box.addWidget(error)
        self.form.addRow(a11y.label_for(label, edit), box)
        a11y.mark_required(edit)
        self.fields[key] = edit
        self.errors[key] = error
        edit.textEdited.connect(lambda _t, k=key: self.set_error(k, ""))
        return edit

    @staticmethod
    def _show_toggle(edit: QLineEdit, label: str) -> QToolButton:
        """A "Show" switch beside the field (issue 11 point 7), as every sign-in form has."""
        toggle = QToolButton()
        toggle.setObjectName(f"{edit.objectName()}_show")
        toggle.setText("Show")
        toggle.setCheckable(True)
        toggle.setAutoRaise(True)
        toggle.setCursor(Qt.PointingHandCursor)
        toggle.setAccessibleName(f"Show the {label.lower()}")
        toggle.setFocusPolicy(Qt.TabFocus)

        def flip(on: bool) -> None:
            edit.setEchoMode(QLineEdit.Normal if on else QLineEdit.Password)
            toggle.setText("Hide" if on else "Show")
            toggle.setAccessibleName(f"{'Hide' if on else 'Show'} the {label.lower()}")

        toggle.toggled.connect(flip)
        return toggle

    def add_primary(self, text: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(f"{self.name}_submit")
        button.setStyleSheet(PRIMARY_STYLE)  # the one filled button of the page
        self.buttons.addStretch(1)
        self.buttons.addWidget(button)
        self.primary = button
        return button

    def add_link(self, text: str, name: str, own_row: bool = False) -> QPushButton:
        link = QPushButton(text)
        link.setObjectName(f"{self.name}_{name}")
        link.setFlat(True)
        link.setAutoDefault(False)
        link.setCursor(Qt.PointingHandCursor)
        # a link looks like a link: no button face, the palette's link colour, underlined
        link.setStyleSheet("QPushButton { color: palette(link); text-decoration: underline; "
                           "border: none; background: transparent; padding: 2px 4px; }"
                           "QPushButton:focus { border: 2px solid palette(highlight); }")  # a11y focus ring
        if own_row:
            row = QHBoxLayout()
            row.addWidget(link)
            row.addStretch(1)
            # before the closing stretch
            self.layout().insertLayout(self.layout().count() - 1, row)
        else:
            self.links.addWidget(link)
        return link

    def set_error(self, key: str, text: str) -> None:
        label = self.errors.get(key, self.page_error) if key else self.page_error
        a11y.set_field_error(self.fields.get(key) if key else None, label, text)
        if text and not key:
            a11y.announce(label, text, polite=False)

    def clear_errors(self) -> None:
        for key in list(self.errors) + [""]:
            self.set_error(key, "")

    def value(self, key: str) -> str:
        return self.fields[key].text()
