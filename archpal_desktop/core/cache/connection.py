"""Connections to one cache file: one per thread, checked, durable (docs/ARCHITECTURE.md, "Threads").

The threading rule: **a connection belongs to the thread that opened it.** A ``Store`` opens a
connection for each thread that uses it (``Connections.get``), so a reader on one thread never
sees another thread's uncommitted transaction, and writes are serialised by one lock per store
plus SQLite's own file lock (``BEGIN IMMEDIATE``) across processes. A connection used from any
other thread raises :class:`WrongThreadError` at once (always, not only in tests: it is a bug,
and the cost is one integer comparison per statement).

Durability: every connection runs WAL with ``synchronous=FULL``, so a commit the app reported
(a message saved, a rename, a delete, the profile, a draft) survives a power cut or an OS crash;
NORMAL would keep the file consistent but could roll the last commits back.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

if TYPE_CHECKING:   # imported on first use: ~90 ms (click, pluggy, dateutil) the window's start
    import sqlite_utils  # does not need (its reads are plain SQL, bench ui.startup_1000)

from archpal_desktop.core import paths

log = logging.getLogger(__name__)

#: what every connection is set to; read back from SQLite after opening (``settings``)
PRAGMAS = {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "busy_timeout": 30000}


class WrongThreadError(RuntimeError):
    """A cache connection was used from a thread other than the one that opened it."""


class Connection(sqlite3.Connection):
    """An ``sqlite3.Connection`` that refuses use from any thread but its owner's."""

    owner: int = 0
    settings: dict[str, Any]
    _db: sqlite_utils.Database | None = None

    @property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils over this connection (its writes join the open transaction: savepoints)."""
        if self._db is None:
            import sqlite_utils
            self._db = sqlite_utils.Database(self, recursive_triggers=False, execute_plugins=False)
        return self._db

    def _check(self) -> None:
        if threading.get_ident() != self.owner:
            raise WrongThreadError(
                f"cache connection of thread {self.owner} used from thread {threading.get_ident()} "
                "({}); ask the Store for this thread's own connection (store.conn)".format(
                    threading.current_thread().name))

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        self._check()
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        self._check()
        return super().executemany(sql, parameters)

    def executescript(self, script: str, /) -> sqlite3.Cursor:
        self._check()
        return super().executescript(script)

    def cursor(self, *args: Any, **kwargs: Any) -> sqlite3.Cursor:  # type: ignore[override]
        self._check()
        return super().cursor(*args, **kwargs)

    # a commit or rollback from another thread would end the owner's open transaction
    def commit(self) -> None:
        self._check()
        super().commit()

    def rollback(self) -> None:
        self._check()
        super().rollback()


def create_private(path: Path) -> None:
    """Create the file 0600 before SQLite does, so it is never readable by others."""
    paths.ensure_private_dir(path.parent)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)


def open_connection(path: Path) -> Connection:
    """A new connection owned by the calling thread, with the cache's pragmas applied."""
    path = Path(path)
    create_private(path)
    # check_same_thread=False only so Store.close() may close a connection whose thread has
    # ended; the ownership check in Connection is the rule for every statement
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False,
                           factory=Connection)
    assert isinstance(conn, Connection)
    conn.owner = threading.get_ident()
    # busy_timeout first: two processes opening a new cache at once wait for each other
    conn.execute(f"PRAGMA busy_timeout={PRAGMAS['busy_timeout']}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.settings = {name: conn.execute(f"PRAGMA {name}").fetchone()[0] for name in PRAGMAS}
    for suffix in ("-wal", "-shm"):
        side = Path(str(path) + suffix)
        if side.exists() and os.name == "posix":
            os.chmod(side, 0o600)
    return conn


class Connections:
    """The per-thread connections of one cache file (the "one Store factory" of the rule)."""

    def __init__(self, path: Path, first: Connection):
        self.path = path
        self._lock = threading.Lock()
        self._by_thread: dict[int, tuple[threading.Thread, Connection]] = {
            first.owner: (threading.current_thread(), first)}
        self.closed = False

    def get(self) -> Connection:
        ident = threading.get_ident()
        entry = self._by_thread.get(ident)
        me = threading.current_thread()
        if entry is not None and entry[0] is me:
            return entry[1]
        if self.closed:
            raise sqlite3.ProgrammingError("Cannot operate on a closed cache.")
        conn = open_connection(self.path)
        with self._lock:
            # an ended thread's id can be reused by a new thread: that one gets its own
            old = self._by_thread.pop(ident, None)
            if old is not None:
                _close_quietly(old[1])
            self._prune()
            self._by_thread[ident] = (me, conn)
        return conn

    def _prune(self) -> None:
        """Close the connections of Python threads that have ended (a sync's upload pool).
        Threads Qt's pools run never end before the app does (ui/tasks.py keeps them)."""
        for ident, (thread, conn) in list(self._by_thread.items()):
            if not isinstance(thread, threading._DummyThread) and not thread.is_alive():
                del self._by_thread[ident]
                _close_quietly(conn)

    def close(self) -> None:
        with self._lock:
            self.closed = True
            entries, self._by_thread = list(self._by_thread.values()), {}
        for _, conn in entries:
            _close_quietly(conn)


def _close_quietly(conn: sqlite3.Connection) -> None:
    try:
        sqlite3.Connection.close(conn)
    except sqlite3.Error:
        pass


def integrity_problem(path: Path) -> str | None:
    """None if SQLite's ``quick_check`` finds the file sound, else what it found."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return None if rows == ["ok"] else "; ".join(rows[:3])


def move_aside(path: Path, now: Callable[[], float] = time.time) -> Path:
    """Rename a damaged cache (and its WAL side files) next to itself; returns the new name."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now()))
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    for suffix in ("-wal", "-shm"):
        side = Path(str(path) + suffix)
        if side.exists():
            side.rename(Path(str(aside) + suffix))
    path.rename(aside)
    return aside


def open_checked(path: Path) -> Connection:
    """The first connection, migrated. A file SQLite cannot open is called damaged only when
    its integrity check says so; then it is moved aside (kept, never deleted) and the person is
    told where. Anything else is reported as it is, with the file left untouched."""
    from archpal_desktop.core.cache.schema import migrate
    from archpal_desktop.core.errors import BadDataError, StorageError

    conn: Connection | None = None
    try:
        conn = open_connection(path)
        migrate(conn)
        return conn
    except sqlite3.DatabaseError as exc:
        if conn is not None:
            sqlite3.Connection.close(conn)
        problem = integrity_problem(path)
        if problem is None:
            raise StorageError(f"The local cache {path} could not be opened ({exc}); it was left "
                               "as it is.", "Close other ArchPal windows and try again.") from exc
        aside = move_aside(path)
        log.error("cache %s failed its integrity check (%s); moved to %s", path, problem, aside)
        raise BadDataError(
            f"The local cache {path} is damaged (SQLite's integrity check: {problem}). It was "
            f"moved to {aside}, kept as it was.",
            "Start ArchPal again: it downloads your history again. Messages that were never "
            "uploaded are still in the moved file; your IT helpdesk can recover them.") from exc
    except BaseException:
        if conn is not None:
            sqlite3.Connection.close(conn)
        raise


class Transaction:
    """``with store.transaction() as changes:`` -- BEGIN IMMEDIATE ... COMMIT on this thread's
    connection; nested calls join the outer one. ``changes`` is what the transaction's writes
    changed (cache.changes), complete once the block has committed. ``lock`` serialises the
    store's writers in this process (SQLite's file lock does it across processes). ``on_commit``
    runs after a successful COMMIT of the outermost transaction (the announcement)."""

    def __init__(self, conn: Connection, lock: threading.RLock,
                 on_commit: Callable[[], object] | None = None,
                 on_rollback: Callable[[], None] | None = None,
                 pending: Callable[[], Any] | None = None):
        self.conn = conn
        self.lock = lock
        self.on_commit = on_commit
        self.on_rollback = on_rollback
        self.pending = pending
        self.outer = False

    def __enter__(self) -> Any:
        from archpal_desktop.core.errors import map_exception

        self.lock.acquire()
        self.outer = not self.conn.in_transaction
        if self.outer:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self.lock.release()
                raise map_exception(exc) from exc
        return self.pending() if self.pending is not None else None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        committed = False
        try:
            if self.outer:
                if exc_type is None:
                    try:
                        self.conn.execute("COMMIT")
                        committed = True
                    except sqlite3.Error as err:
                        self.conn.execute("ROLLBACK")
                        raise storage_error(err) from err
                else:
                    self.conn.execute("ROLLBACK")
        finally:
            self.lock.release()
            if self.outer and not committed and self.on_rollback is not None:
                self.on_rollback()
        if committed and self.on_commit is not None:
            self.on_commit()
        if exc_type is not None and isinstance(exc, sqlite3.Error):
            raise storage_error(exc) from exc


def storage_error(exc: sqlite3.Error) -> Exception:
    from archpal_desktop.core.errors import StorageError

    text = str(exc)
    if "full" in text.lower():
        return StorageError("The disk is full: your change could not be saved.",
                            "Free some disk space and try again; nothing already saved is lost.")
    return StorageError(f"The local cache could not be written ({text}).")
