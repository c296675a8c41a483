"""Writing sprints in the window: the coach's offer accepted or declined, the student's own
sprint (Chat ▸ Start a writing sprint…), the running bar, the words written, the tray icon's
tooltip, and the end: the coach's reflection question in the conversation, a system
notification and a gentle sound that can be turned off.

The timing is :mod:`archpal_desktop.core.sprints` (Qt-free, the clock injected: ``AppState.clock``,
the system's by default); every cache read and write runs on the task runner's database worker.
A QTimer only looks at the clock twice a second while a sprint runs, so a sprint ends on time
whether the window is shown, in the background or minimised.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from archpal_desktop.core import config as cfg
from archpal_desktop.core.attachments import count_words
from archpal_desktop.core.errors import NotFoundError, map_exception
from archpal_desktop.core.sprints import Ended, Sprint, SprintBook, SystemClock, remaining_text
from archpal_desktop.ui import a11y, plain
from archpal_desktop.ui.companion import app_icon
from archpal_desktop.ui.shortcuts import keys
from archpal_desktop.ui.sprint_bar import SprintBar

log = logging.getLogger(__name__)

END_TITLE = "Sprint over: how did it go?"


class SprintController(QObject):
    started = Signal(object)   # Sprint
    ended = Signal(object)     # core.sprints.Ended
    TICK_MS = 500

    def __init__(self, window):
        super().__init__(window)
        self.w = window
        self.book = SprintBook(window.store)   # used on the database worker only
        self.clock = getattr(window.state, "clock", None) or SystemClock()
        self.sprint: Sprint | None = None
        self.sent_words = 0
        self.draft_delta = 0
        self.tray_text = ""
        self._ending = False
        self.bar = SprintBar(window)
        self.timer = QTimer(self)
        self.timer.setInterval(self.TICK_MS)
        self.timer.timeout.connect(self.tick)
        self.bar.pause_clicked.connect(self.toggle_pause)
        self.bar.extend_clicked.connect(lambda: self._change("extend"))
        self.bar.stop_clicked.connect(lambda: self.finish("stopped"))
        self.bar.close_clicked.connect(self.bar.hide)
        window.chat.sprint_start_requested.connect(self.accept_offer)
        window.chat.sprint_decline_requested.connect(self.decline_offer)
        window.conversation_opened.connect(self._refresh_offers)
        window.replies.message_sent.connect(self._message_sent)
        window.composer.edit.textChanged.connect(self._show_words)
        theme = getattr(window.state, "theme", None)
        if theme is not None:
            theme.changed.connect(self.bar.refresh_look)

    # -- menu ------------------------------------------------------------------------------------
    def build_menu(self, menu) -> None:
        menu.addSeparator()
        self.act_start = QAction("Start a writing &sprint…", self.w)
        self.act_start.setObjectName("action_sprint")
        self.act_start.setShortcuts(keys("sprint"))
        self.act_start.triggered.connect(self.ask_to_start)
        menu.addAction(self.act_start)
        self.act_view = QAction("&My sprints…", self.w)
        self.act_view.setObjectName("action_my_sprints")
        self.act_view.triggered.connect(self.show_my_sprints)
        menu.addAction(self.act_view)
        self.act_sound = QAction("Sound when a sprint &ends", self.w)
        self.act_sound.setObjectName("action_sprint_sound")
        self.act_sound.setCheckable(True)
        self.act_sound.setChecked(bool(self.w.state.settings[cfg.SPRINT_SOUND]))
        self.act_sound.toggled.connect(self._sound_toggled)
        menu.addAction(self.act_sound)

    def _sound_toggled(self, on: bool) -> None:
        try:
            self.w.state.settings.set_user(cfg.SPRINT_SOUND, bool(on))
        except Exception as exc:   # a read-only or managed settings file: this session only
            log.info("could not save the sprint sound setting: %s", map_exception(exc).code)

    # -- start-up: a sprint left running, or one that ended while the app was closed --------------
    def restore(self) -> None:
        now, book = self.clock.now(), self.book

        def work():
            ended = book.recover(now)
            current = book.current()
            sent = book.words(current, None, current.draft_words) if current else 0
            return ended, current, sent
        self.w.tasks.run_db(work, lambda r: self._restored(*r), self.w._error("Resuming your sprint"))

    def _restored(self, ended: Ended | None, current: Sprint | None, sent: int) -> None:
        if ended is not None:
            self._ended(ended)
        if current is not None:
            self.sprint, self.sent_words, self.draft_delta = current, sent, 0
            self._running()

    # -- starting --------------------------------------------------------------------------------
    def ask_to_start(self) -> None:
        if self.sprint is not None:
            self.w.flash("A sprint is already running: stop it first, or let it finish.")
            return
        from archpal_desktop.ui.sprint_dialogs import StartSprintDialog
        dlg = StartSprintDialog(self.w)
        self._dialog = dlg
        dlg.accepted.connect(lambda: self.start(self.w.current_cid, *dlg.values()))
        dlg.open()

    def accept_offer(self, msg) -> None:
        offer = (msg.sprint or {}) if msg is not None else {}
        if self.sprint is not None:
            self.w.flash("A sprint is already running: stop it first, or let it finish.")
            return
        self.start(msg.conversation_id, int(offer.get("minutes") or 25), str(offer.get("goal") or ""),
                   offer.get("sprint_id"))

    def decline_offer(self, message_id: str) -> None:
        msg = self.w.chat.chat_model.message(message_id)
        sprint_id = (msg.sprint or {}).get("sprint_id") if msg is not None else None
        if not sprint_id:
            return
        self.w.chat.set_sprint_state(self.w.chat.sprint_answered | {sprint_id}, self.sprint is not None)
        book = self.book
        self.w.tasks.run_db(lambda: book.decline(sprint_id), None, self.w._error("Saving your answer"))
        self.w.flash("No sprint for now. Ask ArchPal again, or use Chat ▸ Start a writing sprint…")

    def start(self, cid: str | None, minutes: int, goal: str, proposal_id: str | None = None) -> None:
        now, book = self.clock.now(), self.book
        draft = count_words(self.w.composer.edit.toPlainText()) if cid and cid == self.w.current_cid else 0
        self.w.tasks.run_db(lambda: book.start(cid, minutes, goal, now, draft_words=draft,
                                               proposal_id=proposal_id),
                            lambda r: self._started(*r), self.w._error("Starting the sprint"))

    def _started(self, sprint: Sprint, msg) -> None:
        self.sprint, self.sent_words, self.draft_delta = sprint, 0, 0
        if msg.conversation_id == self.w.current_cid:
            self.w.chat.append_message(msg)
        else:
            self.w.conversation_pane.reload_conversations(select=msg.conversation_id)
        self._running()
        self.w.flash(f"Sprint started: {sprint.minutes} minutes. The message box stays open for you.")
        self.started.emit(sprint)

    def _running(self) -> None:
        answered = self.w.chat.sprint_answered | ({self.sprint.sprint_id} if self.sprint else set())
        self.w.chat.set_sprint_state(answered, True)
        self.timer.start()
        self.tick()

    # -- while it runs ----------------------------------------------------------------------------
    def tick(self) -> None:
        sprint = self.sprint
        if sprint is None:
            self.timer.stop()
            return
        now = self.clock.now()
        if sprint.is_over(now):
            self.finish("completed")
            return
        left = remaining_text(sprint.remaining(now))
        self.bar.show_running(sprint.goal, left, sprint.paused, sprint.can_extend())
        self._set_tray(f"Writing sprint: {left} {'paused' if sprint.paused else 'left'} — {sprint.goal}")
        self._show_words()

    def words_now(self) -> int:
        sprint = self.sprint
        if sprint is None:
            return 0
        if sprint.conversation_id == self.w.current_cid:
            self.draft_delta = max(0, count_words(self.w.composer.edit.toPlainText()) - sprint.draft_words)
        return self.sent_words + self.draft_delta

    def _show_words(self) -> None:
        self.w.composer.set_sprint_words(self.words_now() if self.sprint is not None else None)

    def _message_sent(self, conv, msg) -> None:
        sprint = self.sprint
        if sprint is not None and conv.conversation_id == sprint.conversation_id:
            self.sent_words += count_words(msg.content)
            sprint.draft_words = 0   # the box was emptied by the send
            self._show_words()

    def toggle_pause(self) -> None:
        if self.sprint is not None:
            self._change("resume" if self.sprint.paused else "pause")

    def _change(self, action: str) -> None:
        if self.sprint is None:
            return
        now, book = self.clock.now(), self.book

        def done(sprint: Sprint) -> None:
            if self.sprint is not None:
                sprint.draft_words = self.sprint.draft_words
                self.sprint = sprint
                self.tick()
                if action == "extend":
                    self.w.flash("Five more minutes added to the sprint.")
        self.w.tasks.run_db(lambda: book.change(action, now), done, self.w._error("Changing the sprint"))

    # -- the end ----------------------------------------------------------------------------------
    def finish(self, outcome: str) -> None:
        if self.sprint is None or self._ending:
            return
        self._ending = True
        self.timer.stop()
        now, book, sprint = self.clock.now(), self.book, self.sprint
        draft = count_words(self.w.composer.edit.toPlainText()) \
            if sprint.conversation_id == self.w.current_cid else None

        def failed(exc: BaseException) -> None:
            self._ending = False
            if isinstance(exc, NotFoundError):   # its conversation was deleted: nothing to end
                self._clear()
                self.bar.hide()
                return
            self.timer.start()
            self.w._error("Ending the sprint")(exc)
        self.w.tasks.run_db(lambda: book.finish(outcome, now, draft_words=draft), self._ended, failed)

    def _clear(self) -> None:
        self.sprint = None
        self.timer.stop()
        self.w.composer.set_sprint_words(None)
        self._set_tray("")
        self.w.chat.set_sprint_state(self.w.chat.sprint_answered, False)

    def _ended(self, ended: Ended) -> None:
        self._ending = False
        self._clear()
        msg = ended.message
        if msg.conversation_id == self.w.current_cid:
            self.w.chat.append_message(msg)
        if ended.while_closed:
            text = "Your sprint ended while ArchPal was closed: how did it go?"
        elif (ended.message.sprint or {}).get("outcome") == "stopped":
            text = "Sprint stopped: how did it go? ArchPal's question is in the conversation."
        else:
            text = "Sprint over: how did it go? ArchPal's question is in the conversation."
        self.bar.show_ended(text)
        self.w.notify(END_TITLE, f"“{ended.sprint.goal}”: ArchPal asks how it went.")
        if self.w.state.settings[cfg.SPRINT_SOUND]:
            QApplication.beep()   # the system's own gentle sound (QtMultimedia is not bundled)
        a11y.announce(self.w.chat, text, repeat=True)
        self.ended.emit(ended)

    # -- the rest -------------------------------------------------------------------------------------
    def _set_tray(self, text: str) -> None:
        """The time left on the tray icon's tooltip, where the desktop has a tray."""
        self.tray_text = text
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return
        tray = getattr(self.w, "_tray", None)
        if tray is None and text:
            tray = self.w._tray = QSystemTrayIcon(app_icon(), self.w)
            tray.show()
        if tray is not None:
            tray.setToolTip(plain.notification(text) if text else "ArchPal")

    def _refresh_offers(self, cid: str) -> None:
        book, running = self.book, self.sprint is not None
        self.w.tasks.run_db(lambda: book.answered(cid),
                            lambda found: cid == self.w.current_cid and self.w.chat.set_sprint_state(
                                found | ({self.sprint.sprint_id} if self.sprint else set()), running))
        self._show_words()

    def show_my_sprints(self) -> None:
        now, book = self.clock.now(), self.book

        def show(rows) -> None:
            from archpal_desktop.ui.sprint_dialogs import MySprintsDialog
            dlg = MySprintsDialog(rows, self.w)
            self._dialog = dlg
            dlg.open()
        self.w.tasks.run_db(lambda: book.summary(now), show, self.w._error("Reading your sprints"))

    def shutdown(self) -> None:
        self.timer.stop()
