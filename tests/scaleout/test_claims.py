"""Background work is claimed by one instance at a time on a shared PostgreSQL."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from scanner.quarantine.claims import claimed, lock_key
from tests.stores import PG_URL, REQUIRE_PG, _pg_unreachable

pytestmark = pytest.mark.postgres


async def test_only_one_instance_holds_the_purge_claim() -> None:
    problem = await _pg_unreachable()
    if problem is not None:
        if REQUIRE_PG:
            pytest.fail(problem)
        pytest.skip(problem)
    first, second = create_async_engine(PG_URL), create_async_engine(PG_URL)
    try:
        async with claimed(first, "test-claim") as mine:
            assert mine
            async with claimed(second, "test-claim") as theirs:
                assert not theirs  # the other instance skips this round
        async with claimed(second, "test-claim") as theirs:
            assert theirs  # released when the first is done
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_dead_instance_does_not_keep_the_claim() -> None:
    """The holder's connection dies (instance killed): the server drops its lock at once."""
    problem = await _pg_unreachable()
    if problem is not None:
        pytest.skip(problem)
    first, second = create_async_engine(PG_URL), create_async_engine(PG_URL)
    unsigned = lock_key("test-claim-dead") & 0xFFFFFFFFFFFFFFFF
    held = killed = None
    try:
        with contextlib.suppress(Exception):  # the holder's unlock fails: its backend is gone
            async with claimed(first, "test-claim-dead") as mine:
                held = mine
                async with second.connect() as conn:
                    result = await conn.exec_driver_sql(
                        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                        f"AND classid = {unsigned >> 32} AND objid = {unsigned & 0xFFFFFFFF}"
                    )
                    killed = result.scalar()
        assert held is True and killed is True
        async with claimed(second, "test-claim-dead") as theirs:
            assert theirs
    finally:
        await first.dispose()
        await second.dispose()
