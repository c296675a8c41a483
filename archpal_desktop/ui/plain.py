"""Showing data (S3 titles, server and model text, e-mail addresses) as text, never as markup.

Qt guesses: a QLabel, a tooltip or a QMessageBox whose text *looks* like HTML is rendered as rich
text, and rich text loads resources: a conversation title ``<img src="file:///…">`` from another
client made labels read and draw a local file (``file://host/share`` on Windows opens an SMB
connection). Labels and boxes are set to plain text; a tooltip has no such switch, so text that
Qt would take for markup is escaped and wrapped so it is shown literally.
"""
from __future__ import annotations

import html
import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt  # mightBeRichText lives in QtGui's namespace
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from archpal_desktop import APP_NAME

Button = QMessageBox.StandardButton


def label(widget: QLabel) -> QLabel:
    widget.setTextFormat(Qt.TextFormat.PlainText)
    return widget


def tip(text: str) -> str:
    """A tooltip that shows ``text`` as it is (unchanged unless Qt would read it as markup)."""
    if not text or not GuiQt.mightBeRichText(text):
        return text
    return "<qt>" + html.escape(text).replace("\n", "<br/>") + "</qt>"


def notification(text: str) -> str:
    """A tray message body: Linux notification servers read it as markup (``<img src>``
    included, per the freedesktop spec's body-markup), so it is escaped there."""
    return html.escape(text, quote=False) if sys.platform.startswith("linux") else text


def message(parent: QWidget | None, icon: QMessageBox.Icon, text: str, *, title: str = APP_NAME,
            buttons: Button = Button.Ok, default: Button = Button.NoButton) -> Button:
    """QMessageBox.warning/question/... with the text shown as plain text."""
    box = QMessageBox(icon, title, text, buttons, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    if default != Button.NoButton:
        box.setDefaultButton(default)
    box.setObjectName("plainMessage")
    return Button(box.exec())


def warning(parent: QWidget | None, text: str, title: str = APP_NAME) -> None:
    message(parent, QMessageBox.Icon.Warning, text, title=title)


def critical(parent: QWidget | None, text: str, title: str = APP_NAME) -> None:
    message(parent, QMessageBox.Icon.Critical, text, title=title)


def information(parent: QWidget | None, text: str, title: str = APP_NAME) -> None:
    message(parent, QMessageBox.Icon.Information, text, title=title)


def question(parent: QWidget | None, text: str, *, title: str, buttons: Button,
             default: Button) -> Button:
    return message(parent, QMessageBox.Icon.Question, text, title=title, buttons=buttons,
                   default=default)
