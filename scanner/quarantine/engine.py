"""Async engines for the quarantine: SQLite (embedded default) or PostgreSQL (shared).

SQLite is tuned for "250 only after the message is durably held" (RFC 5321 §4.2.5: once
the server answers 250 to the end of data it is responsible for the message):

- ``journal_mode=WAL``: readers (the console) never block the proxy's writes.
- ``synchronous=FULL``: the WAL is fsynced at every commit. NORMAL+WAL is consistent but
  may lose the last commits on power loss, i.e. a message we already answered 250 for;
  FULL costs one fsync per hold, which is what durability means.
- ``secure_delete=ON``: pages freed when bytes are purged are overwritten with zeros instead
  of lingering in the file; purges also truncate the WAL (see `checkpoint`).
- ``busy_timeout``: writers queue for the lock instead of failing at once (set first; the
  switch to WAL is retried, see `_enter_wal`).
- SQLAlchemy emits ``BEGIN IMMEDIATE`` for writes, so a transaction takes the write lock up
  front and never fails half-way on a read-to-write lock upgrade; reads use plain ``BEGIN``.

Both engines use ``hide_parameters``: a database error must not carry bound values (envelope,
tokens) into a log line or traceback.

PostgreSQL needs nothing special: row locks make the conditional UPDATE of a release atomic.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import await_only

# Execution option marking a read-only transaction (plain BEGIN on SQLite).
READ_ONLY = "sendguard_read_only"

SQLITE_BUSY_TIMEOUT_MS = 30_000
CHECKPOINT_BUSY_TIMEOUT_MS = 500

log = logging.getLogger("sendguard.quarantine")


def _sqlite_path(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


class FileIdentity:
    """The SQLite database file as it was when the proxy opened it (device and inode).

    SQLite keeps writing through its open descriptor when the file is deleted or replaced
    underneath (``rm``, a restore, a deploy that swaps the directory): commits succeed into a
    file nobody will ever open again. A hold is acknowledged only if the path still names
    the file we opened, before and after its commit.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._identity = self._stat()

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def problem(self) -> str | None:
        """None while the path names the file we opened; else what happened to it."""
        now = self._stat()
        if now == self._identity:
            return None
        return "removed" if now is None else "replaced"


def sqlite_identity(url: str) -> FileIdentity | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    path = _sqlite_path(parsed)
    return FileIdentity(path) if path is not None else None


def make_engine(url: str, *, schema: str | None = None, sqlite_synchronous: str = "FULL") -> AsyncEngine:
    """An engine for `url`; `schema` (PostgreSQL only) puts our tables in that schema.

    `sqlite_synchronous` exists for the benchmark's FULL-vs-NORMAL comparison; keep FULL.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_path(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # the envelopes are in clear: owner-only from the start (SQLite gives its -wal and
            # -shm files the database file's permissions); an empty file is an empty database
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        engine = create_async_engine(parsed, hide_parameters=True)
        _tune_sqlite(engine, sqlite_synchronous)
        return engine
    connect_args: dict[str, Any] = {}
    if schema is not None:
        connect_args["server_settings"] = {"search_path": schema}
    return create_async_engine(parsed, pool_pre_ping=True, hide_parameters=True, connect_args=connect_args)


def _tune_sqlite(engine: AsyncEngine, synchronous: str) -> None:
    if synchronous not in ("FULL", "NORMAL", "EXTRA"):
        raise ValueError(f"unsupported SQLite synchronous mode {synchronous!r}")

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # take over BEGIN from the sqlite3 module (see module docstring)
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            _enter_wal(cursor)
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _enter_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode=WAL``, retried while another connection holds the file.

    Switching a fresh file to WAL upgrades a shared lock to an exclusive one; two instances
    opening the same fresh database at once deadlock on that upgrade, and SQLite answers one
    of them "database is locked" at once, without the busy timeout (a busy handler cannot
    break a deadlock). The loser retries until the busy timeout would have run out.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                raise
            # event handlers run on the loop (in SQLAlchemy's greenlet): sleep without blocking it
            await_only(asyncio.sleep(random.uniform(0.005, 0.05)))


async def checkpoint(engine: AsyncEngine) -> None:
    """SQLite: copy the WAL into the database and truncate it to zero bytes.

    After a purge the old (encrypted) pages would otherwise survive in the WAL until it is
    reused. Best effort, never an error for the caller (the purge itself is committed): a
    reader holding an old snapshot makes the checkpoint partial, and the next purge retries.
    A short busy timeout keeps a reviewer's click from waiting behind a long reader.
    """
    if engine.dialect.name != "sqlite":
        return
    try:
        async with engine.connect() as conn:
            await driver_execute(conn, f"PRAGMA busy_timeout={CHECKPOINT_BUSY_TIMEOUT_MS}")
            try:
                await driver_execute(conn, "PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                await driver_execute(conn, f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    except Exception as exc:
        log.warning("quarantine WAL checkpoint after purge failed: %s", type(exc).__name__)


async def driver_execute(conn: AsyncConnection, sql: str) -> None:
    """Run `sql` on the driver connection, outside SQLAlchemy's transaction handling (no BEGIN)."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    cursor = await driver.execute(sql)
    await cursor.close()
