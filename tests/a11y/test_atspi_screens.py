"""The real app (demo backend) walked through AT-SPI as Orca walks it, screen by screen.

One app for the module, met as a new student meets it: sign-in dialog, profile form, main window,
settings; then a sent message's reply and going offline. Keys are real X key events synthesised by
the AT-SPI registry (what Orca's own key handling uses); what is checked is what the accessibility
bus exposes: roles, names, descriptions, relations, states, focus events and announcements.
The tests run in order and each starts where the previous one left the app.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.a11y.atspi import INTERACTIVE

pytestmark = pytest.mark.gui

LABELLED_BY = 2   # AtspiRelationType
#: names labels were given that hid their text ("error" on sign-in, the status bar's labels)
HIDING_NAMES = {"error", "Connection", "Composer status", "Last sync", "Changes waiting to upload",
                "Sync details", "Conversation title", "Sync problem", "Sign-in notice", "Word count",
                "Attachment problem"}
SHOTS = Path("/work/shots/a11y")
SAID: list[str] = []    # what Orca would say, collected for orca.txt
#: a message card's text as focus reaches it: who, when (and a state)
CARD_NAME = re.compile(r"(Your message|ArchPal's reply), \d\d \w{3} \d{4}, \d\d:\d\d(, .+)?$")


def say(line: str) -> None:
    SAID.append(line)


def problems_in(a, frame) -> list[str]:
    """Every showing interactive node needs a role and a name; no label hides its text."""
    out = []
    for _d, n in a.walk(frame):
        try:
            role, name = a.role(n), a.name(n).strip()
            relations = a.relations(n) if role == "combo box" else {}
        except RuntimeError:
            continue     # gone while we looked
        if role in INTERACTIVE and role != "list item" and not name:
            out.append(f"{role} with no name (description {a.description(n)!r})")
        if not role:
            out.append(f"node {name!r} with no role")
        if role == "label" and name in HIDING_NAMES:
            out.append(f"label named {name!r}: its text is hidden behind that name")
        if role == "combo box" and not relations.get(LABELLED_BY):
            out.append(f"combo box {name!r} has no label tied to it (labelled-by)")
    return out


def until(pred, timeout: float = 10.0, what: str = ""):
    """Poll the bus until ``pred()`` is truthy (a key's effect lands a moment later)."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout:.0f} s: {what}")
        time.sleep(0.05)


def settle(a, quiet: float = 0.6, most: float = 6.0) -> None:
    """Wait until the app has sent no event for ``quiet`` seconds (at most ``most``)."""
    import time
    deadline = time.monotonic() + most
    while time.monotonic() < deadline and a.drain(quiet):
        pass


def label_of(a, n) -> str:
    """The label tied to ``n`` (a buddy); a group box that also labels it comes after."""
    names = [a.name(t) for t in a.relations(n).get(LABELLED_BY) or []]
    roles = [a.role(t) for t in a.relations(n).get(LABELLED_BY) or []]
    return next((nm for nm, r in zip(names, roles) if r == "label"), names[0] if names else "")


def tab_order(reader, count: int) -> list[str]:
    names = []
    for _ in range(count):
        reader.a.drain()
        reader.kb.key("Tab")
        names.append(reader.focused_name())
    return names


def test_sign_in_screen(reader):
    a = reader.a
    dlg = reader.frame("Sign in to ArchPal")
    assert problems_in(a, dlg) == []
    email = a.find(dlg, role="text", name="E-mail")
    heading = [a.name(n) for _d, n in a.walk(dlg) if a.role(n) == "label"][:2]
    say(f"Opening the app: \"{a.name(dlg)}, dialog. {'. '.join(h.rstrip('.') for h in heading)}. {a.name(email)}, "
        f"{a.role(email)}, {a.description(email)}\"")
    password = a.find(dlg, role="text", name="Password")
    assert "focused" in a.states(email)
    assert label_of(a, email) == "E-mail" and label_of(a, password) == "Password"
    assert "Required." in a.description(email)
    # reading order: the fields (the password's show switch beside it), the primary button, the
    # two links, the university page's link on its own row, and round again
    assert tab_order(reader, 7) == ["Password", "Show the password", "Sign in", "Create an account",
                                    "Forgot password?", "Sign in on your university's page instead",
                                    "E-mail"]
    # nothing typed: the error is in the field's description and focus stays on the field
    a.drain()
    reader.kb.key("Return")
    until(lambda: "Error: Enter your e-mail address." in a.description(email), what="e-mail error")
    assert "focused" in a.states(email)
    assert not any(a.name(n) == "error" for _d, n in a.walk(dlg))
    reader.kb.type_text("demo.student@example.edu")
    reader.kb.key("Tab")
    reader.kb.type_text("ArchPal-Demo-1!")
    reader.kb.key("Return")


def test_profile_form(reader):
    a = reader.a
    form = reader.frame("Welcome to ArchPal")
    assert problems_in(a, form) == []
    year = a.find(form, role="combo box")
    assert label_of(a, year) == "College year"       # named by its label, not "Choose your year…"
    for name in ("First name", "Last name", "Major", "Course number"):
        field = a.find(form, role="text", name=name)
        assert label_of(a, field) == name and "Required." in a.description(field)
    first = a.find(form, role="text", name="First name")
    assert "focused" in a.states(first)
    assert tab_order(reader, 5) == ["Last name", a.name(year), "Major", "Course number", "Save"]
    # Save with nothing filled: focus goes to the first field in error, which says why
    a.drain()
    reader.kb.key("Return")
    until(lambda: a.description(first).startswith("Error: "), what="first name error")
    until(lambda: "focused" in a.states(first), what="focus on the first field in error")
    reader.kb.type_text("Ada")
    reader.kb.key("Tab")
    reader.kb.type_text("Lovelace")
    reader.kb.key("Tab")
    reader.kb.key("Down")            # the first year
    reader.kb.key("Tab")
    reader.kb.type_text("Mathematics")
    reader.kb.key("Tab")
    reader.kb.type_text("ENGL 1101")
    reader.kb.key("Return")


def test_main_window(reader):
    a = reader.a
    win = reader.frame("ArchPal main window")
    status = a.find(win, name="Sync status", wait=5)
    online = a.find(status, role="label", name="● Online", wait=30)
    assert a.description(online) == "Connection"
    assert problems_in(a, win) == []
    tree = a.dump(win)
    convs = a.find(win, role="list", name="Conversations")
    items = [a.name(c) for c in a.children(convs)]
    assert items and all(re.search(r", (1 message|\d+ messages)$", i) for i in items), items
    title = a.find(win, role="label", name=items[0].split(",")[0])    # the title, read as text
    assert a.description(title) == "Conversation title"
    say(f"Main window: \"ArchPal main window, frame. Conversations, list. {items[0]}. "
        f"Status: ● Online; {a.name(a.find(status, role='label', name='All changes uploaded'))}\"")
    # reading order: search, new, the list, the messages, the cards (each message's text, then
    # its buttons), the message box, and on to the menus
    reader.kb.key("f", "Control_L")                            # Find…: the search box
    until(lambda: (f := a.focused(win)) and a.name(f) == "Search conversations", what="search focused")
    order = tab_order(reader, 3)
    assert order[0] == "New conversation"
    assert order[1] == items[0]                        # the conversation list's current item
    assert order[2].startswith(("You, ", "ArchPal, "))  # a message, not just "list"
    # Tab into the cards: a card's text is named by who and when, its words are its Text
    a.drain()
    reader.kb.key("Tab")
    name, card = reader.focused_node()
    assert CARD_NAME.match(name), name
    assert "org.a11y.atspi.Text" in a.interfaces(card)
    shown = order[2].split(": ", 1)[1]                 # the list item's text after who and when
    assert a.text(card) == shown
    assert a.text_at(card, 0, 1).strip() == shown.split()[0]      # by word
    assert a.text_at(card, 0, 3).strip() == shown                 # by line (one line here)
    assert a.parent(a.parent(card)) and a.name(a.parent(a.parent(a.parent(card)))) == "Conversation messages"
    say(f"Tab into a message: \"{name}. {a.text(card)}\"")
    # then its buttons, each a named push button, and on to the message box: no trap
    buttons = []
    for _ in range(12):
        a.drain()
        reader.kb.key("Tab")
        name, node = reader.focused_node()
        if name == "Message to ArchPal":
            break
        if CARD_NAME.match(name):
            continue                                   # the next card's text
        assert a.role(node) == "push button" and name, (a.role(node), name)
        buttons.append(name)
    else:
        raise AssertionError(f"Tab never left the messages: {buttons}")
    assert "Copy the message" in buttons or "Copy the reply" in buttons, buttons
    # Qt lists only a list's rows as its children: the cards (a row's live widgets) are reached by
    # focus, as Orca reaches them; the tree file shows them under the list, as Tab met them
    SHOTS.mkdir(parents=True, exist_ok=True)
    card_lines = [f"          {a.role(card)} '{a.name(card)}' [text: {a.text(card)[:90]}] "
                  f"(description: {a.description(card)})"]
    card_lines += [f"          push button '{b}'" for b in buttons]
    marker = "list 'Conversation messages'"
    lines = tree.splitlines()
    at = next(i for i, ln in enumerate(lines) if marker in ln)
    end = at + 1
    while end < len(lines) and lines[end].startswith(" " * (len(lines[at]) - len(lines[at].lstrip()) + 2)):
        end += 1
    lines[end:end] = ["        (a message card, reached with Tab from the list:)"] + card_lines
    (SHOTS / "tree-after.txt").write_text("\n".join(lines) + "\n")
    # focus is in the message box now: the list's current item is no longer "focused"
    current = a.children(convs)[0]
    assert "selected" in a.states(current) and "focused" not in a.states(current)


def test_reply_is_announced_and_readable(reader):
    a = reader.a
    win = reader.frame("ArchPal main window")
    # a new conversation (the open one ends in a question nobody answered, which would ask
    # whether to answer both): Ctrl+N puts focus in the message box
    a.drain()
    reader.kb.key("n", "Control_L")
    until(lambda: (f := a.focused(win)) and a.name(f) == "Message to ArchPal", what="message box focused")
    a.drain()
    reader.kb.type_text("Help me plan my essay")
    reader.kb.key("Return")
    say("Sending a message: Ctrl+N, \"Help me plan my essay\" typed, Enter.")
    reply, seen = a.wait_event(lambda e: e.kind == "Object:Announcement" and e.text.startswith("ArchPal replied"), 30)
    for e in seen[:-1]:
        if e.kind == "Object:Announcement":
            say(f"  Orca: \"{e.text}\"")
    say(f"The reply arriving: Orca: \"{reply.text}\"")
    assert not re.search(r"\*\*|^#|```", reply.text)   # plain words, no Markdown syntax
    assert not any(e.kind == "Object:StateChanged" and e.detail == "focused" and e.args[0] == 1
                   for e in seen), "an announcement must not move focus"
    assert "focused" in a.states(a.find(win, role="text", name="Message to ArchPal"))
    chat = a.find(win, role="list", name="Conversation messages")
    # the reply is announced as it ends; its saved state reaches the list a moment later (the
    # window reloads the conversation when the run returns): "being written" goes
    last = until(lambda: (n := a.children(chat)[-1]) and "being written" not in a.name(n) and n,
                 what="the reply's final state in the list")
    assert re.match(r"ArchPal, \d\d \w{3} \d{4}, \d\d:\d\d: ", a.name(last)), a.name(last)
    # and the run is over when the message box stops saying ArchPal is writing (Ask again is
    # enabled, so in the Tab order, only then)
    until(lambda: not any(a.role(n) == "label" and a.name(n).startswith("ArchPal is writing")
                          for _d, n in a.walk(win)), what="the reply run finished")
    settle(a)            # its card is rebuilt for the final state, the upload's reload is done
    # back from the message box into the reply's card: its buttons, then its text
    for attempt in range(2):
        names = []
        for _ in range(8):
            a.drain()
            reader.kb.key("Tab", "Shift_L")
            name, node = reader.focused_node()
            names.append(name)
            if name.startswith("ArchPal's reply, "):
                break
        else:
            raise AssertionError(f"Shift+Tab from the message box never reached the reply: {names}")
        if "Ask again: another answer to the same question" in names or attempt:
            break
        # Ask again is greyed (out of the Tab order) while a run is still winding down on a
        # loaded machine: as a person would, wait a moment and go again from the message box
        settle(a)
        reader.kb.key("l", "Control_L")
    assert {"Copy the reply", "Ask again: another answer to the same question"} <= set(names), names
    assert CARD_NAME.match(name), name
    text = a.text(node)
    words = reply.text.removeprefix("ArchPal replied: ")
    assert text and "**" not in text and not text.lstrip().startswith("#")
    assert " ".join(text.split()) == words          # what was announced is what the card reads
    first_word = a.text_at(node, 0, 1).strip()
    assert first_word and text.startswith(first_word)                  # by word
    first_line = a.text_at(node, 0, 3)
    assert first_line.strip() and text.startswith(first_line.rstrip("\n"))  # by line
    say(f"Shift+Tab back to the reply: \"{name}, {a.role(node)}. {first_line.strip()}…\"")
    # the whole message in its own reader window: Shift+Tab to the list, End, Enter
    for _ in range(8):
        a.drain()
        reader.kb.key("Tab", "Shift_L")
        if a.role(reader.focused_node()[1]) == "list item":
            break
    reader.kb.key("End")
    until(lambda: "focused" in a.states(a.children(chat)[-1]), what="the last message focused")
    reader.kb.key("Return")
    dlg = reader.frame("Message from ArchPal")
    text_node = a.find(dlg, name="Message text")
    text = a.text(text_node)
    assert text.startswith("ArchPal, ") and "**" not in text and "#" not in text.split("\n", 1)[1]
    assert a.text_at(text_node, 0, 1).strip(" ,") == "ArchPal"       # by word
    assert a.text_at(text_node, 0, 3).startswith("ArchPal, ")
    reader.kb.key("Escape")
    reader.frame("ArchPal main window")


def test_search_hits_are_named(reader):
    a = reader.a
    win = reader.frame("ArchPal main window")
    reader.kb.key("f", "Control_L")
    until(lambda: (f := a.focused(win)) and a.name(f) == "Search conversations", what="search focused")
    # one thing has focus: the message the reply test left current is not "focused" as well
    focused = [a.name(n) for _d, n in a.walk(win) if "focused" in a.states(n)]
    assert focused == ["Search conversations"], focused
    reader.kb.type_text("urban parks")
    results = a.find(win, role="list", name="Search results", wait=10)
    names = until(lambda: [a.name(c) for c in a.children(results)], what="search hits")
    # each hit: the conversation's title, the date, who wrote the match, and the words found
    assert all(re.match(r".+, \d\d \w{3}( \d{4})?, (You|ArchPal): .*urban parks", n, re.I) for n in names), names
    # Tab from the box reaches the hits (past New conversation), named the same way
    got = tab_order(reader, 2)
    assert got[0] == "New conversation" and got[1] in names, got
    say(f"Searching: \"urban parks\" typed, Tab, Tab: \"{got[1]}\"")
    reader.kb.key("f", "Control_L")       # back to the box, emptied: the conversations return
    reader.kb.key("a", "Control_L")
    reader.kb.key("BackSpace")
    a.find(win, role="list", name="Conversations", wait=10)


def test_settings(reader):
    a = reader.a
    reader.frame("ArchPal main window")
    reader.kb.key("comma", "Control_L")
    dlg = reader.frame("Settings")
    assert problems_in(a, dlg) == []
    # every combo box is tied to the label that says what it is (its AT-SPI name is its value:
    # Qt's Linux bridge, as GTK; Orca reads the labelled-by label first)
    combos = {label_of(a, n): n for _d, n in a.walk(dlg) if a.role(n) == "combo box"}
    assert {"Who answers:", "Colours:"} <= set(combos) and all(k.strip() for k in combos), list(combos)
    theme = combos["Colours:"]
    assert a.name(theme) in ("Follow the system", "Light", "Dark")
    assert a.find(dlg, role="text", name="Folder for your work on this computer")
    # the technical fields are folded under Advanced: hidden from the tree until it is pressed
    # (Orca's "activate"), then there with names that say what they are
    assert not any(a.name(n) == "Coach model id" for _d, n in a.walk(dlg))
    a.do_action(a.find(dlg, name="Advanced settings"), "Press")
    for name in ("Coach model id", "Local model address", "Local model name", "In the background, sync every"):
        assert a.find(dlg, name=name, wait=5)
    reader.kb.key("Escape")
    reader.frame("ArchPal main window")


def test_going_offline_is_announced(reader):
    a = reader.a
    win = reader.frame("ArchPal main window")
    a.drain()
    reader.go_offline()
    reader.kb.key("r", "Control_L")       # Sync now: the sync finds the network gone
    ev, seen = a.wait_event(lambda e: e.kind == "Object:Announcement" and e.text.startswith("Offline"), 60)
    say(f"Going offline: Orca: \"{ev.text}\"")
    assert "focused" in a.states(a.focused(win)) if a.focused(win) else True
    status = a.find(win, name="Sync status")
    assert a.find(status, role="label", name=ev.text if ev.text.startswith("●") else "● " + ev.text)
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "orca.txt").write_text("What Orca would say (from the AT-SPI events this test read)\n\n"
                                    + "\n".join(SAID) + "\n")
