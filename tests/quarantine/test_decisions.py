"""`Decisions`: release, reject, requeue, mark delivered... on every store, each audited.

The uncertain release is tested against a real loopback upstream that stores the message and
drops the connection before its final reply (RFC 5321 §4.1.1.4): the message must not be held
again nor sent a second time by an ordinary release.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from scanner._errors import RelayAmbiguousError, RelayPermanentError, RelayTemporaryError
from scanner.ports import QuarantineStore
from scanner.quarantine.decisions import Decisions, RejectOutcome, ReleaseOutcome, build_notice
from scanner.quarantine.model import HeldStatus
from scanner.relay import SmtpRelay
from scanner.settings import RelaySettings
from tests.fakes import FakeRelay
from tests.quarantine.fakes import BODY_MARKER, held_message

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


async def status(store: QuarantineStore, message_id: str) -> HeldStatus:
    record = await store.get(message_id)
    assert record is not None
    return record.summary.status


async def actions(store: QuarantineStore, message_id: str) -> list[str]:
    return [e.action for e in reversed(await store.audit_log(message_id))]


async def test_release_relays_the_original_once_and_purges(any_store: QuarantineStore) -> None:
    message = held_message("rel")
    await any_store.hold(message)
    relay = FakeRelay()
    decisions = Decisions(any_store, relay, hostname="guard.test")
    assert (await decisions.release("rel", "alice")).outcome is ReleaseOutcome.RELEASED
    assert relay.delivered == [(message.envelope, message.data)]
    record = await any_store.get("rel")
    assert record is not None and record.summary.status is HeldStatus.RELEASED and record.data is None
    assert [(e.action, e.actor) for e in await any_store.audit_log("rel")] == [("release", "alice")]
    assert (await decisions.release("rel", "bob")).outcome is ReleaseOutcome.NOT_HELD
    assert (await decisions.release("nope", "bob")).outcome is ReleaseOutcome.NOT_FOUND
    assert len(relay.delivered) == 1


async def test_ten_concurrent_releases_send_exactly_once(any_store: QuarantineStore) -> None:
    await any_store.hold(held_message("race"))
    relay = FakeRelay()
    decisions = Decisions(any_store, relay, hostname="guard.test")
    results = await asyncio.gather(*(decisions.release("race", f"r{i}") for i in range(10)))
    outcomes = [r.outcome for r in results]
    assert outcomes.count(ReleaseOutcome.RELEASED) == 1 and outcomes.count(ReleaseOutcome.NOT_HELD) == 9
    assert len(relay.delivered) == 1


async def test_upstream_refusal_holds_again_with_the_smtp_error(any_store: QuarantineStore) -> None:
    message = held_message("fail")
    await any_store.hold(message)
    relay = FakeRelay(fail_with=RelayTemporaryError("421 try later", code=421, status="4.3.2"))
    decisions = Decisions(any_store, relay, hostname="guard.test")
    result = await decisions.release("fail", "alice")
    assert result.outcome is ReleaseOutcome.RELAY_FAILED and result.error == "421 4.3.2 421 try later"
    record = await any_store.get("fail")
    assert record is not None and record.summary.status is HeldStatus.HELD and record.data == message.data
    [event] = await any_store.audit_log("fail")
    assert event.action == "release_failed" and event.reason == result.error
    assert BODY_MARKER not in (event.reason or "")
    relay.fail_with = RelayPermanentError("550 5.7.1 policy", code=550, status="5.7.1")
    assert (await decisions.release("fail", "alice")).outcome is ReleaseOutcome.RELAY_FAILED
    relay.fail_with = None
    assert (await decisions.release("fail", "alice")).outcome is ReleaseOutcome.RELEASED
    assert relay.delivered == [(message.envelope, message.data)]


async def test_an_ambiguous_relay_leaves_the_message_uncertain_for_an_admin(
    any_store: QuarantineStore,
) -> None:
    await any_store.hold(held_message("amb"))
    relay = FakeRelay(fail_with=RelayAmbiguousError("no reply after DATA"))
    decisions = Decisions(any_store, relay, hostname="guard.test")
    assert (await decisions.release("amb", "alice")).outcome is ReleaseOutcome.UNCERTAIN
    relay.fail_with = None
    assert (await decisions.release("amb", "bob")).outcome is ReleaseOutcome.NOT_HELD
    assert not await decisions.requeue("amb", "admin")  # never back to the queue
    assert relay.delivered == []
    assert (await decisions.release("amb", "admin", again=True)).outcome is ReleaseOutcome.RELEASED
    assert len(relay.delivered) == 1 and await status(any_store, "amb") is HeldStatus.RELEASED
    assert await actions(any_store, "amb") == ["release_uncertain", "release_again"]


async def test_mark_delivered_and_requeue(any_store: QuarantineStore) -> None:
    decisions = Decisions(any_store, FakeRelay(), hostname="guard.test")
    await any_store.hold(held_message("u"))
    await any_store.hold(held_message("crashed"))
    assert not await decisions.mark_delivered("u", "admin")  # only an uncertain one
    await decisions.relay.close()
    decisions.relay = FakeRelay(fail_with=RelayAmbiguousError("x"))
    await decisions.release("u", "alice")
    assert await decisions.mark_delivered("u", "admin", "seen in the upstream's log")
    record = await any_store.get("u")
    assert record is not None and record.summary.status is HeldStatus.RELEASED and record.data is None
    assert await any_store.claim_release("crashed", "console-that-crashed") is not None
    assert await decisions.requeue("crashed", "admin")
    assert await status(any_store, "crashed") is HeldStatus.HELD
    assert await actions(any_store, "crashed") == ["requeue"]


async def test_reject_audits_and_never_notifies_the_null_sender(any_store: QuarantineStore) -> None:
    relay = FakeRelay()
    decisions = Decisions(any_store, relay, hostname="guard.test", clock=lambda: NOW)
    await any_store.hold(held_message("m", mail_from=""))
    result = await decisions.reject("m", "dana", "phishing", notify_sender=True)
    assert (result.outcome, result.notified) == (RejectOutcome.REJECTED, False) and relay.delivered == []
    assert [(e.action, e.reason, e.at) for e in await any_store.audit_log("m")] == [
        ("reject", "phishing", NOW)
    ]
    assert (await decisions.reject("m", "dana", None)).outcome is RejectOutcome.NOT_HELD
    assert (await decisions.reject("nope", "dana", None)).outcome is RejectOutcome.NOT_FOUND


async def test_reject_notifies_the_sender_with_categories_only(any_store: QuarantineStore) -> None:
    relay = FakeRelay()
    decisions = Decisions(any_store, relay, hostname="guard.test", clock=lambda: NOW)
    await any_store.hold(held_message("n"))
    assert (await decisions.reject("n", "dana", None, notify_sender=True)).notified
    [(envelope, notice)] = relay.delivered
    assert envelope.mail_from == "" and envelope.rcpt_tos == ("billing@shop.example",)
    assert b"US_SSN: 1" in notice and BODY_MARKER.encode() not in notice and b"6789" not in notice


def test_notice_lists_categories_only() -> None:
    notice = build_notice("ref-1", {"US_SSN": 2, "IBAN": 1}, "a@b.test", "guard.test", NOW).decode()
    assert "Reference: ref-1" in notice and "US_SSN: 2" in notice and "IBAN: 1" in notice
    assert "Auto-Submitted: auto-replied" in notice and "To: a@b.test" in notice


# --- a real upstream that takes the message and never answers the final dot -------------------


class ForgetfulUpstream:
    """Speaks just enough SMTP; after the DATA terminator it stores the message and hangs up."""

    def __init__(self) -> None:
        self.stored: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 upstream.test ESMTP\r\n")
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                self.stored.append(await reader.readuntil(b"\r\n.\r\n"))
                break  # stored, and the connection drops before the 250
            if verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                break
            writer.write(b"250-upstream.test\r\n250 8BITMIME\r\n" if verb == b"EHLO" else b"250 ok\r\n")
            await writer.drain()
        writer.close()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])


@pytest.fixture
async def forgetful() -> AsyncIterator[ForgetfulUpstream]:
    upstream = ForgetfulUpstream()
    upstream.server = await asyncio.start_server(upstream.serve, "127.0.0.1", 0)
    yield upstream
    upstream.server.close()
    await upstream.server.wait_closed()


async def test_an_upstream_that_stores_then_hangs_up_gets_the_message_once(
    any_store: QuarantineStore, forgetful: ForgetfulUpstream
) -> None:
    relay = SmtpRelay(RelaySettings(host="127.0.0.1", port=forgetful.port, timeout=5))
    decisions = Decisions(any_store, relay, hostname="guard.test")
    await any_store.hold(held_message("once"))
    try:
        with pytest.raises(RelayAmbiguousError):  # the relay says what happened...
            await relay.deliver(held_message("probe").envelope, b"Subject: probe\r\n\r\nprobe\r\n")
        forgetful.stored.clear()
        result = await decisions.release("once", "alice")  # ...and a release stops there
        assert result.outcome is ReleaseOutcome.UNCERTAIN and result.error
        assert await status(any_store, "once") is HeldStatus.UNCERTAIN
        assert (await decisions.release("once", "bob")).outcome is ReleaseOutcome.NOT_HELD
    finally:
        await relay.close()
    assert len(forgetful.stored) == 1 and BODY_MARKER.encode() in forgetful.stored[0]
