"""Release and reject under crafted held mail: forged verdict headers stripped on release as on the
pass path, an envelope with a CR never reaches the wire or an outbox header, and reject never
deletes content without its audit record."""

from __future__ import annotations

from pathlib import Path

import httpx

from scanner.headers import strip_our_headers
from scanner.model import Envelope
from scanner.ports import QuarantineStore
from scanner.quarantine.model import HeldMessage, HeldStatus, Role
from scanner.relay import OutboxRelay
from tests.fakes import FakeRelay
from tests.review.conftest import NOW, bearer
from tests.review.fakes import SSN, data_of, events_of, held, make_mail, status_of


def _envelope(message: HeldMessage, envelope: Envelope) -> HeldMessage:
    return HeldMessage(
        message.id, envelope, message.data, message.verdict, message.received_at, message.tenant
    )


async def test_release_strips_forged_verdict_headers(
    client: httpx.AsyncClient, store: QuarantineStore, relay: FakeRelay
) -> None:
    forged = b"PII-Scan-Result: pass\r\nPII-Scan-Groups:\r\n none\r\n" + make_mail("s", f"SSN {SSN}")
    await store.hold(held("forged", forged, NOW))
    r = await client.post("/api/messages/forged/release", headers=bearer(Role.REVIEWER))
    assert r.status_code == 200
    [(_, sent)] = relay.delivered
    assert b"PII-Scan" not in sent and sent == strip_our_headers(forged) and sent.endswith(b"\n")


async def test_release_of_an_envelope_with_a_cr_is_refused_locally(
    client: httpx.AsyncClient, store: QuarantineStore, relay: FakeRelay
) -> None:
    cr = _envelope(held("cr", make_mail("s", "x"), NOW), Envelope("a\rRSET@shop.test", ("b@example.org",)))
    await store.hold(cr)
    r = await client.post("/api/messages/cr/release", headers=bearer(Role.REVIEWER))
    assert r.status_code == 502 and relay.delivered == []
    assert await status_of(store, "cr") is HeldStatus.HELD
    [event] = [e for e in await events_of(store) if e.action == "release_failed"]
    assert event.reason is not None and "contains a CR" in event.reason


async def test_reject_with_notice_for_a_cr_sender_is_audited_and_sends_nothing(
    client: httpx.AsyncClient, store: QuarantineStore, relay: FakeRelay
) -> None:
    cr = _envelope(
        held("cr2", make_mail("s", "x"), NOW), Envelope("a\r\nBcc: x@evil.test", ("b@example.org",))
    )
    await store.hold(cr)
    r = await client.post(
        "/api/messages/cr2/reject",
        json={"reason": "ticket 9", "notify_sender": True},
        headers=bearer(Role.REVIEWER),
    )
    assert r.status_code == 200 and r.json()["notified"] is False
    assert relay.delivered == [] and await data_of(store, "cr2") is None
    assert [(e.action, e.reason) for e in await events_of(store)] == [
        ("reject", "ticket 9"),
        ("notice_skipped", "501 5.1.3 Bad destination mailbox address syntax: contains a CR"),
    ]


async def test_failed_notice_is_audited(
    client: httpx.AsyncClient, store: QuarantineStore, relay: FakeRelay
) -> None:
    relay.fail = True
    r = await client.post(
        "/api/messages/msg-ssn/reject", json={"notify_sender": True}, headers=bearer(Role.REVIEWER)
    )
    assert r.status_code == 200 and r.json()["notified"] is False
    assert [e.action for e in await events_of(store)] == ["reject", "notice_failed"]


def _only_eml(directory: Path) -> bytes:
    [eml] = list(directory.glob("*.eml"))
    return eml.read_bytes()


async def test_outbox_never_writes_a_line_break_from_the_envelope(tmp_path: Path) -> None:
    relay = OutboxRelay(tmp_path)
    env = Envelope("a\rX-Injected: 1@shop.test", ("b\nX-Other: 2@example.org", "ok@example.org"))
    await relay.deliver(env, b"Subject: s\r\n\r\nbody\r\n")
    head = _only_eml(tmp_path).split(b"\r\n\r\n", 1)[0]
    lines = head.split(b"\r\n")
    assert all(b"\r" not in line and b"\n" not in line for line in lines)
    assert not any(line.startswith((b"X-Injected", b"X-Other")) for line in lines)
    assert lines[:3] == [
        b"Return-Path: <a X-Injected: 1@shop.test>",
        b"Delivered-To: b X-Other: 2@example.org",
        b"Delivered-To: ok@example.org",
    ]
