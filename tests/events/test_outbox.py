"""The outbox on SQLite and PostgreSQL: due items only, disjoint claims, leases, backoff, dead letters."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from scanner.events.outbox import Channel, SqlOutbox, Status, backoff, row_values
from scanner.quarantine.store import SqlQuarantineStore
from tests.stores import Backend

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def rows(n: int, at: datetime = T0, prefix: str = "e") -> list[dict[str, object]]:
    return [
        row_values(f"{prefix}{i}", Channel.WEBHOOK, "message.rejected", "acme", f"R{i}", b"{}", at)
        for i in range(n)
    ]


async def test_claim_takes_due_items_once(store: SqlQuarantineStore) -> None:
    box = SqlOutbox(store, lease=30)
    await box.add(rows(3) + rows(2, T0 + timedelta(hours=1), prefix="later"))
    first = await box.claim(T0, 10)
    assert sorted(i.id for i in first) == ["e0", "e1", "e2"]
    assert all(i.attempts == 1 and i.claim for i in first)
    assert await box.claim(T0 + timedelta(seconds=29), 10) == []  # leased
    # the lease ran out (the claimer died): the same items are due again, at least once
    again = await box.claim(T0 + timedelta(seconds=31), 10)
    assert sorted(i.id for i in again) == ["e0", "e1", "e2"]
    # the first claimer's settlement no longer counts: it lost the lease
    assert not await box.done(first[0], T0 + timedelta(seconds=32))
    assert await box.done(again[0], T0 + timedelta(seconds=32))


async def test_concurrent_claimers_on_two_instances_never_share_an_item(backend: Backend, key: str) -> None:
    one, two = await backend.open([key]), await backend.open([key])
    try:
        a, b = SqlOutbox(one), SqlOutbox(two)
        await a.add(rows(40))
        claims = await asyncio.gather(*(box.claim(T0, 7) for box in (a, b, a, b, a, b, a, b)))
        ids = [i.id for batch in claims for i in batch]
        assert len(ids) == len(set(ids)) == 40
    finally:
        await one.close()
        await two.close()


async def test_retry_backs_off_then_dead_letters_and_requeue(store: SqlQuarantineStore) -> None:
    box = SqlOutbox(store, lease=5)
    await box.add(rows(1))
    (item,) = await box.claim(T0, 1)
    assert (
        await box.retry(item, T0, "endpoint answered 503", after=10, dead_after=timedelta(hours=1))
        == Status.PENDING
    )
    assert await box.claim(T0 + timedelta(seconds=9), 1) == []
    (item,) = await box.claim(T0 + timedelta(seconds=10), 1)
    assert item.attempts == 2 and item.last_error == "endpoint answered 503"
    late = T0 + timedelta(hours=2)
    assert (
        await box.retry(item, late, "endpoint unreachable", after=10, dead_after=timedelta(hours=1))
        == Status.DEAD
    )
    assert await box.claim(late + timedelta(days=1), 1) == []
    assert [i.id for i in await box.list(Status.DEAD)] == ["e0"]
    assert await box.counts() == {Status.DEAD: 1}
    assert await box.requeue("e0", late)
    assert not await box.requeue("e0", late)  # only a dead item can be requeued
    (item,) = await box.claim(late, 1)
    assert await box.done(item, late)
    assert await box.counts() == {Status.DELIVERED: 1}
    assert await box.purge_delivered(late + timedelta(seconds=1)) == 1


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    rng = random.Random(7)
    waits = [backoff(n, low=1, high=60, rng=rng) for n in range(1, 10)]
    for n, wait in enumerate(waits, start=1):
        ceiling = min(60, 2 ** (n - 1))
        assert ceiling / 2 <= wait <= ceiling
    assert len({round(backoff(3, low=1, high=60), 6) for _ in range(20)}) > 1  # jittered
