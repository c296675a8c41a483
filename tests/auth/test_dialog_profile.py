"""The profile form driven from the keyboard; what it saves is the web app's info.json."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit

from archpal_desktop.core import layout
from archpal_desktop.core.cache import Store
from archpal_desktop.ui.profile_form import ProfileForm

pytestmark = pytest.mark.gui
SUB = "7f1c3a52-0a8e-4c49-9d0c-2f3b8d6e5a10"


@pytest.fixture
def store(tmp_path):
    s = Store.open_for_user(tmp_path / "data", SUB)
    yield s
    s.close()


def shown(form, name) -> str:
    label = form.findChild(QLabel, name)
    return label.text() if label.isVisible() else ""


def open_form(qtbot, store, **kw):
    form = ProfileForm(store, email="ada@uga.edu", **kw)
    qtbot.addWidget(form)
    form.show()
    qtbot.waitExposed(form)
    return form


def test_every_field_is_required(qtbot, store):
    form = open_form(qtbot, store)
    first = form.findChild(QLineEdit, "profile_first_name")
    assert form.focusWidget() is first
    qtbot.keyClicks(first, "   ")  # blanks only
    qtbot.keyClick(first, Qt.Key_Return)
    for key in ("first_name", "last_name", "major", "course_number"):
        assert shown(form, f"profile_{key}_error") == "Required.", key
    assert shown(form, "profile_college_year_error") == "Choose your college year."
    assert store.get_profile() is None and form.isVisible()


def test_fill_by_keyboard_and_save_trimmed(qtbot, store):
    form = open_form(qtbot, store)
    saved = []
    form.saved.connect(saved.append)
    focus = form.focusWidget
    qtbot.keyClicks(focus(), "  Ada ")
    qtbot.keyClick(focus(), Qt.Key_Tab)
    qtbot.keyClicks(focus(), "Lovelace")
    qtbot.keyClick(focus(), Qt.Key_Tab)
    assert isinstance(focus(), QComboBox)
    qtbot.keyClick(focus(), Qt.Key_Down)
    qtbot.keyClick(focus(), Qt.Key_Down)  # "Second Year"
    qtbot.keyClick(focus(), Qt.Key_Tab)
    qtbot.keyClicks(focus(), "Mathematics")
    qtbot.keyClick(focus(), Qt.Key_Tab)
    qtbot.keyClicks(focus(), " MATH 2250 ")
    with qtbot.waitSignal(form.saved, timeout=10000):
        qtbot.keyClick(focus(), Qt.Key_Return)
        assert form.busy and not form.save_button.isEnabled()  # saved off the UI thread
    profile = store.get_profile()
    assert {k: profile[k] for k in layout.PROFILE_TEXT_FIELDS} == {
        "first_name": "Ada", "last_name": "Lovelace", "college_year": "Second Year",
        "major": "Mathematics", "course_number": "MATH 2250"}
    assert profile["email"] == "ada@uga.edu" and profile["cognito_user_id"] == SUB
    assert saved[0]["first_name"] == "Ada" and form.result() == form.DialogCode.Accepted


def test_edit_later_is_prefilled(qtbot, store):
    store.save_profile({"first_name": "Ada", "last_name": "Lovelace", "college_year": "PhD Student",
                        "major": "Maths", "course_number": "MATH 9000"}, email="ada@uga.edu")
    form = open_form(qtbot, store, profile=store.get_profile())
    assert form.windowTitle() == "Your profile"
    assert form.findChild(QComboBox, "profile_college_year").currentText() == "PhD Student"
    major = form.findChild(QLineEdit, "profile_major")
    major.selectAll()
    qtbot.keyClicks(major, "History")
    with qtbot.waitSignal(form.saved, timeout=10000):
        qtbot.keyClick(major, Qt.Key_Return)
    assert store.get_profile()["major"] == "History"
    assert store.get_profile()["first_name"] == "Ada"
