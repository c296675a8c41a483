"""Feedback a person sees: a toast over the bottom of the chat pane, and the coach's error card.

:class:`Toast` replaces the status-bar flash (whose permanent widgets left it about 2 px): one
banner, centred over the chat, readable in every theme, said by screen readers. It hides by
itself after a few seconds, but never while the pointer is over it or the keyboard is in it; it
has a close button, and may carry one action (Undo). A new message replaces the one shown; a
replaced or expired toast with an action runs its ``on_expire`` (e.g. the delete goes through),
so nothing waits hidden.

:class:`CoachErrorCard` shows a coach error (throttled, access denied, a model error...) in the
chat, where the reply would have been, with the action that fits (Try again / Open settings /
Sign in again). An offline coach is not an error card: the messages simply wait.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from archpal_desktop.ui import a11y, plain, theme

DEFAULT_MS = 5000
ACTION_MS = 7000          # a toast with Undo stays longer: the person has to read, then decide


def _toast_sheet(c: theme.Colors) -> str:
    # a dark chip on a light window, a light one on a dark window: always readable (>= 7:1)
    bg, fg = (c.text, c.window)
    return (f"QFrame#toast {{ background: {bg}; border: 1px solid {c.reply_border}; border-radius: 8px; }}"
            f"QFrame#toast QLabel {{ color: {fg}; background: transparent; }}"
            f"QFrame#toast QPushButton {{ color: {fg}; background: transparent; border: 1px solid {fg};"
            f" border-radius: 4px; padding: 3px 10px; }}"
            f"QFrame#toast QPushButton:focus {{ border: 2px solid {c.focus}; }}"
            f"QFrame#toast QPushButton#toastClose {{ border: none; padding: 3px 6px; }}"
            f"QFrame#toast QPushButton#toastClose:focus {{ border: 2px solid {c.focus}; }}")


class Toast(QFrame):
    """The one toast of a chat pane (a child of ``host``, kept over ``anchor``'s bottom)."""

    shown_text = Signal(str)

    def __init__(self, host: QWidget, anchor: QWidget):
        super().__init__(host)
        self.setObjectName("toast")
        self.setAccessibleName("Notification")
        self._anchor = anchor
        self.label = plain.label(QLabel(self))
        self.label.setObjectName("toastText")
        self.label.setWordWrap(True)
        self.action = QPushButton(self)
        self.action.setObjectName("toastAction")
        self.action.hide()
        self.close_button = QPushButton("✕", self)
        self.close_button.setObjectName("toastClose")
        self.close_button.setAccessibleName("Dismiss the notification")
        self.close_button.setToolTip("Dismiss")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(14, 8, 8, 8)
        lay.setSpacing(10)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.action)
        lay.addWidget(self.close_button)
        self.timer = QTimer(self, singleShot=True)
        self.timer.setObjectName("toastTimer")
        self.timer.timeout.connect(self._expire)
        self.action.clicked.connect(self._act)
        self.close_button.clicked.connect(self._expire)
        self._on_action: Callable[[], None] | None = None
        self._on_expire: Callable[[], None] | None = None
        self._ms = DEFAULT_MS
        anchor.installEventFilter(self)
        self.refresh_look()
        self.hide()

    # -- showing ----------------------------------------------------------------------------------
    def show_message(self, text: str, ms: int = DEFAULT_MS, *, action: str = "",
                     on_action: Callable[[], None] | None = None,
                     on_expire: Callable[[], None] | None = None, error: bool = False) -> None:
        self._settle()                       # the one shown is replaced: its pending step runs
        self.label.setText(text)
        self.action.setText(action)
        self.action.setAccessibleName(action)
        self.action.setVisible(bool(action))
        self._on_action, self._on_expire = on_action, on_expire
        self._ms = max(ms, ACTION_MS) if action else ms
        self._place()
        self.show()
        self.raise_()
        self._restart()
        a11y.announce(self, f"{text} {action}".strip() if action else text, polite=not error, repeat=True)
        self.shown_text.emit(text)

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""

    def run_action(self) -> bool:
        """The toast's action from the keyboard (Edit ▸ Undo delete); False if there is none."""
        if not (self.isVisible() and self.action.isVisible() and self._on_action is not None):
            return False
        self._act()
        return True

    def dismiss(self) -> None:
        """Hide now; a pending step (the delete behind Undo) goes through."""
        self._expire()

    def refresh_look(self) -> None:
        self.setStyleSheet(_toast_sheet(theme.current()))

    # -- timing -------------------------------------------------------------------------------------
    def _held(self) -> bool:
        focus = self.window().focusWidget() if self.window() else None
        return self.underMouse() or (focus is not None and self.isAncestorOf(focus))

    def _restart(self) -> None:
        if not self._held():
            self.timer.start(self._ms)

    def _expire(self) -> None:
        if self.sender() is self.timer and self._held():
            return                            # leaving the toast restarts the timer
        self.timer.stop()
        self._settle()
        self.hide()

    def _settle(self) -> None:
        done, self._on_expire, self._on_action = self._on_expire, None, None
        if done is not None:
            done()

    def _act(self) -> None:
        run, self._on_expire, self._on_action = self._on_action, None, None
        self.timer.stop()
        self.hide()
        if run is not None:
            run()

    def enterEvent(self, event) -> None:  # noqa: N802 - the pointer holds it
        self.timer.stop()
        super().enterEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802
        if self.isVisible() and not self._held():
            self.timer.start(self._ms)
        super().leaveEvent(event)

    def focusInEvent(self, event) -> None:  # noqa: N802
        self.timer.stop()
        super().focusInEvent(event)

    def childEvent(self, event) -> None:  # noqa: N802
        super().childEvent(event)
        if event.type() == QEvent.Type.ChildAdded and isinstance(event.child(), QWidget):
            event.child().installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        kind = event.type()
        if obj is self._anchor and kind in (QEvent.Type.Resize, QEvent.Type.Move, QEvent.Type.Show):
            if self.isVisible():
                self._place()
        elif obj is not self._anchor and kind == QEvent.Type.FocusIn:
            self.timer.stop()                 # the keyboard is in it: it stays
        elif obj is not self._anchor and kind == QEvent.Type.FocusOut and self.isVisible():
            QTimer.singleShot(0, self, self._restart)
        return False

    # -- geometry -----------------------------------------------------------------------------------
    def _place(self) -> None:
        area = self._anchor.geometry()          # in the host's coordinates
        width = min(max(320, int(area.width() * 0.7)), 640, max(area.width() - 24, 120))
        self.setFixedWidth(width)
        self.adjustSize()
        height = self.heightForWidth(width) if self.hasHeightForWidth() else self.sizeHint().height()
        height = max(height, self.sizeHint().height())
        self.resize(width, height)
        self.move(area.x() + (area.width() - width) // 2, area.bottom() - height - 12)


# -- the coach's error, in the chat ---------------------------------------------------------------
ACTION_WORDS = {"retry": "Try again", "settings": "Open settings", "sign-in": "Sign in again"}


def coach_action(err) -> str:
    from archpal_desktop.core.errors import AccessDeniedError, AuthError, ConfigError
    if getattr(err, "code", "") == "quota_exceeded":
        return ""            # today's time is used up: nothing to press, the message waits
    if isinstance(err, AuthError):
        return "sign-in"
    if isinstance(err, (AccessDeniedError, ConfigError)):
        return "settings"
    return "retry"


def _card_sheet(c: theme.Colors) -> str:
    return (f"QFrame#coachError {{ background: {c.reply_bubble}; border: 1px solid {c.error};"
            f" border-left: 4px solid {c.error}; border-radius: 10px; }}"
            f"QFrame#coachError QLabel {{ background: transparent; color: {c.text}; }}"
            f"QFrame#coachError QLabel#coachErrorTitle {{ color: {c.error}; font-weight: bold; }}")


class CoachErrorCard(QFrame):
    """Why the coach did not answer, where its reply would have been, with what to do."""

    action_requested = Signal(str)   # "retry" | "settings" | "sign-in"
    shown_changed = Signal(bool)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.shown_changed.emit(True)

    def hideEvent(self, event) -> None:  # noqa: N802
        super().hideEvent(event)
        self.shown_changed.emit(False)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("coachError")
        self.setAccessibleName("ArchPal could not answer")
        self.title = QLabel("ArchPal could not answer", self)
        self.title.setObjectName("coachErrorTitle")
        self.detail = plain.label(QLabel(self))        # the model's own words may be in it
        self.detail.setObjectName("coachErrorText")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.button = QPushButton(self)
        self.button.setObjectName("coachErrorAction")
        self.close_button = QPushButton("Dismiss", self)
        self.close_button.setObjectName("coachErrorDismiss")
        row = QHBoxLayout()
        row.addWidget(self.button)
        row.addWidget(self.close_button)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 10, 14, 10)
        lay.addWidget(self.title)
        lay.addWidget(self.detail)
        lay.addLayout(row)
        self._action = "retry"
        self.button.clicked.connect(self._act)
        self.close_button.clicked.connect(self.hide)
        self.refresh_look()
        self.hide()

    def show_error(self, words: str, action: str) -> None:
        self._action = action if action in ACTION_WORDS else ""
        self.detail.setText(words)
        self.button.setText(ACTION_WORDS.get(self._action, ""))
        self.button.setAccessibleName(self.button.text())
        self.button.setVisible(bool(self._action))
        self.show()
        a11y.announce(self, f"ArchPal could not answer. {words}", polite=False, repeat=True)

    def _act(self) -> None:
        self.hide()
        self.action_requested.emit(self._action)

    def refresh_look(self) -> None:
        self.setStyleSheet(_card_sheet(theme.current()))
