"""A keyboard for the test desktop: X key events through XTest (libXtst, via ctypes).

To the app these are a person's key presses: they arrive from the X server exactly as a real
keyboard's do. (The AT-SPI registry can synthesise keys too, but a held modifier through it
deadlocked against Qt's own key forwarding to the registry: Ctrl+, never arrived.)
"""
from __future__ import annotations

import ctypes
import ctypes.util
import time

NAMES = {"\n": "Return", "\t": "Tab", " ": "space"}


class Keyboard:
    def __init__(self, display: str):
        self.x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
        self.xtst = ctypes.CDLL(ctypes.util.find_library("Xtst") or "libXtst.so.6")
        self.x11.XOpenDisplay.restype = ctypes.c_void_p
        self.x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x11.XStringToKeysym.restype = ctypes.c_ulong
        self.x11.XStringToKeysym.argtypes = [ctypes.c_char_p]
        self.x11.XKeysymToKeycode.restype = ctypes.c_ubyte
        self.x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        self.x11.XkbKeycodeToKeysym.restype = ctypes.c_ulong
        self.x11.XkbKeycodeToKeysym.argtypes = [ctypes.c_void_p, ctypes.c_ubyte, ctypes.c_int, ctypes.c_int]
        self.x11.XFlush.argtypes = [ctypes.c_void_p]
        self.x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
        self.x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.xtst.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
        self.dpy = self.x11.XOpenDisplay(display.encode())
        if not self.dpy:
            raise RuntimeError(f"cannot open X display {display}")
        self.shift = self._code("Shift_L")

    def close(self) -> None:
        if self.dpy:
            self.x11.XCloseDisplay(self.dpy)
            self.dpy = None

    def _code(self, keysym_name: str) -> int:
        sym = self.x11.XStringToKeysym(keysym_name.encode())
        code = self.x11.XKeysymToKeycode(self.dpy, sym) if sym else 0
        if not code:
            raise ValueError(f"no key for {keysym_name!r} in this keymap")
        return code

    def _press(self, code: int, down: bool) -> None:
        self.xtst.XTestFakeKeyEvent(self.dpy, code, 1 if down else 0, 0)

    def _tap(self, code: int, shift: bool = False, mods: tuple[int, ...] = ()) -> None:
        held = list(mods) + ([self.shift] if shift else [])
        for m in held:
            self._press(m, True)
        self._press(code, True)
        self._press(code, False)
        for m in reversed(held):
            self._press(m, False)
        self.x11.XSync(self.dpy, 0)
        time.sleep(0.01)    # let the app's event loop keep up, as a person's typing would

    def key(self, name: str, *modifiers: str) -> None:
        """``key("Tab")``, ``key("comma", "Control_L")``, ``key("Tab", "Shift_L")``."""
        self._tap(self._code(name), mods=tuple(self._code(m) for m in modifiers))

    def type_text(self, text: str) -> None:
        for ch in text:
            name = NAMES.get(ch) or (ch if ch.isalnum() and ch.isascii() else f"U{ord(ch):04X}")
            sym = self.x11.XStringToKeysym(name.encode())
            code = self.x11.XKeysymToKeycode(self.dpy, sym)
            if not code:
                raise ValueError(f"cannot type {ch!r} on this keymap")
            shifted = self.x11.XkbKeycodeToKeysym(self.dpy, code, 0, 0) != sym
            self._tap(code, shift=shifted)
