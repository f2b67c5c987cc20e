"""Background work claimed by one instance at a time when several share one PostgreSQL.

Every sendguard instance runs the retention purge hourly. The purge itself is one conditional
UPDATE, so two instances running it together cannot expire a message twice; the claim keeps
them from doing the same work (and logging it) N times: a PostgreSQL session-level advisory
lock (`pg_try_advisory_lock`), tried without waiting - whoever does not get it skips this round.
The lock is released when the work ends, or by the server when the instance's connection dies,
so a killed instance never blocks the others. SQLite is one host's file: nothing to claim.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for `name` (same on every instance)."""
    return int.from_bytes(hashlib.sha256(f"sendguard:{name}".encode()).digest()[:8], "big", signed=True)


@contextlib.asynccontextmanager
async def claimed(engine: AsyncEngine, name: str) -> AsyncIterator[bool]:
    """Yields True if this instance holds the claim on `name` for the block, False if another does."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = lock_key(name)
    async with engine.connect() as conn:
        got = bool((await conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({key})")).scalar())
        try:
            yield got
        finally:
            if got:
                await conn.exec_driver_sql(f"SELECT pg_advisory_unlock({key})")
            await conn.rollback()
