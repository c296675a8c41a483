"""The two small sprint dialogs: starting one yourself (minutes and a goal), and "My sprints"
(this week's sprints, minutes and words per conversation, from this computer's cache)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QHeaderView, QLabel, QLineEdit,
                               QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout)

from archpal_desktop.core.assistant.offer import GOAL_CHARS, MAX_MINUTES, MIN_MINUTES
from archpal_desktop.ui import a11y, plain


class StartSprintDialog(QDialog):
    def __init__(self, parent=None, minutes: int = 25, goal: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Start a writing sprint")
        self.setAccessibleName("Start a writing sprint")
        intro = QLabel("A sprint is a stretch of focused writing with one small goal. ArchPal "
                       "keeps time and asks how it went at the end.", self)
        intro.setWordWrap(True)
        self.minutes = QSpinBox(self)
        self.minutes.setObjectName("sprintMinutes")
        self.minutes.setRange(MIN_MINUTES, MAX_MINUTES)
        self.minutes.setValue(minutes)
        self.minutes.setSuffix(" minutes")
        self.minutes.setAccessibleName("Sprint length in minutes")
        self.goal = QLineEdit(goal, self)
        self.goal.setObjectName("sprintGoalField")
        self.goal.setMaxLength(GOAL_CHARS)
        self.goal.setPlaceholderText("e.g. Draft the introduction")
        self.goal.setAccessibleName("Sprint goal")
        form = QFormLayout()
        form.addRow(a11y.label_for("&Length:", self.minutes, self), self.minutes)
        form.addRow(a11y.label_for("&Goal:", self.goal, self), self.goal)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.start_button = buttons.addButton("Start", QDialogButtonBox.ButtonRole.AcceptRole)
        self.start_button.setObjectName("sprintStart")
        self.start_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(form)
        lay.addWidget(buttons)
        self.goal.setFocus()

    def values(self) -> tuple[int, str]:
        return self.minutes.value(), self.goal.text().strip()


class MySprintsDialog(QDialog):
    COLUMNS = ("Conversation", "Sprints", "Minutes", "Words")

    def __init__(self, rows: list[dict], parent=None):
        super().__init__(parent)
        self.setWindowTitle("My sprints")
        self.setAccessibleName("My sprints this week")
        sprints = sum(r["sprints"] for r in rows)
        minutes = sum(r["minutes"] for r in rows)
        words = sum(r["words"] for r in rows)
        self.total = plain.label(QLabel(self))
        self.total.setObjectName("sprintTotals")
        self.total.setText(
            f"The last 7 days: {a11y.plural(sprints, 'sprint')}, {a11y.plural(minutes, 'minute')} of "
            f"focused writing, {a11y.plural(words, 'word')} written here." if rows else
            "No sprints in the last 7 days. Start one from Chat ▸ Start a writing sprint…, or "
            "ask ArchPal to help you plan a writing session.")
        self.total.setWordWrap(True)
        table = QTableWidget(len(rows), len(self.COLUMNS), self)
        table.setObjectName("sprintsTable")
        table.setAccessibleName("Sprints per conversation")
        table.setHorizontalHeaderLabels(list(self.COLUMNS))
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, row in enumerate(rows):
            values = (row["title"], f"{row['sprints']:,}", f"{row['minutes']:,}", f"{row['words']:,}")
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                table.setItem(r, c, item)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(self.COLUMNS)):
            table.horizontalHeader().setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        table.setVisible(bool(rows))
        self.table = table
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.total)
        lay.addWidget(table, 1)
        lay.addWidget(buttons)
        self.resize(560, 360)
