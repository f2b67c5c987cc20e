"""SQLite specifics: durability pragmas, instances opening one fresh file at once, and purged
bytes really gone from the files."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import sqlalchemy as sa
from pydantic import SecretStr

from scanner.quarantine.crypto import generate_key
from scanner.quarantine.lifecycle import Step
from scanner.quarantine.migrate import upgrade_to_head
from scanner.quarantine.store import SqlQuarantineStore, open_store
from scanner.settings import QuarantineSettings
from tests.quarantine.fakes import held_message


async def _open(tmp_path: Path) -> SqlQuarantineStore:
    settings = QuarantineSettings(
        url=f"sqlite+aiosqlite:///{tmp_path}/nested/dir/q.db",
        keys=[SecretStr(generate_key())],
        key_file=tmp_path / "unused.key",
    )
    return await open_store(settings)


async def test_connections_use_wal_full_sync_and_secure_delete(tmp_path: Path) -> None:
    store = await _open(tmp_path)
    try:
        async with store.engine.connect() as conn:
            pragmas = {
                name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "synchronous", "secure_delete", "foreign_keys")
            }
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "nested" / "dir").iterdir()}
    finally:
        await store.close()
    # synchronous 2 = FULL
    assert pragmas == {"journal_mode": "wal", "synchronous": 2, "secure_delete": 1, "foreign_keys": 1}
    # the database and its -wal/-shm files are owner-only
    assert modes == {"q.db": 0o600, "q.db-wal": 0o600, "q.db-shm": 0o600}
    assert not (tmp_path / "unused.key").exists()  # configured keys: no key file written


async def test_instances_switching_fresh_files_to_wal_at_once_all_open(tmp_path: Path) -> None:
    # two connections switching one fresh file to WAL deadlock on the lock upgrade and SQLite
    # answers one "database is locked" at once, busy timeout or not (1 round in 10 failed
    # with four instances before `_enter_wal` retried); 20 fresh files, four instances each
    for round_ in range(20):
        url = f"sqlite+aiosqlite:///{tmp_path}/r{round_}.db"
        results = await asyncio.gather(*(upgrade_to_head(url) for _ in range(4)), return_exceptions=True)
        assert results == [None] * 4, (round_, results)


async def test_purged_ciphertext_is_gone_from_database_and_wal(tmp_path: Path) -> None:
    store = await _open(tmp_path)
    try:
        # big enough to live in overflow pages, which purging frees
        await store.hold(held_message("gone", body="x" * 20_000))
        await store.hold(held_message("stays", body="y" * 200))
        async with store.engine.connect() as conn:
            token = bytes(
                (
                    await conn.execute(sa.text("SELECT data FROM quarantine_messages WHERE id = 'gone'"))
                ).scalar_one()
            )
        assert await store.transition("gone", Step.REJECT, "reviewer", None)

        # while the store is open (closing the last connection would checkpoint anyway)
        files = {p.name: p.read_bytes() for p in (tmp_path / "nested" / "dir").iterdir()}
    finally:
        await store.close()

    assert "q.db" in files
    probe = token[100:164]  # any 64 bytes of the ciphertext
    for name, content in files.items():
        assert probe not in content, name
