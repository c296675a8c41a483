"""What the conversation pane does for a person on one message: copy it, open it in full or an
attachment of it, follow a link in it (with the link rule of :mod:`archpal_desktop.core.links`),
and its context menu.

Plain functions over a :class:`~archpal_desktop.ui.chat_view.ChatView`; the view keeps the public
methods (``copy_message``, ``activate_link``, …) and hands the work here.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QContextMenuEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMenu

from archpal_desktop.core import links
from archpal_desktop.core.cache import Message
from archpal_desktop.ui import markdown, plain
from archpal_desktop.ui.bubble_delegate import time_text

if TYPE_CHECKING:
    from archpal_desktop.ui.chat_view import ChatView

log = logging.getLogger("archpal_desktop.ui.chat_view")


def copy_message(view: ChatView, msg: Message | None = None) -> None:
    """Plain text (what is shown) and, for apps that take it, the Markdown source."""
    msg = msg or view.current_message() or view.chat_model.last()
    if msg is None:
        return
    data = QMimeData()
    data.setText(markdown.plain_text(msg.content) if msg.role == "assistant" else msg.content)
    data.setData("text/markdown", msg.content.encode("utf-8"))
    QGuiApplication.clipboard().setMimeData(data)
    view.message_copied.emit(msg.message_id)


def copy_markdown(view: ChatView, msg: Message | None) -> None:
    if msg is not None:
        QGuiApplication.clipboard().setText(msg.content)
        view.message_copied.emit(msg.message_id)


def copy_text(view: ChatView, text: str, msg: Message | None) -> None:
    QGuiApplication.clipboard().setText(text)
    view.message_copied.emit(msg.message_id if msg else "")


def show_all(view: ChatView, msg: Message | None) -> None:
    if msg is not None:
        from archpal_desktop.ui.long_text import LongTextViewer
        who = "Your message" if msg.role == "user" else "ArchPal's reply"
        LongTextViewer.show_text(view, f"{who}, {time_text(msg.timestamp)}", msg.content)


def open_attachment(view: ChatView, msg: Message | None, i: int) -> None:
    if msg is None:
        return
    found = markdown.display_source(msg.content).attachments
    if 0 <= i < len(found):
        from archpal_desktop.ui.long_text import LongTextViewer
        name, text = found[i]
        LongTextViewer.show_text(view, name, text)


def activate_link(view: ChatView, href: str, text: str = "") -> bool:
    """Links open only on a click, only https:/mailto:, outside the app; one whose text names
    another host, or with user info, only once the person has seen the real host."""
    verdict = links.check(href, text)
    if verdict.verdict == links.REFUSE:
        log.info("refused to open a link with scheme %r", href.split(":", 1)[0])
        view.link_refused.emit(href)
        return False
    if verdict.verdict == links.ASK and plain.question(
            view, f"{verdict.reason}\n\nOpen https://{verdict.host}/… in your browser?",
            title="Open this link?", buttons=plain.Button.Open | plain.Button.Cancel,
            default=plain.Button.Cancel) != plain.Button.Open:
        return False
    return markdown.open_link(href)


def context_menu(view: ChatView, event: QContextMenuEvent) -> None:
    idx = view.indexAt(event.pos())
    if idx.isValid():
        view.setCurrentIndex(idx)
    msg = view.current_message()
    menu = QMenu(view)
    copy = menu.addAction("Copy message")
    copy.setShortcut(QKeySequence.StandardKey.Copy)
    copy.setEnabled(msg is not None)
    copy.triggered.connect(lambda: view.copy_message(msg))
    if msg is not None:
        menu.addAction("Copy as Markdown").triggered.connect(lambda: view.copy_markdown(msg))
        if msg.role == "user":
            menu.addAction("Edit as a new message").triggered.connect(
                lambda: view.edit_requested.emit(msg.content))
    if msg is not None and msg.local_state == "failed":
        menu.addAction("Retry reply").triggered.connect(lambda: view.retry_requested.emit(msg.message_id))
    if msg is not None and msg.local_state == "streaming":
        menu.addAction("Stop reply").triggered.connect(view.stop_requested.emit)
    menu.exec(event.globalPos())
