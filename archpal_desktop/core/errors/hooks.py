"""Nothing raised is lost (after anki's ErrorHandler): an exception nobody caught, on the main
thread (a Qt slot included: PySide hands those to ``sys.excepthook``) or on any other thread,
is logged with its traceback and shown to the person in words, instead of vanishing."""
from __future__ import annotations

import logging
import sys
import threading
from types import TracebackType
from typing import Callable

from archpal_desktop.core.errors.s3 import map_exception
from archpal_desktop.core.errors.tree import ArchPalError

log = logging.getLogger("archpal_desktop.unexpected")


def install(show: Callable[[str], None]) -> Callable[[], None]:
    """Route uncaught exceptions to the log and to ``show(text)`` (which may be called from any
    thread). Returns the function that puts the previous hooks back."""
    previous_sys, previous_thread = sys.excepthook, threading.excepthook

    def report(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None,
               where: str) -> None:
        log.error("unexpected error %s", where, exc_info=(exc_type, exc, tb))
        err = exc if isinstance(exc, ArchPalError) else map_exception(exc)
        try:
            show(str(err))
        except Exception:  # noqa: BLE001 - showing it must not raise again
            log.exception("the error could not be shown")

    def on_main(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            previous_sys(exc_type, exc, tb)
            return
        report(exc_type, exc, tb, "on the main thread")

    def on_thread(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        name = args.thread.name if args.thread is not None else "?"
        report(args.exc_type, args.exc_value, args.exc_traceback, f"in thread {name}")

    sys.excepthook = on_main
    threading.excepthook = on_thread

    def restore() -> None:
        sys.excepthook, threading.excepthook = previous_sys, previous_thread
    return restore
