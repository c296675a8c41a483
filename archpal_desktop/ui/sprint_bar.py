"""The running writing sprint, as a slim bar above the conversation: the goal, the time left,
Pause/Resume, +5 minutes and Stop. It never takes the keyboard focus on its own and never
blocks the chat or the message box; at the end it says so until the student closes it."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

from archpal_desktop.ui import a11y, plain, theme


class SprintBar(QFrame):
    pause_clicked = Signal()      # pause, or resume when paused
    extend_clicked = Signal()
    stop_clicked = Signal()
    close_clicked = Signal()      # the ended bar's ×

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("sprintBar")
        self.setAccessibleName("Writing sprint")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = plain.label(QLabel(self))
        self.title.setObjectName("sprintGoal")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.left = QLabel(self)
        self.left.setObjectName("sprintTimeLeft")
        f = self.left.font()
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.15)
        self.left.setFont(f)
        a11y.value_label(self.left, "Time left in the sprint")
        self.pause_button = self._button("Pause", "Pause the sprint", self.pause_clicked)
        self.extend_button = self._button("+5 min", "Add five minutes to the sprint", self.extend_clicked)
        self.stop_button = self._button("Stop", "Stop the sprint now", self.stop_clicked)
        self.close_button = self._button("Close", "Close the sprint bar", self.close_clicked)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 6, 8, 6)
        lay.setSpacing(8)
        lay.addWidget(self.title, 1)
        lay.addWidget(self.left)
        for b in (self.pause_button, self.extend_button, self.stop_button, self.close_button):
            lay.addWidget(b)
        self.close_button.hide()
        self.refresh_look()
        self.hide()

    def refresh_look(self, _colors=None) -> None:
        c = theme.current()
        if getattr(self, "_look", None) == c.name:
            return
        self._look = c.name
        self.setStyleSheet(
            f"QFrame#sprintBar {{ background: {c.base}; border: none; border-left: 4px solid {c.accent}; "
            f"border-bottom: 1px solid {c.reply_border}; }} "
            f"QLabel#sprintGoal {{ color: {c.text}; }} QLabel#sprintTimeLeft {{ color: {c.text}; }}")

    def _button(self, text: str, name: str, signal) -> QPushButton:
        b = QPushButton(text, self)
        b.setAccessibleName(name)
        b.setToolTip(name)
        b.setFocusPolicy(Qt.FocusPolicy.TabFocus)   # reachable, never grabbed by a click
        b.clicked.connect(signal.emit)
        return b

    # -- what it shows --------------------------------------------------------------------------
    def show_running(self, goal: str, left: str, paused: bool, can_extend: bool) -> None:
        self.title.setText(f"Writing sprint: {goal}")
        self.left.setText(f"{left} paused" if paused else f"{left} left")
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_button.setAccessibleName("Resume the sprint" if paused else "Pause the sprint")
        self.extend_button.setEnabled(can_extend)
        for b in (self.pause_button, self.extend_button, self.stop_button):
            b.show()
        self.close_button.hide()
        self.setProperty("ended", False)
        self.refresh_look()
        self.show()

    def show_ended(self, text: str) -> None:
        self.title.setText(text)
        self.left.setText("")
        for b in (self.pause_button, self.extend_button, self.stop_button):
            b.hide()
        self.close_button.show()
        self.setProperty("ended", True)
        self.refresh_look()
        self.show()
        a11y.announce(self, text, repeat=True)
