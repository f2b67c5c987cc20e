"""How long `hold()` takes: the latency a held message adds before the proxy answers 250.

    python -m benchmarks.quarantine_hold [--n 500] [--size 20000] [--pg URL]

Same run, same messages: SQLite with synchronous=FULL (what sendguard uses: fsync per commit,
durable before 250) vs NORMAL (faster, may lose the last commits on power loss), and
PostgreSQL (if reachable). Also shows the Fernet cost alone. Prints p50/p99/mean of sequential
holds per setup, then the throughput of 16 concurrent holders.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scanner.model import Action, Confidence, Envelope, Finding, Group, Verdict
from scanner.quarantine.crypto import Sealer, generate_key
from scanner.quarantine.engine import make_engine
from scanner.quarantine.migrate import upgrade_to_head
from scanner.quarantine.model import HeldMessage
from scanner.quarantine.store import SqlQuarantineStore

DEFAULT_PG = os.environ.get("SENDGUARD_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def _message(i: int, size: int) -> HeldMessage:
    body = (b"Lorem ipsum dolor sit amet, patient record 4471. " * (size // 48 + 1))[:size]
    finding = Finding(
        "MEDICAL_RECORD", Group.MEDICAL, "body[1]", 10, 20, 0.8, Confidence.MEDIUM, "MRN ***471"
    )
    return HeldMessage(
        id=f"bench-{i}-{uuid.uuid4().hex[:8]}",
        envelope=Envelope("sender@shop.example", ("rcpt@example.org",), ("SIZE=20000",), ((),)),
        data=b"Subject: bench\r\n\r\n" + body,
        verdict=Verdict(Action.HOLD, (finding,), (finding,)),
        received_at=datetime.now(UTC),
    )


async def _time(n: int, call: Callable[[int], Awaitable[object]]) -> list[float]:
    samples = []
    for i in range(n):
        t0 = time.perf_counter()
        await call(i)
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def _report(name: str, ms: list[float]) -> None:
    ms = sorted(ms)
    p50 = ms[len(ms) // 2]
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(f"{name:<34} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   mean {statistics.fmean(ms):7.2f} ms")


async def _bench_store(name: str, url: str, n: int, size: int, **engine_kw: str) -> None:
    engine = make_engine(url, **engine_kw)
    await upgrade_to_head(engine)
    store = SqlQuarantineStore(engine, Sealer([generate_key().encode()]), timedelta(days=30))
    messages = [_message(i, size) for i in range(n)]
    more = [_message(n + i, size) for i in range(n)]
    try:
        await _time(10, lambda i: store.hold(_message(10_000 + i, size)))  # warm-up
        _report(name, await _time(n, lambda i: store.hold(messages[i])))
        # a busy proxy: 16 sessions holding at once (SQLite serialises writers, PostgreSQL not)
        queue = list(more)

        async def worker() -> None:
            while queue:
                await store.hold(queue.pop())

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(16)))
        print(f"{'':<34} 16 concurrent holders: {n / (time.perf_counter() - t0):7.0f} holds/s")
    finally:
        await store.close()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--size", type=int, default=20_000)
    ap.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL URL ('' to skip)")
    args = ap.parse_args()
    print(f"hold() latency, {args.n} sequential holds of a {args.size}-byte message")

    sealer = Sealer([generate_key().encode()])
    data = _message(0, args.size).data

    async def seal(_: int) -> None:
        sealer.seal(data)

    _report("Fernet seal alone", await _time(args.n, seal))
    with tempfile.TemporaryDirectory(prefix="sg-bench-", dir=Path.cwd()) as tmp:
        for sync in ("FULL", "NORMAL"):
            url = f"sqlite+aiosqlite:///{tmp}/{sync}.db"
            await _bench_store(
                f"SQLite WAL synchronous={sync}", url, args.n, args.size, sqlite_synchronous=sync
            )
    if args.pg:
        schema = f"sgq_bench_{uuid.uuid4().hex[:8]}"
        engine = make_engine(args.pg)
        try:
            async with engine.begin() as conn:
                await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        except Exception as exc:  # report, do not fail: PostgreSQL is optional here
            print(f"PostgreSQL skipped: {type(exc).__name__}")
            await engine.dispose()
            return
        try:
            await _bench_store("PostgreSQL (asyncpg)", args.pg, args.n, args.size, schema=schema)
        finally:
            async with engine.begin() as conn:
                await conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
