"""The quarantine databases the tests run on: SQLite (tmp_path) and PostgreSQL.

PostgreSQL comes from SENDGUARD_TEST_PG_URL (default: the local server, database `test`);
each test gets its own schema, dropped afterwards, so runs never see each other's rows.
Where no server answers the PostgreSQL half is skipped, unless SENDGUARD_REQUIRE_PG=1 (CI).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import create_async_engine

from scanner.quarantine.store import SqlQuarantineStore, open_store
from scanner.settings import QuarantineSettings

PG_URL = os.environ.get("SENDGUARD_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("SENDGUARD_REQUIRE_PG") == "1"

_pg_problem: list[str | None] = []  # cached reachability for the session


async def _pg_unreachable() -> str | None:
    if not _pg_problem:
        engine = create_async_engine(PG_URL, connect_args={"timeout": 3})
        try:
            async with engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
            _pg_problem.append(None)
        except Exception as exc:
            _pg_problem.append(f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}: {exc}")
        finally:
            await engine.dispose()
    return _pg_problem[0]


@dataclass
class Backend:
    """One database for one test; `open()` may be called repeatedly (reopen with other keys)."""

    name: str
    url: str
    schema: str | None
    key_file: Path

    def settings(self, keys: list[str] | None = None, retention_days: int = 30) -> QuarantineSettings:
        return QuarantineSettings(
            url=self.url,
            keys=[SecretStr(k) for k in keys or []],
            key_file=self.key_file,
            retention_days=retention_days,
        )

    async def open(self, keys: list[str] | None = None, retention_days: int = 30) -> SqlQuarantineStore:
        return await open_store(self.settings(keys, retention_days), schema=self.schema)


@asynccontextmanager
async def open_backend(name: str, tmp_path: Path) -> AsyncIterator[Backend]:
    """A fresh database: SQLite under `tmp_path`, or a PostgreSQL schema dropped afterwards."""
    if name == "sqlite":
        yield Backend("sqlite", f"sqlite+aiosqlite:///{tmp_path}/db/quarantine.db", None, tmp_path / "key")
        return
    problem = await _pg_unreachable()
    if problem is not None:
        if REQUIRE_PG:
            pytest.fail(f"{problem} (SENDGUARD_REQUIRE_PG=1)")
        pytest.skip(problem)
    schema = f"sgq_test_{uuid.uuid4().hex[:12]}"
    yield Backend("postgresql", PG_URL, schema, tmp_path / "key")
    engine = create_async_engine(PG_URL)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await engine.dispose()
