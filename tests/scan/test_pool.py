"""The worker pool with real spawned processes running the stub engines of `stub_detectors`."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import psutil
import pytest

from scanner.model import Segment
from scanner.scan.batcher import WorkerLost
from scanner.scan.pool import WorkerPool, WorkerStartError
from scanner.scan.protocol import Detected, Failed, NeedsSplit, PieceResult, RawMessage
from scanner.scan.worker import load_factory

FACTORY = "tests.stub_detectors:build"

MakePool = Callable[..., Awaitable[WorkerPool]]


def item(text: str, location: str = "body[1]") -> tuple[Segment, ...]:
    return (Segment(location, text),)


def notes(result: PieceResult, category: str) -> list[int]:
    assert isinstance(result, Detected), result
    return [f.start for f in result.findings if f.category == category]


@pytest.fixture
async def make_pool() -> AsyncIterator[MakePool]:
    pools: list[WorkerPool] = []

    async def make(
        factory_kwargs: dict[str, Any] | None = None,
        on_capacity: Callable[[], None] = lambda: None,
        **kw: Any,
    ) -> WorkerPool:
        pool = WorkerPool(kw.pop("factory", FACTORY), factory_kwargs, **kw)
        pools.append(pool)
        await pool.start(on_capacity)
        return pool

    yield make
    for pool in pools:
        await pool.close()


@pytest.mark.parametrize(
    ("path", "error"),
    [("tests.stub_detectors", ValueError), ("tests.stub_detectors:nope", AttributeError), (":x", ValueError)],
)
def test_load_factory_rejects_bad_paths(path: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        load_factory(path)


async def test_results_come_back_per_item_in_order(make_pool: MakePool) -> None:
    pool = await make_pool(workers=1)
    fut = pool.try_submit([item("ssn 123-45-0001"), item("nothing"), item("a 123-45-0003 b 123-45-0033")], 60)
    assert fut is not None
    results = await fut
    assert [([f.masked for f in r.findings], r.defects) for r in results if isinstance(r, Detected)] == [
        (["***-**-0001"], ()),
        ([], ()),
        (["***-**-0003", "***-**-0033"], ()),
    ]


async def test_raw_messages_are_extracted_in_the_worker(make_pool: MakePool) -> None:
    pool = await make_pool(workers=1)
    raw = b"Subject: 123-45-0001\r\nContent-Type: text/plain; charset=nope\r\n\r\nb 123-45-0002\r\n"
    fut = pool.try_submit(
        [RawMessage(raw, 1000), item("123-45-0003"), RawMessage(raw, 10)], 2 * len(raw) + 11
    )
    assert fut is not None
    detected, other, too_long = await fut
    assert isinstance(detected, Detected)
    findings, defects = detected.findings, detected.defects
    assert sorted((f.location, f.masked) for f in findings) == [
        ("body[1]", "***-**-0002"),
        ("subject", "***-**-0001"),
    ]
    assert [d.split(" ")[0] for d in defects] == ["UnknownCharset"]
    assert isinstance(other, Detected) and [f.masked for f in other.findings] == ["***-**-0003"]
    # text over piece_chars comes back extracted, not detected
    assert isinstance(too_long, NeedsSplit)
    assert [s.location for s in too_long.extraction.segments] == ["subject", "body[1]"]
    assert too_long.extraction.defects == defects


async def test_least_loaded_dispatch_and_bounded_inflight(make_pool: MakePool) -> None:
    pool = await make_pool({"report": True, "sleep": 0.3}, workers=2, max_inflight=1)
    first = pool.try_submit([item("SLEEP")], 5)
    second = pool.try_submit([item("SLEEP")], 5)
    assert first is not None and second is not None
    # every worker has its one batch: the caller must keep the next one in its own queue
    assert not pool.has_capacity()
    assert pool.try_submit([item("x")], 1) is None
    pids = {notes((await first)[0], "PID")[0], notes((await second)[0], "PID")[0]}
    assert pids == set(pool.pids()) and len(pids) == 2
    assert pool.has_capacity()


async def test_workers_run_at_a_lower_priority_than_the_event_loop(make_pool: MakePool) -> None:
    pool = await make_pool(workers=1, nice=3)
    (pid,) = pool.pids()
    assert psutil.Process(pid).nice() == psutil.Process().nice() + 3


async def test_engine_exception_fails_only_that_item(make_pool: MakePool) -> None:
    pool = await make_pool(workers=1)
    fut = pool.try_submit([item("123-45-0001"), item("RAISE"), item("123-45-0003")], 30)
    assert fut is not None
    ok1, failed, ok3 = await fut
    assert failed == Failed("ValueError")  # the type name only, never the exception text
    assert isinstance(ok1, Detected) and ok1.findings[0].masked == "***-**-0001"
    assert isinstance(ok3, Detected) and ok3.findings[0].masked == "***-**-0003"


async def test_group_signals_do_not_kill_workers_mid_drain(make_pool: MakePool) -> None:
    import os
    import signal

    pool = await make_pool({"report": True}, workers=1)
    (pid,) = pool.pids()
    os.kill(pid, signal.SIGTERM)  # as systemd or `timeout` would, to the whole process group
    os.kill(pid, signal.SIGINT)  # as Ctrl-C in a terminal would
    fut = pool.try_submit([item("123-45-6789")], 11)
    assert fut is not None
    (result,) = await fut
    assert notes(result, "PID") == [pid] and pool.restarts == 0


async def test_dead_worker_is_replaced_with_a_fresh_engine(make_pool: MakePool) -> None:
    capacity_calls: list[int] = []
    pool = await make_pool({"report": True}, workers=1, on_capacity=lambda: capacity_calls.append(1))
    capacity_calls.clear()
    (old_pid,) = pool.pids()
    fut = pool.try_submit([item("CRASH-WORKER")], 12)
    assert fut is not None
    with pytest.raises(WorkerLost):
        await fut
    await pool.wait_ready()
    (new_pid,) = pool.pids()
    assert new_pid != old_pid and pool.restarts == 1
    assert not psutil.pid_exists(old_pid)  # reaped, not a zombie
    fut = pool.try_submit([item("123-45-6789")], 11)
    assert fut is not None
    (result,) = await fut
    assert notes(result, "PID") == [new_pid]
    assert capacity_calls  # the batcher is told when the new worker can take work


async def test_stuck_batch_gets_its_worker_killed_and_replaced(make_pool: MakePool) -> None:
    pool = await make_pool({"sleep": 60.0}, workers=1, batch_timeout=0.5)
    (old_pid,) = pool.pids()
    fut = pool.try_submit([item("SLEEP")], 5)
    assert fut is not None
    with pytest.raises(WorkerLost, match="timed out"):
        await fut
    await pool.wait_ready()
    assert pool.pids() != [old_pid]


async def test_engine_that_cannot_be_built_fails_start_and_leaves_no_process(
    make_pool: MakePool, worker_children: Callable[[], set[int]]
) -> None:
    before = worker_children()
    with pytest.raises(WorkerStartError, match="RuntimeError"):
        await make_pool(workers=2, factory="tests.stub_detectors:build_broken")
    assert worker_children() <= before


async def test_close_stops_and_reaps_every_worker(
    make_pool: MakePool, worker_children: Callable[[], set[int]]
) -> None:
    # a grace far above any scheduling noise: SIGTERM honoured returns in milliseconds, SIGTERM
    # ignored (the socket still open when it landed) only after the grace, then SIGKILL
    pool = await make_pool({"sleep": 60.0}, workers=2, stop_grace=30.0)
    pids = pool.pids()
    assert set(pids) <= worker_children()
    busy = pool.try_submit([item("SLEEP")], 5)
    assert busy is not None
    started = asyncio.get_running_loop().time()
    await pool.close()
    # the busy worker got SIGTERM and stopped: nobody waited for its 60 s batch, nor for a SIGKILL
    assert asyncio.get_running_loop().time() - started < pool.stop_grace
    with pytest.raises(WorkerLost):
        await busy
    assert not any(psutil.pid_exists(pid) for pid in pids)
    assert not set(pids) & worker_children()


async def test_a_busy_worker_deaf_to_sigterm_is_killed_after_the_grace(make_pool: MakePool) -> None:
    # a batch stuck in C code never returns to the interpreter to run the SIGTERM handler
    pool = await make_pool({"sleep": 60.0, "ignore_sigterm": True}, workers=1, stop_grace=0.3)
    (pid,) = pool.pids()
    busy = pool.try_submit([item("SLEEP")], 5)
    assert busy is not None
    started = asyncio.get_running_loop().time()
    await pool.close()
    assert 0.3 <= asyncio.get_running_loop().time() - started < 5
    with pytest.raises(WorkerLost):
        await busy
    assert not psutil.pid_exists(pid)


async def test_close_has_shut_every_worker_socket_before_it_returns_to_the_loop(
    make_pool: MakePool,
) -> None:
    # SIGTERM is honoured only by a worker whose socket we have let go of; abort() alone shuts
    # the fd a loop turn or more later, which let a SIGTERM land first (seen once in CI)
    pool = await make_pool(workers=2)
    socks = [w.sock for w in pool._workers if w is not None]
    ends = [socket.socket(fileno=os.dup(s.fileno())) for s in socks]
    try:
        closing = asyncio.ensure_future(pool.close())
        await asyncio.sleep(0)  # close() ran up to its first await: the reaping
        for end in ends:
            assert end.recv(1, socket.MSG_DONTWAIT) == b""  # our side is shut: EOF, not EAGAIN
        await closing
    finally:
        for end in ends:
            end.close()
