"""Wiring helpers: relay choice and the retention purge loop."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from scanner.app import build_relay, purge_periodically
from scanner.relay import OutboxRelay, SmtpRelay
from scanner.settings import load_settings


def test_no_upstream_means_the_embedded_outbox(tmp_path: Path) -> None:
    assert isinstance(build_relay(load_settings(relay={"outbox_dir": tmp_path})), OutboxRelay)
    assert isinstance(build_relay(load_settings(relay={"host": "127.0.0.1"})), SmtpRelay)


class _Store:
    def __init__(self, fail_first: bool) -> None:
        self.calls: list[datetime] = []
        self.fail_first = fail_first
        self.third_call = asyncio.Event()

    async def purge_expired(self, now: datetime) -> int:
        self.calls.append(now)
        if len(self.calls) == 3:
            self.third_call.set()
        if self.fail_first and len(self.calls) == 1:
            raise RuntimeError("database away")
        return 0


async def test_retention_purge_runs_at_start_and_survives_failures() -> None:
    store = _Store(fail_first=True)
    task = asyncio.create_task(purge_periodically(store, every=0.01))  # type: ignore[arg-type]
    await asyncio.wait_for(store.third_call.wait(), 10)  # kept going after the first failure
    task.cancel()
    assert all(c.tzinfo is not None for c in store.calls)  # aware datetimes only
