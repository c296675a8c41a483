"""The main window: sidebar (search, new, conversations), chat pane, companion, status area.

The window keeps the layout and the wiring (issue 17 point 6); what its parts do lives in
controllers beside it, each holding the window's parts it uses: ``conversation_pane`` (the list
loaded, a conversation opened; ui/conversation_pane.py), ``conversation_actions`` (new, next,
rename, delete with Undo, export, print; ui/conversation_actions.py), ``account`` (profile,
settings, sign in and out, About, shortcuts; ui/account.py), ``search_pane`` (ui/search_keys.py)
and ``reply_view`` (what a reply shows; ui/reply_view.py).

The window only paints and reacts: its store calls run on the task runner's database worker
(two key/value reads while it is built excepted), every network call (sync, the coach) on its
network pool; those use the cache through their own connections (docs/ARCHITECTURE.md, "Threads").
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (QApplication, QFrame, QHBoxLayout, QLabel, QLineEdit,
                               QMainWindow, QPushButton, QSizePolicy, QSpacerItem, QSplitter,
                               QStackedWidget, QSystemTrayIcon, QVBoxLayout, QWidget)

from archpal_desktop import APP_NAME
from archpal_desktop.core.errors import map_exception
from archpal_desktop.ui import a11y, live_refresh, plain, theme
from archpal_desktop.ui.account import AccountActions
from archpal_desktop.ui.changes import ChangeBridge
from archpal_desktop.ui.chat_view import ChatView
from archpal_desktop.ui.companion import CompanionView, app_icon
from archpal_desktop.ui.composer import Composer
from archpal_desktop.ui.conversation_actions import ConversationActions
from archpal_desktop.ui.conversation_list import ConversationList
from archpal_desktop.ui.conversation_pane import LAST_CONVERSATION_KEY, ConversationPane
from archpal_desktop.ui.reply_runner import ReplyController, connect_chat
from archpal_desktop.ui.reply_view import ReplyView
from archpal_desktop.ui.search import SearchController, SearchResults
from archpal_desktop.ui.search_keys import SearchPane
from archpal_desktop.ui.shortcuts import keys
from archpal_desktop.ui.sprint_controller import SprintController
from archpal_desktop.ui.state import AppState
from archpal_desktop.ui.sync_driver import SyncDriver
from archpal_desktop.ui.sync_status import SyncController, SyncStatus
from archpal_desktop.ui.toast import CoachErrorCard, Toast
from archpal_desktop.ui.view_space import ViewControls

log = logging.getLogger(__name__)
QWIDGETSIZE_MAX = (1 << 24) - 1   # Qt's "no maximum" for a widget's size


class MainWindow(QMainWindow):
    conversations_loaded = Signal()
    conversation_opened = Signal(str)      # conversation id, messages shown
    status_message = Signal(str)

    def __init__(self, state: AppState, *, start_sync: bool = True):
        super().__init__()
        self.state = state
        self.tasks = state.tasks
        self.store = state.store
        self.current_cid: str | None = None
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon())
        self.setAccessibleName("ArchPal main window")
        self._build()
        self.search = SearchController(self.tasks, self.store, self)
        self.conversation_pane = ConversationPane(self, self.tasks, self.store)   # the list, the open one
        self.search_pane = SearchPane(self, self.search)   # the box's keys, the hits, a hit opened
        self.conversation_actions = conv = ConversationActions(self, state, self)
        self.new_button.clicked.connect(conv.new_conversation)
        self.conversations.rename_requested.connect(conv.rename_conversation)
        self.conversations.delete_requested.connect(conv.delete_conversation)
        self.conversations.export_requested.connect(conv.export_conversation)
        self.sync = SyncController(self.tasks, self.store, state.settings, self._access, self)
        self.account = AccountActions(state, self.sync, self)   # profile, settings, sign in/out
        self.account.signed_out.connect(self.close)
        self._build_menus()
        self.replies = ReplyController(state, self)
        self.reply_view = rv = ReplyView(self, self.replies)   # what a reply does to the window
        self.composer.send.connect(rv.send_message)
        self.composer.stop.connect(rv.stop_reply)
        self.chat.retry_requested.connect(rv.retry_reply)
        self.chat.stop_requested.connect(rv.stop_reply)
        connect_chat(self)   # the message view's and composer's own requests (chat-content)
        self.sprints = SprintController(self)   # writing sprints: the bar above the conversation
        self.sprints.build_menu(self.menu_chat)
        self.chat.parentWidget().layout().insertWidget(1, self.sprints.bar)
        self.composer.enable_spelling(self.tasks)
        self.sync.state_changed.connect(self.status.show_state)
        self.sync.sync_finished.connect(self._sync_finished)
        self.sync.network_back.connect(self.replies.kick)
        from archpal_desktop.ui.coach_state import CoachState
        self.coach = CoachState(self)   # the coach's reachability and errors, apart from sync
        # every committed write: status bar, list row; the student's own are uploaded by the
        # one sync schedule (ui/sync_driver.py: polls, uploads, resume, network; issue 19)
        self.changes = ChangeBridge(self.store, self, auto_upload=False)
        self.changes.changed.connect(self._cache_changed)
        self.sync_driver = SyncDriver(self.sync, self.changes, state.settings, self.tasks, self,
                                      poll=start_sync)
        self.status.sync_requested.connect(lambda: self.sync.sync_now("user"))
        self.status.settings_requested.connect(self.account.open_settings)
        self.status.sign_in_requested.connect(self.account.sign_in_again)
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
        self.conversation_pane.reload_conversations(select=self.store.kv_get(LAST_CONVERSATION_KEY))
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
        # takes the room a short conversation leaves, so the card sits under the last message
        self._below_card = QSpacerItem(0, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Expanding)
        lay.addItem(self._below_card)
        self._center_layout = lay
        lay.addWidget(self.composer)
        # measured once the layout has settled (the card's own height moves the chat's bottom)
        self.coach_card.shown_changed.connect(lambda _shown: QTimer.singleShot(0, self, self._fit_chat_to_card))
        self.chat.verticalScrollBar().rangeChanged.connect(lambda *_: self._fit_chat_to_card())
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
        mb, conv, acc = self.menuBar(), self.conversation_actions, self.account
        f = mb.addMenu("&File")
        self.act_new = self._action(f, "&New conversation", conv.new_conversation, "new")
        f.addSeparator()
        self._action(f, "Export as &PDF…", lambda: conv.export_conversation(self.current_cid, "pdf"), "export_pdf")
        self._action(f, "Export as &Markdown…", lambda: conv.export_conversation(self.current_cid, "md"),
                     "export_md")
        self._action(f, "&Print…", conv.print_conversation, "print")
        self._action(f, "Export &all my data…", conv.export_all)
        f.addSeparator()
        self._action(f, "Sign &out", acc.sign_out)
        self._action(f, "&Quit", self.close, "quit")
        e = mb.addMenu("&Edit")
        self._action(e, "&Copy message", lambda: self.chat.copy_message(), None)
        self._action(e, "&Rename conversation…", lambda: conv.rename_conversation(self.current_cid), "rename")
        self._action(e, "&Delete conversation…", lambda: conv.delete_conversation(self.current_cid), "delete")
        self.act_undo = self._action(e, "&Undo delete", conv.deleting.undo_last, "undo")
        self.act_undo.setEnabled(False)   # while a delete's Undo is offered
        e.addSeparator()
        self._action(e, "&Find…", self.search_pane.focus_search, "search")
        self._action(e, "Go to the &message box", self.composer.edit.setFocus, "focus_composer")
        self._action(e, "&Edit profile…", acc.edit_profile)
        self._action(e, "&Settings…", acc.open_settings, "settings")
        v = mb.addMenu("&View")
        self._action(v, "&Next conversation", lambda: conv.step_conversation(1), "next")
        self._action(v, "&Previous conversation", lambda: conv.step_conversation(-1), "prev")
        c = self.menu_chat = mb.addMenu("&Chat")
        self.act_stop = self._action(c, "&Stop the reply", lambda: self.reply_view.stop_reply(), "stop")
        s = mb.addMenu("&Sync")
        self._action(s, "Sync &now", lambda: self.sync.sync_now("user"), "sync")
        h = mb.addMenu("&Help")
        self._action(h, "&Keyboard shortcuts", acc.show_shortcuts, "help")
        self._action(h, "&About ArchPal", acc.show_about)
        self.view_controls.add_actions(v)   # the View menu's zoom and panels (ui/view_space.py)

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        self.sync.sync_now("start")
        self.replies.kick()   # anything left waiting from last time

    def _fit_chat_to_card(self) -> None:
        """A coach error shows where the reply would have been: right under the last message
        when the conversation is shorter than the pane (the chat shrinks to its messages), else
        at the pane's foot, under the scrolled messages."""
        chat, model = self.chat, self.chat.chat_model
        lay, spacer = self._center_layout, self._center_layout.indexOf(self._below_card)

        def cap(height: int) -> None:
            chat.setMaximumHeight(height)
            # the room the capped chat leaves goes under the card, not into the composer
            lay.setStretch(spacer, 0 if height == QWIDGETSIZE_MAX else 1)
        if self.coach_card.isHidden() or not model.rowCount():
            cap(QWIDGETSIZE_MAX)
            return
        if chat.verticalScrollBar().maximum() > 0:
            if chat.maximumHeight() != QWIDGETSIZE_MAX:   # grew past its cap: the whole pane again
                cap(QWIDGETSIZE_MAX)
            return
        last = chat.visualRect(model.index(model.rowCount() - 1))
        cap(max(60, last.bottom() + 2 * chat.frameWidth() + 12))

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

    def _cache_changed(self, changes) -> None:
        self.sync.refresh_pending()
        if changes.upload:
            for cid in changes.conversations:
                self.conversation_pane.refresh_conv(cid)

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

    def _theme_changed(self, colors) -> None:
        theme.set_current(colors)
        self.toast.refresh_look()
        self.coach_card.refresh_look()
        self.chat.refresh_look()
        self.conversations.viewport().update()
        self.results.viewport().update()
        self.companion.set_emotion(self.companion.emotion)

    # -- geometry and closing ----------------------------------------------------------------------
    def _restore_geometry(self) -> None:
        geo = self._qsettings.value("window/geometry")
        if isinstance(geo, QByteArray) and not geo.isEmpty():
            self.restoreGeometry(geo)
        else:   # the first start: 1180 x 760, or a small screen's free area (less 5% for the frame)
            size, screen = QSize(1180, 760), self.screen()
            self.resize(size.boundedTo(screen.availableGeometry().size() * 0.95) if screen else size)
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
            self.reply_view.stop_reply()
            return
        super().keyPressEvent(event)
