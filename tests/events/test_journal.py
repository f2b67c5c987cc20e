"""The journal commits a decision with its event (and report), and release carries DSN parameters."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from scanner._errors import StoreError
from scanner.events.journal import Journal, Rejection
from scanner.events.outbox import SqlOutbox
from scanner.events.records import Records
from scanner.model import Action, Envelope, Verdict
from scanner.quarantine.decisions import Decisions, RejectOutcome, ReleaseOutcome
from scanner.quarantine.store import SqlQuarantineStore
from scanner.settings import WebhookSettings
from tests.events.conftest import SECRET
from tests.fakes import FakeRelay
from tests.quarantine.fakes import finding, held_message

CONF = WebhookSettings(url="http://127.0.0.1:9/hooks", secret=SecretStr(SECRET))


async def _types(store: SqlQuarantineStore) -> list[tuple[str, str | None]]:
    return sorted((i.type, i.reference) for i in await SqlOutbox(store).list())


async def test_hold_and_its_event_commit_together(store: SqlQuarantineStore) -> None:
    journal = Journal(store, CONF)
    await journal.hold(held_message("H1", tenant="acme"))
    assert await _types(store) == [("message.held", "H1")]
    with pytest.raises(StoreError):  # same id again: the hold fails, and so does its event
        await journal.hold(held_message("H1", tenant="acme"))
    assert await _types(store) == [("message.held", "H1")]


async def test_rejection_record_is_kept_masked_and_scoped(store: SqlQuarantineStore) -> None:
    journal = Journal(store, CONF)
    env = Envelope("billing@shop.example", ("a@example.org",))
    verdict = Verdict(Action.REJECT, (finding(),), (finding(),))
    await journal.rejected(Rejection("R1", "acme", env, datetime.now(UTC), verdict, "reply"), None)
    records = Records(store)
    got = await records.rejection("R1")
    assert got is not None and got["tenant"] == "acme" and got["categories"] == {"US_SSN": 1}
    assert got["findings"][0]["masked"] == finding().masked
    assert await records.rejection("R1", "other") is None
    with pytest.raises(StoreError):  # a duplicate reference rolls back record and event
        await journal.rejected(Rejection("R1", "acme", env, datetime.now(UTC), verdict, "reply"), None)
    assert await _types(store) == [("message.rejected", "R1")]


async def test_reviewer_decisions_are_events_and_release_carries_dsn_parameters(
    store: SqlQuarantineStore,
) -> None:
    journal = Journal(store, CONF)
    held = held_message("H2", tenant="acme")
    held = replace(held, envelope=replace(held.envelope, mail_options=("RET=HDRS", "ENVID=E1")))
    await journal.hold(held)
    await journal.hold(held_message("H3", tenant="acme"))
    relay = FakeRelay()
    decisions = Decisions(store, relay, hostname="h", journal=journal)
    result = await decisions.release("H2", "alice")
    assert result.outcome is ReleaseOutcome.RELEASED
    ((envelope, _),) = relay.delivered
    assert envelope.mail_options == ("RET=HDRS", "ENVID=E1")
    assert envelope.rcpt_options == (("NOTIFY=NEVER",),)
    rejected = await decisions.reject("H3", "bob", "contains an SSN")
    assert rejected.outcome is RejectOutcome.REJECTED
    assert await _types(store) == [
        ("message.held", "H2"),
        ("message.held", "H3"),
        ("message.rejected_by_reviewer", "H3"),
        ("message.released", "H2"),
    ]
    bodies = b"".join(i.payload for i in await SqlOutbox(store).list())
    assert b"contains an SSN" not in bodies and b"123-45-6789" not in bodies and b'"actor":"bob"' in bodies


async def test_concurrent_rejections_share_a_commit_and_a_bad_one_fails_alone(
    store: SqlQuarantineStore,
) -> None:
    journal = Journal(store, CONF)
    env = Envelope("billing@shop.example", ("a@example.org",))
    verdict = Verdict(Action.REJECT, (finding(),), (finding(),))
    await journal.rejected(Rejection("DUP", "acme", env, datetime.now(UTC), verdict, "reply"), None)
    refs = [f"G{i}" for i in range(40)] + ["DUP"]  # one duplicate among a burst
    results = await asyncio.gather(
        *(
            journal.rejected(Rejection(r, "acme", env, datetime.now(UTC), verdict, "reply"), None)
            for r in refs
        ),
        return_exceptions=True,
    )
    assert [type(x) for x in results[-1:]] == [StoreError]
    assert results[:-1] == [None] * 40
    records = Records(store)
    assert all([await records.rejection(r) is not None for r in refs])
    assert len(await _types(store)) == 41  # each committed rejection has its event, no more
    await journal.close()
