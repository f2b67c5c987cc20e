"""actions: release outcomes and the sender notice."""

from __future__ import annotations

from datetime import UTC, datetime

from scanner.quarantine.model import HeldStatus
from scanner.quarantine.release import ReleaseOutcome, release
from scanner.review.actions import RejectOutcome, build_notice, reject
from tests.fakes import FakeRelay
from tests.review.fakes import SSN, data_of, held, make_mail, status_of
from tests.review.memory_store import MemoryStore

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


async def test_release_outcomes() -> None:
    store, relay = MemoryStore(), FakeRelay()
    await store.hold(held("m", make_mail("s", f"x {SSN}"), NOW))
    assert await release(store, relay, "nope", "dana") is ReleaseOutcome.NOT_FOUND
    relay.fail = True
    assert await release(store, relay, "m", "dana") is ReleaseOutcome.RELAY_FAILED
    assert await status_of(store, "m") is HeldStatus.HELD and await data_of(store, "m")
    relay.fail = False
    assert await release(store, relay, "m", "dana") is ReleaseOutcome.RELEASED
    assert await release(store, relay, "m", "dana") is ReleaseOutcome.NOT_HELD
    assert len(relay.delivered) == 1 and store.claims == 2


async def test_reject_never_notifies_the_null_sender() -> None:
    store, relay = MemoryStore(), FakeRelay()
    await store.hold(held("m", make_mail("s", f"x {SSN}"), NOW, sender=""))
    outcome = await reject(store, relay, "m", "dana", None, notify_sender=True, hostname="h", now=NOW)
    assert outcome == (RejectOutcome.REJECTED, False) and relay.delivered == []


def test_notice_lists_categories_only() -> None:
    notice = build_notice("ref-1", {"US_SSN": 2, "IBAN": 1}, "a@b.test", "guard.test", NOW).decode()
    assert "Reference: ref-1" in notice and "US_SSN: 2" in notice and "IBAN: 1" in notice
    assert "Auto-Submitted: auto-replied" in notice and "To: a@b.test" in notice
