"""release(): claim -> relay -> finish/abort -> audit, exactly once, on both backends."""

from __future__ import annotations

import asyncio

from scanner._errors import RelayPermanentError, RelayTemporaryError
from scanner.quarantine.model import HeldStatus
from scanner.quarantine.release import ReleaseOutcome, release, release_message
from scanner.quarantine.store import SqlQuarantineStore
from tests.fakes import FakeRelay
from tests.quarantine.fakes import BODY_MARKER, held_message


async def test_release_relays_the_original_once_and_purges(store: SqlQuarantineStore) -> None:
    message = held_message("rel")
    await store.hold(message)
    relay = FakeRelay()

    assert await release(store, relay, "rel", "alice") is ReleaseOutcome.RELEASED

    assert relay.delivered == [(message.envelope, message.data)]
    record = await store.get("rel")
    assert record is not None
    assert record.summary.status is HeldStatus.RELEASED and record.data is None
    assert [(e.action, e.actor) for e in await store.audit_log("rel")] == [("release", "alice")]
    assert await release(store, relay, "rel", "bob") is ReleaseOutcome.NOT_HELD
    assert len(relay.delivered) == 1


async def test_ten_concurrent_releases_send_exactly_once(store: SqlQuarantineStore) -> None:
    await store.hold(held_message("race"))
    relay = FakeRelay()

    outcomes = await asyncio.gather(*(release(store, relay, "race", f"r{i}") for i in range(10)))

    assert outcomes.count(ReleaseOutcome.RELEASED) == 1
    assert outcomes.count(ReleaseOutcome.NOT_HELD) == 9
    assert len(relay.delivered) == 1


async def test_unknown_message_is_not_found(store: SqlQuarantineStore) -> None:
    assert await release(store, FakeRelay(), "nope", "alice") is ReleaseOutcome.NOT_FOUND


async def test_upstream_failure_puts_the_message_back_and_reports_the_smtp_error(
    store: SqlQuarantineStore,
) -> None:
    message = held_message("fail")
    await store.hold(message)
    relay = FakeRelay(fail_with=RelayTemporaryError("421 try later", code=421, status="4.3.2"))

    result = await release_message(store, relay, "fail", "alice")

    assert result.outcome is ReleaseOutcome.RELAY_FAILED
    assert result.error == "421 4.3.2 421 try later"
    record = await store.get("fail")
    assert record is not None and record.summary.status is HeldStatus.HELD and record.data == message.data
    [event] = await store.audit_log("fail")
    assert event.action == "release_failed" and event.reason == result.error
    assert BODY_MARKER not in (event.reason or "")

    relay.fail_with = RelayPermanentError("550 5.7.1 policy", code=550, status="5.7.1")
    assert await release(store, relay, "fail", "alice") is ReleaseOutcome.RELAY_FAILED
    relay.fail_with = None
    assert await release(store, relay, "fail", "alice") is ReleaseOutcome.RELEASED
    assert relay.delivered == [(message.envelope, message.data)]
