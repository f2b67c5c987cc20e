"""The findings of the console's security review, each pinned: crafted held mail cannot break or
leak through a page, sessions end for real, throttling cannot lock anyone out from outside,
errors carry the security headers and say nothing of content, bodies are bounded."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from scanner.detect import build_engine
from scanner.extract import extract
from scanner.model import Confidence, Envelope, Finding, Group
from scanner.ports import QuarantineStore
from scanner.quarantine.model import HeldMessage, Role
from scanner.quarantine.store import SqlQuarantineStore
from scanner.quarantine.tables import views
from scanner.review import create_app
from scanner.review.auth import SESSION_COOKIE
from scanner.settings import ReviewSettings
from tests.fakes import FakeRelay
from tests.review.conftest import NOW, PASSWORD, bearer, csrf_from, login
from tests.review.fakes import held, make_mail

HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def _with_envelope(message: HeldMessage, envelope: Envelope) -> HeldMessage:
    return HeldMessage(
        message.id, envelope, message.data, message.verdict, message.received_at, message.tenant
    )


async def test_invalid_utf8_recipient_breaks_nothing(
    client: httpx.AsyncClient, store: QuarantineStore
) -> None:
    # RCPT TO:<x\xff@example.org> as aiosmtpd decodes it (surrogateescape), held before the edge checked
    bad = _with_envelope(
        held("bad-rcpt", make_mail("hi", "text"), NOW), Envelope("a@shop.test", ("x\udcff@example.org",))
    )
    await store.hold(bad)
    for path in ("/api/messages", "/api/messages/bad-rcpt"):
        r = await client.get(path, headers=bearer(Role.VIEWER))
        assert r.status_code == 200 and "x\ufffd@example.org" in r.json().__repr__()
    await login(client, "viewer")
    for path in ("/", "/messages/bad-rcpt"):
        r = await client.get(path)
        assert r.status_code == 200 and "x\ufffd@example.org" in r.text


async def test_odd_message_id_and_display_names_stay_masked_and_out_of_logs(
    client: httpx.AsyncClient, store: QuarantineStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    data = (
        b'From: "Jane 536-22-8843 Roe" <jane@shop.test>\r\nTo: "Bob \xe2\x80\xae 4111" <bob@example.org>\r\n'
        b"Message-ID: <<SSN 536-22-8843 Jane Roe>@x>\r\nSubject: hi\r\n\r\nbody\r\n"
    )
    # the findings the real engine makes: every header is scanned (issue 10)
    found = tuple(build_engine(nlp=False).detect(list(extract(data).segments)))
    assert {f.location for f in found} >= {"header:From", "header:Message-ID"}
    await store.hold(held("odd-id", data, NOW, findings=found))
    await login(client, "viewer")
    r = await client.get("/messages/odd-id")
    assert r.status_code == 200
    assert "8843" not in r.text.replace("***-**-8843", "")  # masked where it stands, never clear
    assert "jane@shop.test" in r.text and "bob@example.org" in r.text
    api = await client.get("/api/messages/odd-id", headers=bearer(Role.VIEWER))
    assert "536-22-8843" not in api.text
    assert "8843" not in caplog.text and "Jane" not in caplog.text


async def test_a_row_without_a_stored_view_withholds_header_text(
    client: httpx.AsyncClient, store: QuarantineStore
) -> None:
    """A row held before views were stored: its scan may not have read headers, so their free
    text is withheld (addresses without display names), whatever its findings say."""
    data = (
        b'From: "Jane 536-22-8843 Roe" <jane@shop.test>\r\nTo: "Bob 4111" <bob@example.org>\r\n'
        b"Message-ID: <<SSN 536-22-8843 Jane Roe>@x>\r\nSubject: hi\r\n\r\nbody\r\n"
    )
    await store.hold(held("legacy", data, NOW, findings=()))
    assert isinstance(store, SqlQuarantineStore)
    async with store.engine.begin() as conn:
        await conn.execute(views.delete().where(views.c.message_id == "legacy"))
    await login(client, "viewer")
    r = await client.get("/messages/legacy")
    assert r.status_code == 200
    assert "8843" not in r.text and "Jane" not in r.text and "Bob" not in r.text
    assert "jane@shop.test" in r.text and "bob@example.org" in r.text


async def test_errors_carry_security_headers_and_no_content(
    client: httpx.AsyncClient,
    store: QuarantineStore,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    missing = await client.get("/no/such/page")
    assert missing.status_code == 404 and all(h in missing.headers for h in HEADERS)
    assert missing.headers["cache-control"] == "no-store"

    async def broken(*args: object) -> None:
        raise RuntimeError("header value <<SSN 536-22-8843 Jane Roe>@x>")

    monkeypatch.setattr(store, "list_held", broken)
    r = await client.get("/api/messages", headers=bearer(Role.VIEWER))
    assert r.status_code == 500 and all(h in r.headers for h in HEADERS)
    assert r.headers["cache-control"] == "no-store" and "8843" not in r.text
    assert "8843" not in caplog.text and "RuntimeError" in caplog.text


async def test_request_bodies_are_bounded(client: httpx.AsyncClient, store: QuarantineStore) -> None:
    big = b'{"reason": "' + b"x" * 70_000 + b'"}'
    r = await client.post("/api/messages/msg-ssn/reveal", content=big, headers=bearer(Role.REVIEWER))
    assert r.status_code == 413 and all(h in r.headers for h in HEADERS)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(100):
            yield b"x" * 1024

    r = await client.post("/api/messages/msg-ssn/reveal", content=chunks(), headers=bearer(Role.REVIEWER))
    assert r.status_code == 413
    assert not any(e.action == "reveal" for e in await store.audit_log())


async def test_logout_revokes_the_session_server_side(client: httpx.AsyncClient) -> None:
    csrf = await login(client, "viewer")
    copied = client.cookies[SESSION_COOKIE]
    assert (await client.post("/logout", data={"csrf_token": csrf})).status_code == 303
    client.cookies.set(SESSION_COOKIE, copied)  # an attacker kept a copy of the cookie
    assert (await client.get("/")).status_code == 303
    r = await client.get("/api/messages", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 401


async def test_password_change_ends_every_session_of_the_account(
    client: httpx.AsyncClient, store: QuarantineStore, relay: FakeRelay, settings: ReviewSettings
) -> None:
    await login(client, "reviewer")
    other_app = create_app(store, relay, settings, clock=lambda: NOW)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=other_app), base_url="http://r2.test"
    ) as c2:
        await login(c2, "reviewer")  # a second session, on another console process
        r = await client.post(
            "/api/accounts",
            json={"name": "reviewer", "role": "reviewer", "password": "a brand new passphrase"},
            headers=bearer(Role.ADMIN),
        )
        assert r.status_code == 201
        assert (await client.get("/")).status_code == 303
        assert (await c2.get("/")).status_code == 303


async def test_sessions_expire_when_idle_and_absolutely(store: QuarantineStore, relay: FakeRelay) -> None:
    clock = Clock()
    settings = ReviewSettings(
        session_secret=SecretStr("s" * 20), session_idle_minutes=30, session_max_hours=8
    )
    app = create_app(store, relay, settings, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r.test") as c:
        await login(c, "viewer")
        for _ in range(20):  # active every 25 minutes: the idle limit never bites...
            clock.now += timedelta(minutes=25)
            if clock.now - NOW > timedelta(hours=8):
                break
            assert (await c.get("/")).status_code == 200
        clock.now += timedelta(minutes=25)  # ...but the absolute one does
        assert (await c.get("/")).status_code == 303
        await login(c, "viewer")
        clock.now += timedelta(minutes=31)
        assert (await c.get("/")).status_code == 303


async def _failed_login(c: httpx.AsyncClient, name: str, xff: str | None = None) -> int:
    csrf = csrf_from((await c.get("/login")).text)
    headers = {"X-Forwarded-For": xff} if xff else {}
    r = await c.post(
        "/login", data={"username": name, "password": "guess", "csrf_token": csrf}, headers=headers
    )
    return r.status_code


async def test_throttling_cannot_lock_an_account_from_outside(
    store: QuarantineStore, relay: FakeRelay, settings: ReviewSettings
) -> None:
    app = create_app(store, relay, settings, clock=lambda: NOW)

    def client_from(addr: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(addr, 4000)), base_url="http://r.test"
        )

    async with client_from("203.0.113.9") as attacker, client_from("10.0.0.5") as admin:
        # forged X-Forwarded-For from an untrusted peer changes nothing: the attacker stays one client
        codes = [await _failed_login(attacker, "admin", xff=f"198.51.100.{i}") for i in range(30)]
        assert 429 in codes and codes[-1] == 429
        # and the real admin, elsewhere, signs in at once
        await login(admin, "admin", PASSWORD)


async def test_forwarded_for_is_believed_from_a_configured_proxy(
    store: QuarantineStore, relay: FakeRelay
) -> None:
    settings = ReviewSettings(session_secret=SecretStr("s" * 20), trusted_proxies=["10.9.0.0/16"])  # type: ignore[list-item]
    app = create_app(store, relay, settings, clock=lambda: NOW)
    transport = httpx.ASGITransport(app=app, client=("10.9.0.1", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://r.test") as proxy:
        codes = [await _failed_login(proxy, "admin", xff="203.0.113.9") for _ in range(6)]
        assert codes[-1] == 429  # that client is throttled...
        assert (
            await _failed_login(proxy, "admin", xff="198.51.100.20") == 401
        )  # ...not everyone behind the proxy


async def test_envelope_findings_are_masked_everywhere_a_viewer_looks(
    client: httpx.AsyncClient, store: QuarantineStore
) -> None:
    # the scanner reads the envelope too (issue 10: `envelope:mail-from`, `envelope:rcpt[N]`)
    sender, rcpt = "ssn536228741@shop.test", "x@example.org"
    found = (
        Finding(
            "US_SSN", Group.GOVERNMENT_ID, "envelope:mail-from", 3, 12, 0.9, Confidence.HIGH, "*****8741"
        ),
    )
    msg = _with_envelope(held("env", make_mail("s", "body"), NOW, findings=found), Envelope(sender, (rcpt,)))
    await store.hold(msg)
    await login(client, "viewer")
    for status in ("held", "rejected"):
        for r in (
            await client.get("/", params={"status": status}),
            await client.get("/api/messages", params={"status": status}, headers=bearer(Role.VIEWER)),
            await client.get("/messages/env"),
            await client.get("/api/messages/env", headers=bearer(Role.VIEWER)),
        ):
            assert r.status_code == 200
            text = re.sub(r"<[^>]+>", "", r.text)  # a masked run is highlighted in a <mark>
            assert "536228741" not in text and "ssn*****8741@shop.test" in text, (status, str(r.url))
        # the sender filter is no oracle: a substring of the hidden digits matches nothing
        for probe, expected in (("536228", 0), ("ssn53", 0)):
            r = await client.get(
                "/api/messages", params={"status": status, "sender": probe}, headers=bearer(Role.VIEWER)
            )
            assert r.status_code == 200 and r.json()["total"] == expected, (probe, r.text)
        reject = await client.post("/api/messages/env/reject", json={}, headers=bearer(Role.REVIEWER))
        assert reject.status_code in (200, 409)
