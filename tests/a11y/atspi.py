"""A small AT-SPI client over D-Bus (jeepney), reading an app's tree the way Orca does.

Why jeepney: it is pure Python and already in the venv (keyring's Secret Service backend pulls it
in), so it imports in the project's pyenv Python, unlike Debian's python3-pyatspi/python3-gi which
are built for the system's 3.11. AT-SPI is only D-Bus: the session bus's ``org.a11y.Bus`` gives the
accessibility bus's address; on that bus the registry lists applications, each object answers
``org.a11y.atspi.Accessible`` (name, role, states, children), ``Text``, ``Component`` and
``Action``, and events arrive as ``org.a11y.atspi.Event.*`` signals once a listener registered for
them with the registry (which is what makes a toolkit start sending them).
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from jeepney import DBusAddress, HeaderFields, MatchRule, message_bus, new_method_call
from jeepney.io.blocking import Proxy, open_dbus_connection

REGISTRY = "org.a11y.atspi.Registry"
ROOT = "/org/a11y/atspi/accessible/root"
ACC = "org.a11y.atspi.Accessible"

# AtspiStateType (at-spi2-core's atspi-constants.h), the ones the checks use
STATES = {1: "active", 7: "editable", 8: "enabled", 11: "focusable", 12: "focused",
          16: "modal", 17: "multi-line", 22: "selectable", 23: "selected", 24: "sensitive",
          25: "showing", 30: "visible", 33: "required", 36: "invalid-entry", 43: "read-only"}

# roles a person can operate (Tab to, type into, press, pick)
INTERACTIVE = {"push button", "check box", "radio button", "combo box", "text", "password text",
               "entry", "spin button", "list", "list item", "menu item", "page tab", "slider",
               "toggle button", "table"}

@dataclass(frozen=True)
class Node:
    bus: str
    path: str


@dataclass
class Event:
    kind: str          # e.g. "Object:Announcement", "Object:StateChanged", "Focus:Focus"
    detail: str
    source: Node
    text: str = ""
    args: tuple = field(default_factory=tuple)


class AtSpi:
    def __init__(self, session_address: str, timeout: float = 10.0):
        session = open_dbus_connection(bus=session_address)
        try:
            reply = session.send_and_get_reply(new_method_call(
                DBusAddress("/org/a11y/bus", bus_name="org.a11y.Bus", interface="org.a11y.Bus"),
                "GetAddress"), timeout=timeout)
        finally:
            session.close()
        self.address = reply.body[0]
        self.conn = open_dbus_connection(bus=self.address)
        self.timeout = timeout
        self.events: deque = deque()
        self._filters = []

    def close(self) -> None:
        for f in self._filters:
            f.close()
        self.conn.close()

    # -- calls --------------------------------------------------------------------------------
    def call(self, node: Node, iface: str, method: str, sig: str | None = None, body: tuple = ()):
        msg = new_method_call(DBusAddress(node.path, bus_name=node.bus, interface=iface), method, sig, body)
        reply = self.conn.send_and_get_reply(msg, timeout=self.timeout)
        if reply.header.message_type.name == "error":
            raise RuntimeError(f"{iface}.{method} on {node}: {reply.body}")
        return reply.body

    def prop(self, node: Node, iface: str, name: str):
        return self.call(node, "org.freedesktop.DBus.Properties", "Get", "ss", (iface, name))[0][1]

    def applications(self) -> list[Node]:
        return [Node(*c) for c in self.call(Node(REGISTRY, ROOT), ACC, "GetChildren")[0]]

    def app_named(self, name: str, wait: float = 30.0) -> Node:
        deadline = time.monotonic() + wait
        while True:
            for app in self.applications():
                try:
                    if self.name(app) == name:
                        return app
                except RuntimeError:
                    pass   # an app that just left the bus
            if time.monotonic() > deadline:
                raise TimeoutError(f"no application named {name!r} on the accessibility bus")
            time.sleep(0.2)

    def name(self, n: Node) -> str:
        return self.prop(n, ACC, "Name")

    def description(self, n: Node) -> str:
        return self.prop(n, ACC, "Description")

    def role(self, n: Node) -> str:
        return self.call(n, ACC, "GetRoleName")[0]

    def children(self, n: Node) -> list[Node]:
        return [Node(*c) for c in self.call(n, ACC, "GetChildren")[0]]

    def parent(self, n: Node) -> Node:
        return Node(*self.prop(n, ACC, "Parent"))

    def states(self, n: Node) -> set[str]:
        lo, hi = self.call(n, ACC, "GetState")[0]
        bits = lo | (hi << 32)
        return {STATES.get(i, str(i)) for i in range(64) if bits & (1 << i)}

    def interfaces(self, n: Node) -> list[str]:
        return self.call(n, ACC, "GetInterfaces")[0]

    def relations(self, n: Node) -> dict[int, list[Node]]:
        out: dict[int, list[Node]] = {}
        for kind, targets in self.call(n, ACC, "GetRelationSet")[0]:   # a kind can repeat
            out.setdefault(kind, []).extend(Node(*t) for t in targets)
        return out

    def text(self, n: Node) -> str:
        count = self.prop(n, "org.a11y.atspi.Text", "CharacterCount")
        return self.call(n, "org.a11y.atspi.Text", "GetText", "ii", (0, count))[0]

    def text_at(self, n: Node, offset: int, granularity: int) -> str:
        """Text.GetStringAtOffset: granularity 0 char, 1 word, 2 sentence, 3 line, 4 paragraph."""
        return self.call(n, "org.a11y.atspi.Text", "GetStringAtOffset", "uu", (offset, granularity))[0]

    def extents(self, n: Node) -> tuple[int, int, int, int]:
        return tuple(self.call(n, "org.a11y.atspi.Component", "GetExtents", "u", (0,))[0])

    def actions(self, n: Node) -> list[str]:
        return [a[0] for a in self.call(n, "org.a11y.atspi.Action", "GetActions")[0]]

    def do_action(self, n: Node, name: str) -> None:
        self.call(n, "org.a11y.atspi.Action", "DoAction", "i", (self.actions(n).index(name),))

    def set_text(self, n: Node, text: str) -> None:
        self.call(n, "org.a11y.atspi.EditableText", "SetTextContents", "s", (text,))

    def grab_focus(self, n: Node) -> None:
        self.call(n, "org.a11y.atspi.Component", "GrabFocus")

    # -- the tree -----------------------------------------------------------------------------
    def walk(self, n: Node, *, showing_only: bool = True, depth: int = 0):
        """(depth, node) pre-order; hidden subtrees are left out, as Orca's flat review does."""
        try:
            if showing_only and depth and "showing" not in self.states(n):
                return
            kids = self.children(n)
        except RuntimeError:    # gone while we looked (a list reloaded): as Orca, move on
            return
        yield depth, n
        for c in kids:
            yield from self.walk(c, showing_only=showing_only, depth=depth + 1)

    def find(self, root: Node, *, role: str | None = None, name: str | None = None,
             wait: float = 0.0) -> Node:
        deadline = time.monotonic() + wait
        while True:
            for _d, n in self.walk(root):
                try:
                    if (role is None or self.role(n) == role) and (name is None or self.name(n) == name):
                        return n
                except RuntimeError:
                    continue
            if time.monotonic() >= deadline:
                raise LookupError(f"no {role or 'node'} named {name!r} under {self.name(root)!r}")
            time.sleep(0.1)

    def frames(self, app: Node) -> list[Node]:
        return [c for c in self.children(app) if "showing" in self.states(c)]

    def dump(self, root: Node, *, max_items: int = 6) -> str:
        """The tree as Orca's users hear it described: role 'name' [text] (description) {states}."""
        lines, items_under = [], {}
        for depth, n in self.walk(root):
            role, name = self.role(n), self.name(n)
            parent_key = (depth, self.parent(n)) if role in ("list item", "menu item") else None
            if parent_key is not None:
                items_under[parent_key] = items_under.get(parent_key, 0) + 1
                if items_under[parent_key] > max_items:
                    continue
            line = "  " * depth + f"{role} '{name}'"
            if "org.a11y.atspi.Text" in self.interfaces(n) and role not in ("text", "password text"):
                txt = self.text(n).replace("\n", " ⏎ ")
                if txt and txt != name:
                    line += f" [text: {txt[:90]}]"
            desc = self.description(n)
            if desc:
                line += f" (description: {desc[:90]})"
            st = self.states(n) & {"focused", "selected", "required", "invalid-entry"}
            if st:
                line += " {" + ", ".join(sorted(st)) + "}"
            lines.append(line)
        return "\n".join(lines)

    # -- events -------------------------------------------------------------------------------
    def listen(self, *event_names: str) -> None:
        """Register for events with the registry (so the toolkit emits them) and collect them."""
        for ev in event_names:
            for attempt in range(20):   # the registry is D-Bus activated: its first moments
                try:
                    self.call(Node(REGISTRY, "/org/a11y/atspi/registry"), "org.a11y.atspi.Registry",
                              "RegisterEvent", "sass", (ev, [], ""))
                    break
                except RuntimeError:
                    if attempt == 19:
                        raise
                    time.sleep(0.1)
        bus = Proxy(message_bus, self.conn)
        for iface in ("org.a11y.atspi.Event.Object", "org.a11y.atspi.Event.Focus",
                      "org.a11y.atspi.Event.Window"):
            rule = MatchRule(type="signal", interface=iface)
            bus.AddMatch(rule)
            self._filters.append(self.conn.filter(rule, queue=self.events))

    def _as_event(self, msg) -> Event:
        h = msg.header.fields
        iface = h[HeaderFields.interface].rsplit(".", 1)[-1]
        detail, d1, d2, any_data = msg.body[:4]
        value = any_data[1] if isinstance(any_data, tuple) and len(any_data) == 2 else any_data
        return Event(f"{iface}:{h[HeaderFields.member]}", detail,
                     Node(h.get(HeaderFields.sender, ""), h[HeaderFields.path]),
                     value if isinstance(value, str) else "", (d1, d2))

    def drain(self, timeout: float = 0.0) -> list[Event]:
        """Every event received so far (waiting up to ``timeout`` for the first)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.conn.recv_messages(timeout=max(0.0, min(0.05, deadline - time.monotonic())))
            except TimeoutError:
                if time.monotonic() >= deadline:
                    break
        out = [self._as_event(m) for m in self.events]
        self.events.clear()
        return out

    def wait_event(self, pred, timeout: float = 15.0) -> tuple[Event, list[Event]]:
        """The first event for which ``pred`` holds, and everything seen up to it."""
        seen: list[Event] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while self.events:
                ev = self._as_event(self.events.popleft())
                seen.append(ev)
                if pred(ev):
                    return ev, seen
            try:
                self.conn.recv_messages(timeout=max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                pass
        raise TimeoutError(f"no matching event in {timeout:.0f} s; saw: "
                           f"{[(e.kind, e.detail, e.text[:40]) for e in seen][-15:]}")

    def focused(self, app: Node) -> Node | None:
        for _d, n in self.walk(app):
            if "focused" in self.states(n):
                return n
        return None
