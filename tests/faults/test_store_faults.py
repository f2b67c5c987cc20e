"""The quarantine under faults: a stalled or locked store answers 451 within the hold deadline,
a SQLite file removed or replaced under the proxy is noticed, never acknowledged into."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scanner._errors import StoreError
from scanner.events.journal import Journal, Rejection
from scanner.events.records import Records
from scanner.model import Action, Envelope, Verdict
from scanner.quarantine.engine import sqlite_identity
from scanner.quarantine.guarded import GuardedQuarantine
from scanner.quarantine.model import HeldMessage
from scanner.settings import WebhookSettings
from tests.stores import Backend


def held(ref: str) -> HeldMessage:
    return HeldMessage(
        id=ref,
        envelope=Envelope("a@example.com", ("b@example.org",)),
        data=b"Subject: x\r\n\r\nbody\r\n",
        verdict=Verdict(Action.HOLD),
        received_at=datetime.now(UTC),
    )


@contextlib.asynccontextmanager
async def locked(backend: Backend, table: str) -> AsyncIterator[None]:
    """Another process holds SQLite's write lock, or another session locks `table` (PostgreSQL)."""
    if backend.name == "sqlite":
        other = sqlite3.connect(backend.url.split("///", 1)[1], isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            other.close()
        return
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(
        backend.url, connect_args={"server_settings": {"search_path": backend.schema or ""}}
    )
    conn = await engine.connect()
    try:
        await conn.exec_driver_sql("BEGIN")
        await conn.exec_driver_sql(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        yield
    finally:
        await conn.close()
        await engine.dispose()


async def test_holds_behind_a_locked_store_each_get_451_within_the_deadline(backend: Backend) -> None:
    store = await backend.open()
    guarded = GuardedQuarantine(store, timeout=0.5, identity=sqlite_identity(backend.url))
    async with locked(backend, "quarantine_messages"):
        started = time.monotonic()
        results = await asyncio.gather(
            *(guarded.hold(held(f"LOCKED{i}")) for i in range(4)), return_exceptions=True
        )
        elapsed = time.monotonic() - started
    assert all(isinstance(r, StoreError) for r in results), results
    assert elapsed < 3  # each within its own deadline, not one after the other (k x timeout)
    await guarded.hold(held("AFTERWARDS"))  # the store works again once the lock is gone
    assert (await store.get("AFTERWARDS")) is not None
    await store.close()


async def test_rejection_records_behind_a_locked_store_get_451_within_the_deadline(backend: Backend) -> None:
    """The rejection record (reply or dsn mode) has the hold's deadline too: a 451, not a hang."""
    store = await backend.open()
    journal = Journal(store, WebhookSettings(), timeout=0.5)
    env = Envelope("a@example.com", ("b@example.org",))

    def rejection(ref: str) -> Rejection:
        return Rejection(ref, None, env, datetime.now(UTC), Verdict(Action.REJECT), "reply")

    async with locked(backend, "quarantine_rejections"):
        started = time.monotonic()
        results = await asyncio.gather(
            *(journal.rejected(rejection(f"R{i}"), None) for i in range(4)), return_exceptions=True
        )
        elapsed = time.monotonic() - started
    assert all(isinstance(r, StoreError) for r in results), results
    assert elapsed < 3
    await journal.rejected(rejection("AFTER"), None)  # works again once the lock is gone
    assert await Records(store).rejection("AFTER") is not None
    await journal.close()
    await store.close()


@pytest.mark.parametrize("how", ["removed", "replaced"])
async def test_a_sqlite_file_removed_or_replaced_under_the_proxy_is_never_acknowledged(
    backend: Backend, how: str
) -> None:
    if backend.name != "sqlite":
        pytest.skip("a SQLite file only")
    store = await backend.open()
    guarded = GuardedQuarantine(store, timeout=5, identity=sqlite_identity(backend.url))
    await guarded.hold(held("BEFORE"))
    path = backend.url.split("///", 1)[1]
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path + suffix)
    if how == "replaced":
        sqlite3.connect(path).close()
    with pytest.raises(StoreError, match=how):
        await guarded.hold(held("AFTER"))
    await store.close()


async def test_a_full_disk_under_sqlite_answers_451_and_keeps_every_acknowledged_hold(tiny_fs: Path) -> None:
    """Holds until the 256 KiB filesystem is full: the failing ones raise StoreError (451), and
    every hold that returned is there, readable, after the store is reopened."""
    backend = Backend("sqlite", f"sqlite+aiosqlite:///{tiny_fs}/q.db", None, tiny_fs / "key")
    store = await backend.open()
    guarded = GuardedQuarantine(store, timeout=5, identity=sqlite_identity(backend.url))
    acknowledged, failed = [], 0
    for i in range(60):
        message = held(f"FULL{i:03d}")
        message = HeldMessage(
            id=message.id,
            envelope=message.envelope,
            data=os.urandom(6000).hex().encode(),  # incompressible, ~12 KB sealed
            verdict=message.verdict,
            received_at=message.received_at,
        )
        try:
            await guarded.hold(message)
        except StoreError:
            failed += 1
        else:
            acknowledged.append(message.id)
    await store.close()
    assert failed > 0 and acknowledged  # the disk really filled up
    reopened = await backend.open()
    try:
        for ref in acknowledged:
            record = await reopened.get(ref)
            assert record is not None and record.data is not None and len(record.data) == 12000
    finally:
        await reopened.close()
