"""What opening a held message costs, before and after views were computed at hold time.

    python -m benchmarks.console_view [--parts 20000,200000] [--opens 50]

Same run, same messages (N empty MIME parts, the shape of the issue's 200k-part finding):

- *per view, as before*: what every page open used to do in the process serving it -- parse
  the whole message with ``policy.default``, extract it, walk every part for the attachment
  list (reproduced here from the old ``scanner.review.render``; skipped above 50,000 parts,
  where it takes tens of seconds);
- *once, at hold*: `build_view`, bounded (the input is cut at 1,000 boundary lines), which the
  store runs in a thread when it holds the message;
- *per view, now*: `SqlQuarantineStore.get_view` on SQLite (one row, one decryption, JSON).

CPU seconds are the process's (`time.process_time`); open latency is wall clock, p50 / max.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from scanner.extract import extract
from scanner.model import Action, Envelope, Verdict
from scanner.quarantine.model import HeldMessage
from scanner.quarantine.store import open_store
from scanner.quarantine.view import build_view
from scanner.settings import QuarantineSettings

ENV = Envelope("a@shop.test", ("b@example.org",))


def message(parts: int) -> bytes:
    return (
        b"From: a@shop.test\r\nSubject: many\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        + b"--b\r\n\r\n" * parts
        + b"--b--\r\n"
    )


def old_view(data: bytes) -> int:
    """The old per-request work: policy.default parse, extraction, attachment walk."""
    msg = email.message_from_bytes(data, policy=email.policy.default)
    segments = extract(data).segments
    attachments = 0
    for part in msg.walk():
        if part.is_multipart():
            continue
        if part.get_filename() is not None or part.get_content_disposition() == "attachment":
            attachments += 1
        part.get_payload(decode=True)
    return len(segments) + attachments


def cpu(fn: Callable[..., object], *args: object) -> float:
    start = time.process_time()
    fn(*args)
    return time.process_time() - start


async def opens(parts: int, n: int, tmp: Path) -> tuple[float, float]:
    store = await open_store(
        QuarantineSettings(url=f"sqlite+aiosqlite:///{tmp}/q{parts}.db", key_file=tmp / "q.key")
    )
    try:
        held = HeldMessage("m", ENV, message(parts), Verdict(Action.HOLD), datetime.now(UTC))
        await store.hold(held)
        times = []
        for _ in range(n):
            start = time.perf_counter()
            assert await store.get_view("m") is not None
            times.append(time.perf_counter() - start)
        return statistics.median(times), max(times)
    finally:
        await store.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parts", default="20000,200000")
    ap.add_argument("--opens", type=int, default=50)
    args = ap.parse_args()
    print(
        f"{'parts':>8} {'per view, before (CPU s)':>26} {'once at hold (CPU s)':>22} {'per view, now p50/max (ms)':>28}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for parts in (int(p) for p in args.parts.split(",")):
            data = message(parts)
            before = f"{cpu(old_view, data):.2f}" if parts <= 50_000 else "(skipped)"
            hold = cpu(build_view, data, (), ENV)
            p50, worst = asyncio.run(opens(parts, args.opens, Path(tmp)))
            print(f"{parts:>8} {before:>26} {hold:>22.3f} {p50 * 1000:>20.2f} / {worst * 1000:.2f}")


if __name__ == "__main__":
    main()
