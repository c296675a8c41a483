"""What the window says about the coach, apart from sync (issue 11, broken 4).

Online-for-sync and "the coach can't be reached" are two states. Sync owns the connection label
(it alone says Offline, from its own requests); the coach's state is a note beside it, set once
when a run finds the model unreachable and cleared when a run reaches it. While it is
unreachable the coach is retried on its own slow timer, not after every sync: a sync that
succeeds no longer restarts a run that fails at once (that loop made the status alternate
between "Online · ArchPal is writing… [Stop]" and "Offline" every 15 s).

A coach error that is not about reachability (throttled, access denied, a model error) is shown
in the chat, where the reply would have been, with its action (:class:`~.toast.CoachErrorCard`).
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from archpal_desktop.ui.toast import coach_action

COACH_RETRY_MS = 30_000
UNREACHABLE = "ArchPal can't be reached right now: your messages are saved and wait for it"


class CoachState(QObject):
    """Wires the reply controller's outcomes to the status note, the error card and the toast."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.replies = window.replies
        self.sync = window.sync
        self.status = window.status
        self.card = window.coach_card
        self.unreachable = False
        self.retry_timer = QTimer(self, singleShot=True)
        self.retry_timer.setObjectName("coachRetry")
        self.retry_timer.timeout.connect(self.replies.kick)
        self.replies.offline.connect(self._offline)
        self.replies.coach_error.connect(self._error)
        self.replies.coach_reachable.connect(self._reachable)
        self.replies.reply_started.connect(lambda _m: self.card.hide())
        self.card.action_requested.connect(self._act)
        self.card.shown_changed.connect(self._card_shown)
        self._net_was_down = False
        self.sync.state_changed.connect(self._sync_state)

    def _sync_state(self, state) -> None:
        if state.online is False:
            self._net_was_down = True

    def _offline(self, _words: str) -> None:
        if not self.unreachable:
            self.unreachable = True
            self.status.set_coach(UNREACHABLE)
            self.window.flash("Saved. ArchPal will answer when it can be reached again.", 6000)
            # is it only the coach, or the whole network? sync's own requests tell: the saved
            # message's upload is already due within a second or two (ui/sync_driver.py)
        self.retry_timer.start(COACH_RETRY_MS)

    def _reachable(self) -> None:
        self.retry_timer.stop()
        if self.unreachable:
            self.unreachable = False
            self.status.set_coach("")

    def _error(self, words: str, err) -> None:
        self._reachable()     # it answered, with a refusal: reachable
        self.card.show_error(words, coach_action(err))

    def _card_shown(self, shown: bool) -> None:
        chat = self.window.chat
        chat.chat_model.coach_refused = shown
        chat.delegate.reset_caches()
        chat.viewport().update()

    def after_sync(self) -> None:
        """A sync ended: answer what waits, unless the coach is known unreachable (its timer does)."""
        if not self.unreachable or self._net_was_down:   # the network is back: try the coach now
            self._net_was_down = False
            self.replies.kick()

    def _act(self, action: str) -> None:
        if action == "settings":
            self.window.account.open_settings()
        elif action == "sign-in":
            self.window.account.sign_in_again()
        self.replies.kick()

    def stop(self) -> None:
        self.retry_timer.stop()
