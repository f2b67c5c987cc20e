"""The batcher's scheduling over the in-process `FakePool`: no process is spawned."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from scanner._errors import Overloaded, ScanUnavailable
from scanner.model import Scanned
from scanner.scan.batcher import BatchingScanner
from tests.scan.fake_pool import FakePool

MakeScanner = Callable[..., Awaitable[BatchingScanner]]


async def settle() -> None:
    """Let every callback already scheduled run (the pump runs once per loop iteration)."""
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.fixture
async def make_scanner() -> AsyncIterator[MakeScanner]:
    made: list[BatchingScanner] = []

    async def make(pool: FakePool, **kw: object) -> BatchingScanner:
        scanner = BatchingScanner(pool, **kw)  # type: ignore[arg-type]
        made.append(scanner)
        await scanner.start()
        return scanner

    yield make
    for s in made:
        await s.close()


def scans(scanner: BatchingScanner, *texts: str) -> list[asyncio.Task[Scanned]]:
    return [asyncio.create_task(scanner.scan(t.encode())) for t in texts]


async def test_idle_workers_share_what_is_waiting_at_once(make_scanner: MakeScanner) -> None:
    pool = FakePool(workers=2, max_inflight=1)
    scanner = await make_scanner(pool, max_batch=8, max_wait_ms=60_000)
    tasks = scans(scanner, *(f"m{i}" for i in range(6)))
    await settle()
    assert [(s.worker, len(s.pieces)) for s in pool.sent] == [(0, 3), (1, 3)]
    for s in list(pool.sent):
        pool.finish(s)
    assert [(await t).findings for t in tasks] == [()] * 6


async def test_busy_workers_gather_a_full_batch_without_waiting_for_the_timer(
    make_scanner: MakeScanner,
) -> None:
    pool = FakePool(workers=1, max_inflight=2)
    scanner = await make_scanner(pool, max_batch=4, max_wait_ms=60_000)
    first = scans(scanner, "busy")
    await settle()
    later = scans(scanner, *(f"m{i}" for i in range(5)))
    await settle()
    # the worker is busy: four wait for batch mates and leave as a full batch; the fifth waits
    assert [s.texts() for s in pool.sent] == [["busy"], ["m0", "m1", "m2", "m3"]]
    pool.finish(pool.sent[0])
    await settle()
    assert len(pool.sent) == 2  # still busy with the full batch: m4 waits for mates (or the timer)
    pool.finish(pool.sent[1])
    await settle()
    assert pool.sent[2].texts() == ["m4"]  # the worker is idle again: sent at once
    pool.finish(pool.sent[2])
    await asyncio.gather(*first, *later)


async def test_batches_take_one_piece_per_message_per_round(make_scanner: MakeScanner) -> None:
    pool = FakePool(workers=1, max_inflight=1)
    scanner = await make_scanner(pool, max_batch=3, max_wait_ms=0, piece_chars=10)
    (big,) = scans(scanner, "SSN a\nbbbb\ncccc\ndddd")  # 17 characters: comes back to be split
    await settle()
    small = scans(scanner, "s1", "s2 SSN")
    await settle()
    pool.finish(pool.sent[0])
    await settle()
    # the big message's two pieces do not go first: one piece per message per round
    assert sorted(pool.sent[1].texts()) == ["SSN abbbb", "s1", "s2 SSN"]
    pool.finish(pool.sent[1])
    await settle()
    assert pool.sent[2].texts() == ["ccccdddd"]
    pool.finish(pool.sent[2])
    assert [len((await t).findings) for t in (big, *small)] == [1, 0, 1]


async def test_a_lost_batch_is_retried_each_message_alone(make_scanner: MakeScanner) -> None:
    pool = FakePool(workers=1, max_inflight=1)
    scanner = await make_scanner(pool, max_batch=8, max_wait_ms=0)
    tasks = scans(scanner, "a SSN", "b", "c")
    await settle()
    assert pool.sent[0].texts() == ["a SSN", "b", "c"]
    pool.lose(0)
    await settle()
    assert len(pool.sent) == 1  # no worker: nothing is sent
    pool.replace(0)
    for expected in (["a SSN"], ["b"], ["c"]):
        await settle()
        assert pool.sent[-1].texts() == expected
        pool.finish(pool.sent[-1])
    assert [len((await t).findings) for t in tasks] == [1, 0, 0]
    assert scanner.stats.retried == 3


async def test_a_message_lost_twice_fails_alone(make_scanner: MakeScanner) -> None:
    pool = FakePool(workers=1, max_inflight=1)
    scanner = await make_scanner(pool, max_batch=8, max_wait_ms=0)
    killer, mate = scans(scanner, "killer", "mate")
    await settle()
    pool.lose(0)
    pool.replace(0)
    await settle()
    assert pool.sent[-1].texts() == ["killer"]
    pool.lose(0)
    pool.replace(0)
    await settle()
    with pytest.raises(ScanUnavailable, match="twice"):
        await killer
    assert pool.sent[-1].texts() == ["mate"]
    pool.finish(pool.sent[-1])
    assert (await mate).findings == ()


async def test_queue_limit_counts_messages_in_the_scanner(make_scanner: MakeScanner) -> None:
    pool = FakePool(workers=1, max_inflight=1)
    scanner = await make_scanner(pool, queue_limit=2, max_wait_ms=0)
    tasks = scans(scanner, "a", "b")
    await settle()
    with pytest.raises(Overloaded):
        await scanner.scan(b"c")
    while pool.inflight():
        pool.finish(pool.inflight()[0])
        await settle()
    await asyncio.gather(*tasks)
    assert scanner.queued == 0


async def test_close_fails_what_waits_and_closes_the_pool(make_scanner: MakeScanner) -> None:
    pool = FakePool(workers=1, max_inflight=1)
    scanner = await make_scanner(pool, max_batch=1, max_wait_ms=0)
    tasks = scans(scanner, "sent", "waiting")
    await settle()
    await scanner.close()
    assert pool.closed
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, ScanUnavailable) for r in results)
