"""The micro-batcher over real worker processes running the stub engines of `stub_detectors`."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from scanner._errors import Overloaded, ScanUnavailable
from scanner.app import build_scanner
from scanner.model import Extraction, Finding, Scanned, Segment
from scanner.scan.batcher import BatchingScanner
from scanner.scan.pieces import split_message
from scanner.scan.pool import WorkerPool
from scanner.settings import ScanSettings

FACTORY = "tests.stub_detectors:build"

MakeBatcher = Callable[..., Awaitable[BatchingScanner]]


def message(text: str) -> bytes:
    """A message whose one text part is `text` (extracted as ``body[1]``, offsets unchanged)."""
    return b"From: a@example.org\r\nMIME-Version: 1.0\r\n\r\n" + text.encode()


async def scan(batcher: BatchingScanner, text: str) -> tuple[Finding, ...]:
    return (await batcher.scan(message(text))).findings


def real(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.location != "__stub__"]


def note(findings: Sequence[Finding], category: str) -> int:
    (value,) = [f.start for f in findings if f.category == category]
    return value


@pytest.fixture
async def make_batcher() -> AsyncIterator[MakeBatcher]:
    batchers: list[BatchingScanner] = []

    async def make(
        factory_kwargs: dict[str, Any] | None = None,
        workers: int = 1,
        batch_timeout: float | None = None,
        **kw: Any,
    ) -> BatchingScanner:
        pool = WorkerPool(FACTORY, factory_kwargs, workers=workers, batch_timeout=batch_timeout)
        batcher = BatchingScanner(pool, **kw)
        batchers.append(batcher)
        await batcher.start()
        return batcher

    yield make
    for b in batchers:
        await b.close()


# --- splitting (pure) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lengths", "pieces"),
    [
        ([], 1),
        ([10, 20], 1),  # fits: one piece, segments untouched
        ([100], 1),
        ([60, 60], 2),  # packed, then a second pack
        ([30, 30, 30, 30], 2),
        ([250], 3),  # cut into overlapping windows
        ([10, 250, 10], 4),  # the small ones packed together
    ],
)
def test_split_message_bounds_pieces(lengths: list[int], pieces: int) -> None:
    segments = [Segment(f"body[{i}]", ("word " * 60)[:n]) for i, n in enumerate(lengths)]
    out = split_message(segments, piece_chars=100, overlap=20)
    assert len(out) == pieces
    assert all(p.chars <= 100 for p in out)


def test_split_windows_cover_the_segment_and_cut_at_whitespace() -> None:
    text = " ".join(f"w{i:05d}" for i in range(2000))
    pieces = split_message([Segment("body[1]", text)], piece_chars=1000, overlap=100)
    covered = 0
    for p in pieces:
        (seg,) = p.segments
        start = p.offsets.get("body[1]", 0)
        assert text[start : start + len(seg.text)] == seg.text
        assert start <= covered  # no gap between windows
        assert re.fullmatch(r"w\d{5}( w\d{5})*", seg.text), "a token was cut"
        covered = start + len(seg.text)
    assert covered == len(text)


# --- the batcher -------------------------------------------------------------------------------


async def test_findings_are_routed_to_the_right_message_under_200_concurrent_scans(
    make_batcher: MakeBatcher,
) -> None:
    batcher = await make_batcher(workers=2, max_batch=16, max_wait_ms=2)
    texts = [("x" * (i % 7)) + f" ssn 123-45-{i:04d} end" for i in range(200)]
    results = await asyncio.gather(*(scan(batcher, t) for t in texts))
    for i, (text, found) in enumerate(zip(texts, results, strict=True)):
        (f,) = found
        assert f.masked == f"***-**-{i:04d}"
        assert text[f.start : f.end] == f"123-45-{i:04d}"
    assert batcher.stats.pieces == 200 and batcher.stats.batches < 200


async def test_concurrent_scans_are_sent_as_one_batch(make_batcher: MakeBatcher) -> None:
    batcher = await make_batcher({"report": True}, max_batch=8, max_wait_ms=60_000)
    results = await asyncio.gather(*(scan(batcher, f"123-45-000{i}") for i in range(8)))
    assert [note(r, "BATCH") for r in results] == [8] * 8
    assert batcher.stats.batches == 1


async def test_idle_workers_share_what_is_waiting(make_batcher: MakeBatcher) -> None:
    batcher = await make_batcher({"report": True}, workers=2, max_batch=8, max_wait_ms=60_000)
    results = await asyncio.gather(*(scan(batcher, f"123-45-000{i}") for i in range(8)))
    assert [note(r, "BATCH") for r in results] == [4] * 8
    assert {note(r, "PID") for r in results} == set(batcher.pool.pids())


async def test_busy_workers_get_a_partial_batch_after_max_wait(make_batcher: MakeBatcher) -> None:
    batcher = await make_batcher({"report": True, "sleep": 1.0}, max_batch=100, max_wait_ms=20)
    busy = asyncio.create_task(scan(batcher, "SLEEP"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert batcher.stats.batches == 1
    # the only worker is busy: these wait for batch mates, but no longer than max_wait
    partial = [asyncio.create_task(scan(batcher, "hello")) for _ in range(3)]
    # a dispatch is not an awaitable event of the API: poll the counter
    while batcher.stats.batches < 2:  # noqa: ASYNC110
        await asyncio.sleep(0.005)
    assert not busy.done(), "the partial batch should have left before the busy worker freed up"
    results = await asyncio.gather(*partial)
    assert [note(r, "BATCH") for r in results] == [3, 3, 3]
    await busy


async def test_overloaded_past_the_queue_limit(make_batcher: MakeBatcher) -> None:
    batcher = await make_batcher({"sleep": 0.2}, max_batch=1, max_wait_ms=0, queue_limit=3)
    held = [asyncio.create_task(scan(batcher, f"SLEEP 123-45-000{i}")) for i in range(3)]
    await asyncio.sleep(0)  # let them enter the scanner
    assert batcher.queued == 3
    with pytest.raises(Overloaded) as exc:
        await scan(batcher, "one too many")
    assert exc.value.smtp_reply.startswith("451 4.3.2")
    assert [real(r)[0].masked for r in await asyncio.gather(*held)] == [f"***-**-000{i}" for i in range(3)]
    assert await scan(batcher, "123-45-9999") != ()  # room again


async def test_a_huge_message_does_not_stall_small_ones(make_batcher: MakeBatcher) -> None:
    batcher = await make_batcher(max_batch=8, max_wait_ms=1)
    # ~2 MB in one segment, an SSN every ~10 kB so some sit across chunk boundaries
    filler = "lorem ipsum dolor sit amet " * 370
    big_text = "".join(f"{filler} 123-45-{i:04d} " for i in range(200))
    assert len(big_text) > 2_000_000
    done: list[str] = []

    async def scan_named(name: str, text: str) -> tuple[Finding, ...]:
        found = await scan(batcher, text)
        done.append(name)
        return found

    big = asyncio.create_task(scan_named("big", big_text))
    await asyncio.sleep(0)
    small = [asyncio.create_task(scan_named(f"s{i}", f"123-45-{i:04d}")) for i in range(50)]
    big_found = await big
    await asyncio.gather(*small)
    assert done.index("big") == 50, "small messages waited for the huge one"
    # and the huge one was scanned whole: every SSN found exactly once, at its real offset
    assert [f.masked for f in big_found] == [f"***-**-{i:04d}" for i in range(200)]
    assert all(re.fullmatch(r"123-45-\d{4}", big_text[f.start : f.end]) for f in big_found)


async def test_dead_worker_messages_are_retried_once(make_batcher: MakeBatcher, tmp_path: Path) -> None:
    batcher = await make_batcher(
        {"crash_once_file": str(tmp_path / "crashed")}, max_batch=8, max_wait_ms=60_000
    )
    texts = [f"123-45-000{i}" for i in range(7)] + ["CRASH-ONCE 123-45-0007"]
    results = await asyncio.gather(*(scan(batcher, t) for t in texts))
    assert [r[0].masked for r in results] == [f"***-**-000{i}" for i in range(8)]
    assert batcher.pool.restarts == 1 and batcher.stats.retried == 8


async def test_a_split_message_whose_piece_kills_a_worker_is_retried_whole(
    make_batcher: MakeBatcher, tmp_path: Path
) -> None:
    batcher = await make_batcher({"crash_once_file": str(tmp_path / "crashed")}, piece_chars=1000)
    text = " ".join(f"{'filler ' * 20} 123-45-{i:04d}" for i in range(40)) + " CRASH-ONCE"
    found = await scan(batcher, text)
    assert [f.masked for f in found] == [f"***-**-{i:04d}" for i in range(40)]
    assert batcher.pool.restarts == 1 and batcher.stats.retried == 1


async def test_a_message_that_kills_workers_twice_is_temp_failed_alone(make_batcher: MakeBatcher) -> None:
    batcher = await make_batcher(max_batch=8, max_wait_ms=60_000)
    texts = [f"123-45-000{i}" for i in range(7)] + ["CRASH-WORKER"]
    results = await asyncio.gather(*(scan(batcher, t) for t in texts), return_exceptions=True)
    assert isinstance(results[7], ScanUnavailable)
    # its batch mates were retried without it, each alone, and were scanned
    assert [r[0].masked for r in results[:7] if isinstance(r, tuple)] == [f"***-**-000{i}" for i in range(7)]
    await batcher.pool.wait_ready()
    assert batcher.pool.restarts == 2


async def test_detection_error_temp_fails_only_that_message(make_batcher: MakeBatcher) -> None:
    batcher = await make_batcher(max_batch=4, max_wait_ms=60_000)
    texts = ["123-45-0001", "RAISE", "123-45-0003", "nothing"]
    results = await asyncio.gather(*(scan(batcher, t) for t in texts), return_exceptions=True)
    assert isinstance(results[1], ScanUnavailable)
    assert results[0] != () and results[2] != () and results[3] == ()


async def test_timeout_temp_fails_and_the_stuck_worker_is_replaced(make_batcher: MakeBatcher) -> None:
    # the watchdog kills the stuck worker well before the scan times out, so the slot is empty
    # (not the stuck worker, ready) when the test waits for a ready pool. The message is retried
    # once: it times out, or, when the replacement starts fast, kills that one too.
    batcher = await make_batcher({"sleep": 60.0}, max_batch=1, max_wait_ms=0, timeout=1.0, batch_timeout=0.2)
    (pid,) = batcher.pool.pids()
    with pytest.raises(ScanUnavailable, match=r"timed out|worker died twice"):
        await scan(batcher, "SLEEP 123-45-0001")
    # a worker with nothing stuck on it: the replacement loads its engine (seconds on a busy
    # machine), and one that took the retried message is killed by its watchdog in 0.2 s
    await batcher.pool.wait_ready()
    while batcher.pool.idle_workers() != 1:  # no event says "the stuck batch was killed"
        await asyncio.sleep(0.05)
        await batcher.pool.wait_ready()
    assert (await scan(batcher, "123-45-0002"))[0].masked == "***-**-0002"
    assert batcher.pool.pids() != [pid]


async def test_close_temp_fails_waiting_messages_and_reaps_workers(
    make_batcher: MakeBatcher, worker_children: Callable[[], set[int]]
) -> None:
    batcher = await make_batcher({"sleep": 60.0}, workers=2, max_batch=1, max_wait_ms=0)
    pids = batcher.pool.pids()
    waiting = [asyncio.create_task(scan(batcher, f"SLEEP {i}")) for i in range(6)]
    await asyncio.sleep(0)
    await batcher.close()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, ScanUnavailable) for r in results)
    assert not set(pids) & worker_children()
    with pytest.raises(ScanUnavailable):
        await scan(batcher, "after close")


async def test_scan_before_start_temp_fails_at_once() -> None:
    batcher = BatchingScanner(WorkerPool(FACTORY, workers=1))
    with pytest.raises(ScanUnavailable, match="not started"):
        await scan(batcher, "123-45-6789")
    assert batcher.pool.pids() == []


async def test_empty_extraction_needs_no_worker(make_batcher: MakeBatcher) -> None:
    batcher = await make_batcher()
    assert await batcher.scan_extraction(Extraction(())) == Scanned(())
    assert batcher.stats.batches == 0


MIME = (
    b"From: a@example.org\r\nSubject: =?utf-8?q?ssn_123-45-0001?=\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\nplain 123-45-0002\r\n"
    b"--b\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + base64.b64encode(b"<p>html 123&#45;45-0003</p>")
    + b"\r\n--b--\r\n"
)


@pytest.mark.parametrize(("piece_chars", "items"), [(1000, 1), (30, 4)], ids=["whole", "split"])
async def test_messages_are_extracted_whole_with_their_defects(
    make_batcher: MakeBatcher, piece_chars: int, items: int
) -> None:
    # a worker extracts the bytes; text longer than piece_chars comes back to be cut into pieces
    batcher = await make_batcher(piece_chars=piece_chars)
    scanned = await batcher.scan(MIME)
    assert sorted((f.location, f.masked) for f in scanned.findings) == [
        ("body[1]", "***-**-0002"),
        ("body[2]", "***-**-0003"),  # decoded from base64, entity resolved, tags gone
        ("subject", "***-**-0001"),
    ]
    assert [d.split(" ")[0] for d in scanned.defects] == ["UnknownCharset"]
    assert batcher.stats.pieces == items  # the message, then its three pieces


async def test_workers_extract_with_the_configured_limits() -> None:
    nested = b"Content-Type: message/rfc822\r\n\r\n" * 3 + b"\r\n123-45-0004\r\n"
    pool = WorkerPool(FACTORY, workers=1, extract_kwargs={"max_depth": 1})
    async with BatchingScanner(pool) as batcher:
        scanned = await batcher.scan(nested)
    # the value below the limit was not read, and that is a finding of its own (fail closed)
    assert [f.category for f in scanned.findings] == ["UNSCANNED_NESTING_LIMIT"]
    assert any(d.startswith("NestingTooDeep") for d in scanned.defects)


async def test_build_scanner_passes_settings_to_the_engine_factory() -> None:
    settings = ScanSettings(workers=1, max_batch=4, max_wait_ms=1, queue_limit=9, timeout=5, nlp=False)
    scanner = build_scanner(settings, factory=FACTORY)
    assert (scanner.max_batch, scanner.queue_limit, scanner.pool.size) == (4, 9, 1)
    assert scanner.pool.extract_kwargs == {
        "max_depth": 10,
        "max_text_bytes": 4 * 1024 * 1024,
        "attachments": settings.attachments,
        "cpu_budget": 5.0,
    }
    scanner.pool.factory_kwargs["report"] = True
    async with scanner:
        found = await scan(scanner, "123-45-6789")
    assert note(found, "NLP") == 0


async def test_flush_timer_rearmed_with_a_deadline_already_past(make_batcher: MakeBatcher) -> None:
    # regression: uvloop returns a plain Handle (no .when()) for a call_at in the past, which
    # crashed the next re-arm inside a worker's result callback under load
    batcher = await make_batcher({"report": True}, max_batch=100, max_wait_ms=50)
    waiting = asyncio.create_task(scan(batcher, "123-45-0001"))
    await asyncio.sleep(0)
    now = asyncio.get_running_loop().time()
    batcher._arm_timer(now - 1.0)
    batcher._arm_timer(now - 2.0)
    assert note(await waiting, "BATCH") == 1
