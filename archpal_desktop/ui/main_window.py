"""The main window: sidebar (search, new, conversations), chat pane, companion, status area.

The window only paints and reacts: its store calls run on the task runner's database worker
(two key/value reads while it is built excepted), every network call (sync, the coach) on its
network pool; those use the cache through their own connections (docs/ARCHITECTURE.md, "Threads").
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (QApplication, QFrame, QHBoxLayout, QLabel,
                               QLineEdit, QMainWindow, QPushButton, QSplitter,
                               QStackedWidget, QSystemTrayIcon, QVBoxLayout, QWidget)

from archpal_desktop import APP_NAME
from archpal_desktop.core.errors import map_exception
from archpal_desktop.ui import a11y, live_refresh, plain, theme
from archpal_desktop.ui.changes import ChangeBridge
from archpal_desktop.ui.chat_view import ChatView
from archpal_desktop.ui.companion import CompanionView, app_icon
from archpal_desktop.ui.composer import Composer
from archpal_desktop.ui.conversation_actions import DeleteWithUndo, ask_title
from archpal_desktop.ui.conversation_list import ConversationList
from archpal_desktop.ui.reply_runner import ReplyController, connect_chat
from archpal_desktop.ui.search import SearchController, SearchResults
from archpal_desktop.ui.shortcuts import keys
from archpal_desktop.ui.sprint_controller import SprintController
from archpal_desktop.ui.state import AppState
from archpal_desktop.ui.sync_driver import SyncDriver
from archpal_desktop.ui.sync_status import SyncController, SyncStatus
from archpal_desktop.ui.tasks import Latest
from archpal_desktop.ui.toast import CoachErrorCard, Toast
from archpal_desktop.ui.view_space import ViewControls
from archpal_desktop.ui.window_actions import WindowActions

log = logging.getLogger(__name__)

LAST_CONVERSATION_KEY = "ui.last_conversation"


class MainWindow(WindowActions, QMainWindow):
    conversations_loaded = Signal()
    conversation_opened = Signal(str)      # conversation id, messages shown
    status_message = Signal(str)

    def __init__(self, state: AppState, *, start_sync: bool = True):
        super().__init__()
        self.state = state
        self.tasks = state.tasks
        self.store = state.store
        self.current_cid: str | None = None
        self._answered = []
        self._open_latest = Latest()
        self._pending_scroll: str | None = None
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon())
        self.setAccessibleName("ArchPal main window")
        self._build()
        self._build_menus()
        self.replies = ReplyController(state, self)
        self._connect_replies()
        connect_chat(self)   # the message view's and composer's own requests (chat-content)
        self.sprints = SprintController(self)   # writing sprints: the bar above the conversation
        self.sprints.build_menu(self.menu_chat)
        self.chat.parentWidget().layout().insertWidget(1, self.sprints.bar)
        self.composer.enable_spelling(self.tasks)
        self.sync = SyncController(self.tasks, self.store, state.settings, self._access, self)
        self.sync.state_changed.connect(self.status.show_state)
        self.sync.sync_finished.connect(self._sync_finished)
        self.sync.network_back.connect(self.replies.kick)
        from archpal_desktop.ui.coach_state import CoachState
        self.coach = CoachState(self)   # the coach's reachability and errors, apart from sync
        self.deleting = DeleteWithUndo(self)
        # every committed write: status bar, list row; the student's own are uploaded by the
        # one sync schedule (ui/sync_driver.py: polls, uploads, resume, network; issue 19)
        self.changes = ChangeBridge(self.store, self, auto_upload=False)
        self.changes.changed.connect(self._cache_changed)
        self.sync_driver = SyncDriver(self.sync, self.changes, state.settings, self.tasks, self,
                                      poll=start_sync)
        self.status.sync_requested.connect(lambda: self.sync.sync_now("user"))
        self.status.settings_requested.connect(self.open_settings)
        self.status.sign_in_requested.connect(self.sign_in_again)
        self.search = SearchController(self.tasks, self.store, self)
        self.search.results.connect(self._show_hits)
        self._qsettings = QSettings(str(state.data_dir / "window.ini"), QSettings.Format.IniFormat)
        self._restore_geometry()
        if state.theme is not None:
            state.theme.changed.connect(self._theme_changed)
            state.theme.changed.connect(self.view_controls.apply_fonts)
            theme.set_current(state.theme.colors)
        self._tray: QSystemTrayIcon | None = None
        notice = getattr(state.auth, "notice", "") if state.auth is not None else ""
        if notice:   # e.g. no safe keyring: the session lasts for this run only
            # short in the status bar; the whole explanation on hover and for screen readers
            self.notice = QLabel("Signed in for this session only", self)
            self.notice.setObjectName("statusWarn")
            self.notice.setAccessibleDescription(notice)
            self.notice.setToolTip(plain.tip(notice))
            self.statusBar().addPermanentWidget(self.notice)
        self.reload_conversations(select=self.store.kv_get(LAST_CONVERSATION_KEY))
        self.sprints.restore()
        self.sync.refresh_pending()
        self._started = not start_sync
        if start_sync:
            # the first sync (and its boto3 import, ~0.2 s of CPU) starts once the list is shown:
            # started at once, it shared the interpreter with the first paint (ui.startup_1000)
            self.conversations_loaded.connect(lambda: QTimer.singleShot(100, self, self._start))
            QTimer.singleShot(2000, self, self._start)   # a list that could not be loaded
        self.composer.edit.setFocus()   # a student opens the window to write

    # -- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        self.sidebar = sidebar = QFrame(self)
        sidebar.setObjectName("sidebar")
        sidebar.setMinimumWidth(220)
        self.search_box = QLineEdit(sidebar)
        self.search_box.setPlaceholderText("Search all conversations  (Ctrl+F)")
        self.search_box.setAccessibleName("Search conversations")
        self.search_box.setClearButtonEnabled(True)
        self.new_button = QPushButton("New conversation", sidebar)
        self.new_button.setObjectName("primary")
        self.new_button.setAccessibleName("New conversation")
        self.new_button.setToolTip("New conversation (Ctrl+N)")
        self.conversations = ConversationList(sidebar)
        self.results = SearchResults(sidebar)
        self.empty_list = QLabel("No conversations yet.\nStart one with “New conversation”.", sidebar)
        self.empty_list.setObjectName("muted")
        self.empty_list.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.side_stack = QStackedWidget(sidebar)
        self.side_stack.addWidget(self.conversations)
        self.side_stack.addWidget(self.results)
        self.side_stack.addWidget(self.empty_list)
        self.results_label = plain.label(QLabel(sidebar))
        self.results_label.setObjectName("muted")
        self.results_label.hide()
        side = QVBoxLayout(sidebar)
        side.setContentsMargins(8, 8, 4, 8)
        side.addWidget(self.search_box)
        side.addWidget(self.new_button)
        side.addWidget(self.results_label)
        side.addWidget(self.side_stack, 1)

        center = QWidget(self)
        self.title_label = plain.label(QLabel(center))  # an S3 title, shown as text
        a11y.value_label(self.title_label, "Conversation title")   # its font: ViewControls
        self.title_label.setWordWrap(True)   # a long title wraps: it must not widen the window
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chat = ChatView(center)
        self.composer = Composer(center)
        head = QHBoxLayout()
        head.setContentsMargins(14, 8, 14, 0)
        head.addWidget(self.title_label, 1)
        lay = QVBoxLayout(center)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(head)
        lay.addWidget(self.chat, 1)
        self.coach_card = CoachErrorCard(center)   # where the reply would have been
        card_row = QHBoxLayout()
        card_row.setContentsMargins(14, 0, 14, 6)
        card_row.addWidget(self.coach_card, 3)
        card_row.addStretch(1)
        lay.addLayout(card_row)
        lay.addWidget(self.composer)
        self.toast = Toast(center, self.chat)      # every confirmation, over the chat's foot

        self.companion_panel = QFrame(self)
        self.companion_panel.setObjectName("companionPanel")
        self.companion = CompanionView(self.companion_panel)
        cl = QVBoxLayout(self.companion_panel)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.companion)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(sidebar)
        self.splitter.addWidget(center)
        self.splitter.addWidget(self.companion_panel)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([290, 700, 160])
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)
        # folding panels, zoom, the centred column (ui/view_space.py)
        self.view_controls = ViewControls(self, head, center)

        self.status = SyncStatus(self)
        # permanent: a transient flash() message must never hide the sync state
        self.statusBar().addPermanentWidget(self.status, 1)
        self.statusBar().setSizeGripEnabled(True)

        # Tab order: search -> new -> list -> messages -> composer -> send
        QWidget.setTabOrder(self.search_box, self.new_button)
        QWidget.setTabOrder(self.new_button, self.conversations)
        QWidget.setTabOrder(self.conversations, self.results)   # the hits, where the list was
        QWidget.setTabOrder(self.results, self.chat)
        QWidget.setTabOrder(self.chat, self.composer.edit)
        QWidget.setTabOrder(self.composer.edit, self.composer.send_button)

        from archpal_desktop.ui.search_keys import SearchKeys
        self._search_keys = SearchKeys(self)   # Esc clears, Down enters the results
        self.search_box.textChanged.connect(self._search_changed)
        self.search_box.returnPressed.connect(self._open_first_hit)
        self.new_button.clicked.connect(self.new_conversation)
        self.conversations.selectionModel().currentChanged.connect(self._selection_changed)
        self.conversations.rename_requested.connect(self.rename_conversation)
        self.conversations.delete_requested.connect(self.delete_conversation)
        self.conversations.export_requested.connect(self.export_conversation)
        self.results.open_hit.connect(self.open_hit)
        self.composer.send.connect(self.send_message)
        self.composer.stop.connect(self.stop_reply)
        self.composer.draft_changed.connect(self._save_draft)
        self.chat.retry_requested.connect(self.retry_reply)
        self.chat.stop_requested.connect(self.stop_reply)
        self.chat.link_refused.connect(
            lambda href: self.flash("That link was not opened: only https and e-mail links open."))
        self.chat.message_copied.connect(lambda _mid: self.flash("Message copied."))
        self._update_composer()

    def _action(self, menu, text: str, slot, name: str | None = None, *, checkable=False) -> QAction:
        act = QAction(text, self)
        if name:
            act.setShortcuts(keys(name))
            act.setObjectName(f"action_{name}")
        act.setCheckable(checkable)
        # triggered(bool) must not reach a slot's optional argument (export_all(folder) got False)
        act.triggered.connect(slot if checkable else (lambda _checked=False, run=slot: run()))
        menu.addAction(act)
        return act

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self.act_new = self._action(f, "&New conversation", self.new_conversation, "new")
        f.addSeparator()
        self._action(f, "Export as &PDF…", lambda: self.export_conversation(self.current_cid, "pdf"), "export_pdf")
        self._action(f, "Export as &Markdown…", lambda: self.export_conversation(self.current_cid, "md"),
                     "export_md")
        self._action(f, "&Print…", self.print_conversation, "print")
        self._action(f, "Export &all my data…", self.export_all)
        f.addSeparator()
        self._action(f, "Sign &out", self.sign_out)
        self._action(f, "&Quit", self.close, "quit")
        e = mb.addMenu("&Edit")
        self._action(e, "&Copy message", lambda: self.chat.copy_message(), None)
        self._action(e, "&Rename conversation…", lambda: self.rename_conversation(self.current_cid), "rename")
        self._action(e, "&Delete conversation…", lambda: self.delete_conversation(self.current_cid), "delete")
        self.act_undo = self._action(e, "&Undo delete", lambda: self.deleting.undo_last(), "undo")
        self.act_undo.setEnabled(False)   # while a delete's Undo is offered
        e.addSeparator()
        self._action(e, "&Find…", self.focus_search, "search")
        self._action(e, "Go to the &message box", self.composer.edit.setFocus, "focus_composer")
        self._action(e, "&Edit profile…", self.edit_profile)
        self._action(e, "&Settings…", self.open_settings, "settings")
        v = mb.addMenu("&View")
        self._action(v, "&Next conversation", lambda: self.step_conversation(1), "next")
        self._action(v, "&Previous conversation", lambda: self.step_conversation(-1), "prev")
        c = self.menu_chat = mb.addMenu("&Chat")
        self.act_stop = self._action(c, "&Stop the reply", self.stop_reply, "stop")
        s = mb.addMenu("&Sync")
        self._action(s, "Sync &now", lambda: self.sync.sync_now("user"), "sync")
        h = mb.addMenu("&Help")
        self._action(h, "&Keyboard shortcuts", self.show_shortcuts, "help")
        self._action(h, "&About ArchPal", self.show_about)
        self.view_controls.add_actions(v)   # the View menu's zoom and panels (ui/view_space.py)

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        self.sync.sync_now("start")
        self.replies.kick()   # anything left waiting from last time

    # -- helpers --------------------------------------------------------------------------------
    def _access(self):
        if self.state.access is None:
            from archpal_desktop.core.errors import AuthExpiredError
            raise AuthExpiredError("You are not signed in.", "Sign in to sync.")
        return self.state.access()

    def flash(self, text: str, ms: int = 5000, *, error: bool = False) -> None:
        """A confirmation the student sees and hears: the toast over the chat (ui/toast.py)."""
        self.toast.show_message(text, ms, error=error)
        self.status_message.emit(text)

    def flash_action(self, text: str, action: str, *, on_action, on_expire) -> None:
        self.toast.show_message(text, action=action, on_action=on_action, on_expire=on_expire)
        self.status_message.emit(text)

    def _error(self, what: str):
        def show(exc: BaseException) -> None:
            err = map_exception(exc)
            log.warning("%s failed: %s", what, err.code)
            plain.warning(self, f"{what} failed.\n\n{err}")
        return show

    def _update_composer(self) -> None:
        self.composer.set_disabled_reason("")

    # -- conversations ------------------------------------------------------------------------
    def reload_conversations(self, select: str | None = None) -> None:
        store = self.store

        def shown(convs) -> None:
            # decided now, not when asked: the student may have moved on meanwhile
            keep = self.current_cid or select
            convs = [c for c in convs if c.conversation_id not in self.deleting.hidden]
            self.conversations.conv_model.set_conversations(convs)
            self.side_stack.setCurrentWidget(self.conversations if convs or self.search_box.text()
                                             else self.empty_list)
            if self.search_box.text().strip():
                self.side_stack.setCurrentWidget(self.results)
            if keep and self.conversations.select(keep):
                pass
            elif convs and self.current_cid is None:
                self.conversations.select(convs[0].conversation_id)
            self.conversations_loaded.emit()
            # counts as the chat shows them (Ask again runs once), after the first paint
            self.tasks.run_db(store.shown_message_counts, self.conversations.conv_model.set_shown_counts)
        self.tasks.run_db(store.list_conversations, shown, self._error("Loading your conversations"))

    def _selection_changed(self, current, _previous) -> None:
        cid = self.conversations.current_id()
        if cid and cid != self.current_cid:
            self.open_conversation(cid)

    def open_conversation(self, cid: str, scroll_to: str | None = None) -> None:
        self.composer.flush_draft()
        self.current_cid = cid
        self._pending_scroll = scroll_to
        conv = self.conversations.conv_model.conversation(cid)
        self.title_label.setText(conv.title if conv else "")
        self.setWindowTitle(f"{conv.title} — {APP_NAME}" if conv else APP_NAME)
        store = self.store
        handler = self._open_latest.guard(lambda r: self._show_conversation(cid, *r))
        self.tasks.run_db(lambda: (store.load_messages(cid), store.get_draft(cid)), handler,
                          self._error("Opening the conversation"))
        self.tasks.run_db(lambda: store.kv_set(LAST_CONVERSATION_KEY, cid))

    def _show_conversation(self, cid: str, messages, draft: str) -> None:
        if cid != self.current_cid:
            return
        self.chat.show_messages(cid, messages)
        self._count_shown()
        self.composer.load_draft(draft)
        last_reply = next((m for m in reversed(messages) if m.role == "assistant"), None)
        self.companion.set_emotion(last_reply.emotion if last_reply else "hello")
        if self._pending_scroll:
            self.chat.scroll_to_message(self._pending_scroll)
            self._pending_scroll = None
        self._update_composer()
        self.conversation_opened.emit(cid)

    def _count_shown(self) -> None:
        """The open conversation's row counts what the chat shows, as it changes."""
        cid = self.chat.chat_model.conversation_id
        if cid and cid == self.current_cid:
            self.conversations.conv_model.set_shown_counts({cid: len(self.chat.chat_model.shown())},
                                                           replace=False)

    def new_conversation(self) -> None:
        store = self.store

        def made(conv) -> None:
            self.conversations.conv_model.upsert(conv)
            self.side_stack.setCurrentWidget(self.conversations)
            self.search_box.clear()
            self.conversations.select(conv.conversation_id)
            self.composer.edit.setFocus()
        self.tasks.run_db(store.create_conversation, made, self._error("Creating a conversation"))

    def step_conversation(self, delta: int) -> None:
        model = self.conversations.conv_model
        if not model.rowCount():
            return
        row = max(0, min(model.rowCount() - 1, model.row_of(self.current_cid) + delta))
        self.conversations.setCurrentIndex(model.index(row))

    def rename_conversation(self, cid: str | None) -> None:
        conv = self.conversations.conv_model.conversation(cid) if cid else None
        if conv is None:
            return
        title = ask_title(self, conv.title)
        if title:
            self.apply_rename(cid, title)

    def apply_rename(self, cid: str, title: str) -> None:
        store = self.store

        def work():
            store.rename_conversation(cid, title)
            return store.get_conversation(cid)

        def done(conv) -> None:
            self.conversations.conv_model.upsert(conv)
            self.conversations.select(cid)
            if cid == self.current_cid:
                self.title_label.setText(conv.title)
                self.setWindowTitle(f"{conv.title} — {APP_NAME}")
        self.tasks.run_db(work, done, self._error("Renaming"))

    def delete_conversation(self, cid: str | None, *, confirm: bool = True) -> None:
        self.deleting.request(cid, confirm=confirm)   # Undo in the toast before it is written

    def _save_draft(self, text: str) -> None:
        cid, store = self.current_cid, self.store
        if cid:
            self.tasks.run_db(lambda: store.set_draft(cid, text))

    # -- sending and replies ----------------------------------------------------------------------
    def send_message(self, text: str) -> None:
        self.composer.clear()

        def failed(exc) -> None:
            self.composer.load_draft(text)  # nothing the student wrote is lost
            self._error("Saving your message")(exc)
        self.replies.send(self.current_cid, text, on_error=failed)

    def _connect_replies(self) -> None:
        r = self.replies
        r.message_sent.connect(self._message_sent)
        r.busy_changed.connect(self._busy)
        r.reply_started.connect(self._reply_started)
        r.reply_delta.connect(self._reply_delta)
        r.reply_done.connect(self._reply_done)
        r.run_finished.connect(self._run_finished)
        r.error.connect(lambda words: self.flash(words, 8000, error=True))

    def _show_list(self) -> None:
        if not self.search_box.text().strip():
            self.side_stack.setCurrentWidget(self.conversations)

    def _busy(self, busy: bool) -> None:
        self.composer.set_busy(busy)
        self.chat.chat_model.answering = busy
        self.chat.viewport().update()

    def _message_sent(self, conv, msg) -> None:
        self.conversations.conv_model.upsert(conv)
        self._show_list()
        if conv.conversation_id != self.current_cid:
            self.current_cid = conv.conversation_id
            self.chat.show_messages(conv.conversation_id, [msg])
            self.conversations.blockSignals(True)
            self.conversations.select(conv.conversation_id)
            self.conversations.blockSignals(False)
            self.title_label.setText(conv.title)
            self.setWindowTitle(f"{conv.title} — {APP_NAME}")
        else:
            self.chat.append_message(msg)
            self.conversations.select(conv.conversation_id)
        self._count_shown()

    def _reply_started(self, msg) -> None:
        if msg.conversation_id == self.current_cid:
            self.chat.append_message(msg)
            self._count_shown()
            self.companion.set_emotion("walk")
        self.composer.set_notice("")

    def _reply_delta(self, mid: str, text: str, emotion) -> None:
        if self.chat.chat_model.message(mid) is not None:
            self.chat.stream_text(mid, text, emotion)
            if emotion:
                self.companion.set_emotion(emotion)

    def _reply_done(self, cid: str, mid: str, finished: bool) -> None:
        # the runner saves the final text right after this event: reload when the run returns
        self._answered.append((cid, finished))
        done = self.chat.chat_model.message(mid)
        if done is not None:
            a11y.announce_reply(self.chat, done.content, finished)
        if not finished:   # the student's Stop is not a failure: a neutral companion
            self.companion.set_emotion("default" if mid in self.replies.stopped else "sad")

    def _run_finished(self, result) -> None:
        answered, self._answered = self._answered, []
        touched = {cid for cid, _ in answered}
        for cid in touched:
            self._refresh_conv(cid)
        if self.current_cid in touched:
            self.reload_current()
        # saved replies announce themselves (ChangeBridge): their upload is already scheduled
        if result.answered:
            if not self.isActiveWindow():
                self.notify("ArchPal answered", "A reply to your message has arrived.")
        from archpal_desktop.core.errors import OfflineError
        unreachable = isinstance(result.error, OfflineError)
        if result.waiting and unreachable and self.sync.state.online is False:
            self.composer.set_notice("Offline: your messages are saved here and ArchPal answers "
                                     "them when a connection is back.")
        elif result.waiting and unreachable:
            self.composer.set_notice("ArchPal can't be reached right now: your messages are saved "
                                     "here and it answers them when it is back.")
        elif not result.waiting:
            self.composer.set_notice("")

    def reload_current(self) -> None:
        cid, store = self.current_cid, self.store
        if not cid:
            return
        handler = self._open_latest.guard(lambda msgs: self._refresh_messages(cid, msgs))
        self.tasks.run_db(lambda: store.load_messages(cid), handler)

    def _refresh_messages(self, cid: str, messages) -> None:
        if cid != self.current_cid:
            return
        stick = self.chat._at_bottom()
        self.chat.chat_model.set_messages(cid, messages)
        self._count_shown()
        self.chat._relayout(stick)
        last_reply = next((m for m in reversed(messages) if m.role == "assistant"), None)
        if last_reply is not None and last_reply.local_state is None:
            self.companion.set_emotion(last_reply.emotion)

    def _cache_changed(self, changes) -> None:
        self.sync.refresh_pending()
        if changes.upload:
            for cid in changes.conversations:
                self._refresh_conv(cid)

    def _refresh_conv(self, cid: str) -> None:
        store = self.store
        self.tasks.run_db(lambda: store.get_conversation(cid),
                          lambda conv: conv and self.conversations.conv_model.upsert(conv))

    def stop_reply(self) -> None:
        if self.replies.busy:
            self.replies.stop()

    def retry_reply(self, mid: str) -> None:
        self.replies.retry(mid)

    def notify(self, title: str, text: str) -> None:
        """A quiet note when the window is in the background: tray message or taskbar alert."""
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self._tray is None:
                self._tray = QSystemTrayIcon(app_icon(), self)
                self._tray.show()
            self._tray.showMessage(plain.notification(title), plain.notification(text), app_icon(), 8000)
        QApplication.alert(self, 0)

    # -- sync ----------------------------------------------------------------------------------
    def _sync_finished(self, result) -> None:
        changed = set(getattr(result, "changed", []) or [])
        if changed or getattr(result, "profile_pulled", False):
            live_refresh.after_sync(self, changed)
        self.coach.after_sync()   # not while the coach is known unreachable: its own timer retries

    # -- geometry and closing ----------------------------------------------------------------------
    def _restore_geometry(self) -> None:
        geo = self._qsettings.value("window/geometry")
        if isinstance(geo, QByteArray) and not geo.isEmpty():
            self.restoreGeometry(geo)
        else:
            self.resize(1180, 760)
        split = self._qsettings.value("window/splitter")
        if isinstance(split, QByteArray) and not split.isEmpty():
            self.splitter.restoreState(split)
        self.view_controls.restore(self._qsettings)

    def save_geometry(self) -> None:
        self._qsettings.setValue("window/geometry", self.saveGeometry())
        self._qsettings.setValue("window/splitter", self.splitter.saveState())
        self._qsettings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.composer.flush_draft()
        self.toast.dismiss()    # a delete waiting behind Undo is written now
        self.coach.stop()
        self.save_geometry()
        self.sync.stop()
        self.replies.stop()
        self.sprints.shutdown()
        if self._tray is not None:
            self._tray.hide()
        super().closeEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.matches(QKeySequence.StandardKey.Cancel) and self.replies.busy:
            self.stop_reply()
            return
        super().keyPressEvent(event)
