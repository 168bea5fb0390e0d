"""Engine and sessions. One engine per process, made on first use, never at import.

SQLite gets WAL and a busy timeout so the SFTP server, the web app and workers can
share one file; PostgreSQL is used as configured by ``DATABASE_URL``.

A pooled PostgreSQL connection is checked on checkout without a round trip (see
:func:`_server_still_there`), and :func:`autocommit` runs a statement that is its own
transaction without BEGIN and COMMIT: a worker's job is a few one-statement
transactions, and each round trip costs CPU in the worker, libpq and PostgreSQL.
"""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.orm import Session, sessionmaker

_lock = threading.Lock()
_engines: dict[tuple[int, str], tuple[Engine, sessionmaker]] = {}


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")  # a committed document survives power loss
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, pool_size=5, max_overflow=10)
    event.listen(engine, "checkout", lambda dbapi_connection, _record, _proxy:
                 _server_still_there(engine.dialect, dbapi_connection))
    return engine


def _server_still_there(dialect, dbapi_connection) -> None:
    """What ``pool_pre_ping`` is for (a restarted or cut-off PostgreSQL leaves dead
    connections in the pool), without its ``SELECT 1`` round trip on every checkout.

    An idle connection's socket has nothing to read unless the server spoke: a server
    that shut down, terminated the backend or went away sent its goodbye (an error
    message, FIN or RST), and that makes the socket readable. Only then is the ping
    sent; if it fails, the pool throws away every connection made before now and gives
    this checkout a new one, exactly as a failed pre-ping does."""
    try:
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN)
        quiet = not poller.poll(0)
    except Exception:  # a closed connection has no socket to look at
        quiet = False
    if quiet:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except Exception as exc:
        raise InvalidatePoolError(f"the connection was closed by the server: {exc}") from exc


def sessions(url: str) -> sessionmaker:
    """The session factory for ``url`` in this process (re-made after a fork)."""
    key = (os.getpid(), url)
    with _lock:
        if key not in _engines:
            engine = make_engine(url)
            _engines[key] = (engine, sessionmaker(engine, expire_on_commit=False))
        return _engines[key][1]


def engine_for(url: str) -> Engine:
    sessions(url)
    return _engines[(os.getpid(), url)][0]


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on any exception."""
    session = sessions(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def transaction_cache(s: Session, key: str) -> dict:
    """A dict kept in session ``s`` for its current transaction only: what one transaction
    has read (a PO) or locked (a PO's flow) is asked of the database once, and a session
    used again after a commit or rollback starts afresh (another transaction may have
    changed those rows since)."""
    transaction = s.get_transaction() or s.begin()  # begun now, as the first query would
    held = s.info.get(key)
    if held is None or held[0] is not transaction:
        held = s.info[key] = (transaction, {})
    return held[1]


@contextmanager
def autocommit(url: str) -> Iterator[Connection]:
    """A pooled connection on which each statement commits on its own: for a transaction
    of one statement (a lease, a verdict) it saves the BEGIN and COMMIT round trips."""
    with engine_for(url).connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


def dispose_all() -> None:
    with _lock:
        for (pid, _url), (engine, _factory) in list(_engines.items()):
            if pid == os.getpid():
                engine.dispose()
        _engines.clear()


def _after_fork_in_child() -> None:
    # Pooled connections belong to the parent; a forked RQ work horse must not reuse them.
    # A lock another parent thread held at the fork would stay held forever here: renew it.
    global _lock
    _lock = threading.Lock()
    for (_pid, _url), (engine, _factory) in list(_engines.items()):
        engine.dispose(close=False)
    _engines.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)
