"""Where the student writes: Enter sends, Shift+Enter breaks the line, the draft is kept.

The box grows with its text up to ``MAX_SHARE`` of the window, then scrolls; a live word count;
spelling marks (:mod:`~archpal_desktop.ui.spelling`); drafts attached by drag-and-drop or the
paperclip (:mod:`~archpal_desktop.core.attachments`, read on a worker), shown as chips and sent
as marked blocks in the message. A paste longer than ``PASTE_AS_ATTACHMENT`` characters becomes
a chip too: laid out in the box, 5 MB of text would freeze the window.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from archpal_desktop.ui import a11y
from archpal_desktop.core import attachments as core_att
from archpal_desktop.ui.attachments import FILE_FILTER, ChipRow
from archpal_desktop.ui.message_edit import PASTE_AS_ATTACHMENT, MessageEdit
from archpal_desktop.ui import plain

MAX_SHARE = 0.4
MIN_LINES = 3
__all__ = ["Composer", "MessageEdit", "PASTE_AS_ATTACHMENT"]


class Composer(QWidget):
    """Text box + Send/Stop, and a line saying why sending is not possible right now."""

    send = Signal(str)
    stop = Signal()
    draft_changed = Signal(str)   # debounced: the window saves it to the cache

    def __init__(self, parent=None):
        super().__init__(parent)
        self.tasks = None
        self.edit = MessageEdit(self)
        self.edit.setObjectName("composer")
        self.edit.setAccessibleName("Message to ArchPal")
        self.edit.setAccessibleDescription("Enter sends, Shift+Enter starts a new line. Drop a draft here to attach it.")
        self.edit.setPlaceholderText("Write to ArchPal…  (Enter sends, Shift+Enter for a new line)")
        self.edit.setTabChangesFocus(True)
        self.edit.setAcceptDrops(True)
        self.chips = ChipRow(self)
        self.attach_button = QToolButton(self)
        self.attach_button.setText("Attach…")
        self.attach_button.setObjectName("attachButton")
        self.attach_button.setAccessibleName("Attach a draft")
        self.attach_button.setToolTip("Attach a draft (.docx, .pdf, .odt, .txt, .md): its text is read on "
                                      "this computer and sent with your message")
        self.send_button = QPushButton("Send", self)
        self.send_button.setObjectName("primary")
        self.send_button.setAccessibleName("Send message")
        self.send_button.setToolTip("Send (Enter)")
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setAccessibleName("Stop the reply")
        self.stop_button.setToolTip("Stop the reply (Esc)")
        self.stop_button.hide()
        self.hint = plain.label(QLabel(self))
        self.hint.setObjectName("composerHint")
        a11y.value_label(self.hint, "Composer status")
        self.hint.setWordWrap(True)
        self.hint.hide()
        self.error = QLabel(self)
        self.error.setObjectName("composerError")
        a11y.value_label(self.error, "Attachment problem")   # the problem is read, not its name
        self.error.setWordWrap(True)
        self.error.hide()
        self.words = QLabel(self)
        self.words.setObjectName("muted")
        a11y.value_label(self.words, "Word count")   # reads "12 words", described as the count

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        buttons = QVBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.words, 0, Qt.AlignmentFlag.AlignRight)
        side = QHBoxLayout()
        side.addWidget(self.attach_button)
        side.addWidget(self.send_button)
        side.addWidget(self.stop_button)
        buttons.addLayout(side)
        row.addLayout(buttons)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 6, 12, 10)
        lay.addWidget(self.hint)
        lay.addWidget(self.error)
        lay.addWidget(self.chips)
        lay.addLayout(row)

        self._reason = ""
        self._busy = False
        self._loading_draft = False
        self._reading = 0
        self._draft_timer = QTimer(self, singleShot=True, interval=400)
        self._draft_timer.timeout.connect(lambda: self.draft_changed.emit(self.content()))
        self._count_timer = QTimer(self, singleShot=True, interval=150)
        self._count_timer.timeout.connect(self._count)
        self.edit.send_requested.connect(self._send)
        self.send_button.clicked.connect(self._send)
        self.stop_button.clicked.connect(self.stop.emit)
        self.attach_button.clicked.connect(self.choose_files)
        self.edit.textChanged.connect(self._text_changed)
        self.edit.files_dropped.connect(self.attach_files)
        self.edit.long_paste.connect(self._long_paste)
        self.chips.changed.connect(self._chips_changed)
        self.edit.document().documentLayout().documentSizeChanged.connect(lambda _s: self._fit())
        self._fit()
        self._count()
        self._update()

    # -- spelling and workers -------------------------------------------------------------------
    def enable_spelling(self, tasks) -> None:
        """Spell checking, its word lists loaded on a worker when the student first types (not
        during start-up, which they would slow); nothing is marked until then."""
        self.tasks = tasks
        self._spelling_wanted = True
        if self.edit.toPlainText():
            self._load_spelling()

    _spelling_wanted = False

    def _load_spelling(self) -> None:
        from archpal_desktop.ui.spelling import SpellHighlighter, load_checker
        self._spelling_wanted = False
        self.edit.spelling = SpellHighlighter(self.edit.document())
        hl = self.edit.spelling
        self.tasks.run_in_background(lambda: load_checker(), hl.set_checker,
                                     lambda exc: self.edit.setToolTip(f"Spell checking is off ({exc})."))

    # -- size -----------------------------------------------------------------------------------
    def _fit(self) -> None:
        fm = QFontMetrics(self.edit.font())
        lines = max(MIN_LINES, int(self.edit.document().documentLayout().documentSize().height()))
        frame = int(self.edit.document().documentMargin() * 2 + self.edit.frameWidth() * 2) + 4
        want = lines * fm.lineSpacing() + frame
        win = self.window()
        cap = int(win.height() * MAX_SHARE) if win is not None and win is not self else 400
        cap = max(cap, MIN_LINES * fm.lineSpacing() + frame)
        h = min(want, cap)
        if self.edit.height() != h or self.edit.minimumHeight() != h:
            self.edit.setFixedHeight(h)
        self.edit.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded if want > cap
                                             else Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def refit(self) -> None:
        """Heights again for the current text size (the box's line count does not change with
        the font, so its document does not say so)."""
        self._fit()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == event.Type.FontChange:
            self._fit()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        win = self.window()
        if win is not None and win is not self:
            win.installEventFilter(self)
        self._fit()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if obj is self.window() and event.type() == event.Type.Resize:
            self._fit()
        return False

    # -- attachments ----------------------------------------------------------------------------
    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Attach a draft", "", FILE_FILTER)
        if paths:
            self.attach_files(paths)

    def attach_files(self, paths: list) -> None:
        self.show_error("")
        for path in paths:
            self._reading += 1
            self._update()
            if self.tasks is None:
                try:
                    self._attached(core_att.read_file(path))
                except core_att.AttachmentError as exc:
                    self._failed(exc)
                continue
            self.tasks.run_in_background(lambda p=path: core_att.read_file(p), self._attached, self._failed)

    def _attached(self, att) -> None:
        self._reading -= 1
        total = len(self.content()) + len(att.text)
        if total > core_att.MAX_TEXT_CHARS + 20_000:
            self.show_error(f"“{att.name}” was not attached: with it the message would be {total:,} "
                            f"characters, more than ArchPal takes ({core_att.MAX_TEXT_CHARS:,}). "
                            "Remove another attachment or attach a shorter part.")
        else:
            self.chips.add(att)
        self._update()

    def _failed(self, exc: BaseException) -> None:
        self._reading -= 1
        if isinstance(exc, core_att.AttachmentError):
            self.show_error(str(exc))
        else:
            self.show_error("The file could not be read. Nothing was attached.")
        self._update()

    def _long_paste(self, text: str) -> None:
        self.show_error("")
        if not text and self.edit.too_long_bytes:
            size, self.edit.too_long_bytes = self.edit.too_long_bytes, 0
            self.show_error(f"The pasted text is too long to send ({size / 1_048_576:.1f} MB; ArchPal takes up "
                            f"to {core_att.MAX_TEXT_CHARS:,} characters per message). Nothing was pasted; "
                            "it is still on your clipboard.")
            return
        try:
            att = core_att.Attachment("Pasted text", core_att.check_text("The pasted text", text), "text")
        except core_att.AttachmentError as exc:
            self.show_error(f"{exc} Nothing was pasted; it is still on your clipboard.")
            return
        self.chips.add(att)
        self.show_notice_once("Long pasted text is attached as a block, so the message box stays quick.")

    def show_notice_once(self, text: str) -> None:
        self.hint.setText(text)
        self.hint.show()

    def show_error(self, text: str) -> None:
        from archpal_desktop.ui import theme
        self.error.setStyleSheet(f"color: {theme.current().error};")
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def _chips_changed(self) -> None:
        self._count()
        self._update()
        if not self._loading_draft:
            self._draft_timer.start()

    # -- state --------------------------------------------------------------------------------
    def set_disabled_reason(self, reason: str) -> None:
        """Empty = can send. Otherwise the words shown to say why not (e.g. no conversation)."""
        self._reason = reason
        self._update()

    def set_busy(self, busy: bool) -> None:
        """A reply is streaming: Stop instead of Send (the student may keep typing)."""
        self._busy = busy
        self._update()

    def set_notice(self, text: str) -> None:
        """A non-blocking remark (e.g. offline: messages will wait)."""
        self._notice = text
        self._update()

    _notice = ""

    def _has_content(self) -> bool:
        return bool(self.edit.toPlainText().strip()) or bool(self.chips.chips)

    def _update(self) -> None:
        blocked = bool(self._reason)
        self.edit.setReadOnly(blocked)
        self.send_button.setVisible(not self._busy)
        self.stop_button.setVisible(self._busy)
        self.send_button.setEnabled(not blocked and not self._busy and self._has_content()
                                    and not self._reading)
        text = self._reason or ("ArchPal is writing — press Esc or Stop to end the reply." if self._busy
                                else self._notice)
        self.hint.setText(text)
        self.hint.setVisible(bool(text))
        a11y.announce(self.hint, text)
        if blocked:
            self.send_button.setToolTip(plain.tip(self._reason))
        elif self._reading:
            self.send_button.setToolTip("Reading the attached file…")
        else:
            self.send_button.setToolTip("Send (Enter)" if self._has_content() else "Write a message first")

    def _count(self) -> None:
        n = core_att.count_words(self.edit.toPlainText())
        extra = sum(a.words for a in self.chips.attachments)
        label = f"{n:,} word{'s' if n != 1 else ''}"
        if extra:
            label += f" + {extra:,} attached"
        if self.sprint_words is not None:   # a writing sprint is running (ui/sprint_controller.py)
            label += f"  ·  {self.sprint_words:,} this sprint"
        self.words.setText(label)

    sprint_words: int | None = None

    def set_sprint_words(self, words: int | None) -> None:
        """Words written during the running sprint, shown beside the count (None: no sprint)."""
        if words != self.sprint_words:
            self.sprint_words = words
            self._count()

    @property
    def can_send(self) -> bool:
        return not self._reason and not self._busy and not self._reading

    def content(self) -> str:
        """What would be sent: the text, then each attachment as its marked block."""
        return core_att.message_content(self.edit.toPlainText(), self.chips.attachments)

    def _send(self) -> None:
        if not self._has_content() or not self.can_send:
            return
        content = self.content().strip()
        if len(content) > core_att.MAX_TEXT_CHARS + 20_000:
            self.show_error(f"This message is too long to send ({len(content):,} characters; ArchPal takes "
                            f"up to {core_att.MAX_TEXT_CHARS:,}). Remove an attachment or shorten it.")
            return
        self.show_error("")
        self.send.emit(content)

    def clear(self) -> None:
        self.edit.clear()
        self.chips.clear()
        self._draft_timer.stop()
        self.draft_changed.emit("")

    def load_draft(self, text: str) -> None:
        """Show a saved draft (attachment blocks come back as chips)."""
        self._loading_draft = True
        try:
            self.chips.clear()
            parts = core_att.split_blocks(text) if "📎" in text else [("text", text, "")]
            plain = []
            for kind, a, b in parts:
                if kind == "attachment":
                    self.chips.add(core_att.Attachment(a, b))
                else:
                    plain.append(a)
            self.edit.setPlainText("".join(plain).strip("\n") if len(parts) > 1 else "".join(plain))
            cursor = self.edit.textCursor()
            cursor.movePosition(cursor.MoveOperation.End)
            self.edit.setTextCursor(cursor)
        finally:
            self._loading_draft = False
        self._draft_timer.stop()
        self._count()
        self._update()

    def edit_as_new(self, content: str) -> None:
        """A sent message back in the box to change and send again (what was there is kept)."""
        current = self.content().strip()
        self.load_draft(f"{current}\n\n{content}" if current else content)
        self.edit.setFocus()
        self._draft_timer.start()

    def flush_draft(self) -> None:
        if self._draft_timer.isActive():
            self._draft_timer.stop()
            self.draft_changed.emit(self.content())

    def _text_changed(self) -> None:
        if self._spelling_wanted and self.tasks is not None and self.edit.toPlainText():
            self._load_spelling()   # at the first text, not at an empty draft's load
        self._update()
        self._count_timer.start()
        if not self._loading_draft:
            self._draft_timer.start()
