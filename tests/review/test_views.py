"""The web UI: login, sessions, CSRF, masking in the HTML, actions through forms, headers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from scanner.ports import QuarantineStore
from scanner.quarantine.model import HeldStatus, Role
from scanner.review import create_app
from scanner.review.auth import SESSION_COOKIE
from scanner.settings import ReviewSettings
from tests.fakes import FakeRelay
from tests.review.conftest import NOW, PASSWORD, bearer, csrf_from, login
from tests.review.fakes import CARD, CARD_MASKED, SSN, SSN_MASKED, events_of, held, make_mail, status_of


async def test_pages_redirect_to_login_without_a_session(client: httpx.AsyncClient) -> None:
    for path in ("/", "/messages/msg-ssn", "/audit"):
        r = await client.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/login"


async def test_login_sets_a_strict_httponly_cookie(client: httpx.AsyncClient, store: QuarantineStore) -> None:
    page = await client.get("/login")
    r = await client.post(
        "/login", data={"username": "viewer", "password": PASSWORD, "csrf_token": csrf_from(page.text)}
    )
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    assert PASSWORD not in cookie
    assert [e.action for e in await events_of(store)] == ["login"]


async def test_secure_cookies_setting(store: QuarantineStore, relay: FakeRelay) -> None:
    app = create_app(store, relay, ReviewSettings(secure_cookies=True), clock=lambda: NOW)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://review.test") as c:
        r = await c.get("/login")
        assert "Secure" in r.headers["set-cookie"]


@pytest.mark.parametrize(("name", "password"), [("viewer", "wrong"), ("nobody", PASSWORD), ("bot-admin", "")])
async def test_bad_login(client: httpx.AsyncClient, name: str, password: str) -> None:
    page = await client.get("/login")
    r = await client.post(
        "/login", data={"username": name, "password": password, "csrf_token": csrf_from(page.text)}
    )
    assert r.status_code == 401
    assert (await client.get("/")).status_code == 303


async def test_login_is_throttled(client: httpx.AsyncClient) -> None:
    csrf = csrf_from((await client.get("/login")).text)
    for _ in range(5):
        r = await client.post("/login", data={"username": "admin", "password": "guess", "csrf_token": csrf})
        assert r.status_code == 401
    r = await client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf})
    assert r.status_code == 429  # even the right password, until the window passes


async def test_login_form_needs_its_csrf_token(client: httpx.AsyncClient) -> None:
    await client.get("/login")
    r = await client.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 403
    assert (await client.get("/")).status_code == 303


@pytest.mark.parametrize(
    "path", ["/messages/msg-ssn/release", "/messages/msg-ssn/reject", "/bulk", "/logout"]
)
@pytest.mark.parametrize("token", [None, "forged"])
async def test_form_posts_without_valid_csrf_are_403(
    client: httpx.AsyncClient, relay: FakeRelay, store: QuarantineStore, path: str, token: str | None
) -> None:
    await login(client, "reviewer")
    data = {"action": "release", "ids": "msg-ssn"} | ({"csrf_token": token} if token else {})
    r = await client.post(path, data=data)
    assert r.status_code == 403
    assert relay.delivered == [] and await status_of(store, "msg-ssn") is HeldStatus.HELD


async def test_api_with_session_cookie_needs_csrf_header(client: httpx.AsyncClient, relay: FakeRelay) -> None:
    csrf = await login(client, "reviewer")
    assert (await client.get("/api/messages")).status_code == 200  # reads need no token
    r = await client.post("/api/messages/msg-ssn/release")
    assert r.status_code == 403 and relay.delivered == []
    r = await client.post("/api/messages/msg-ssn/release", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and len(relay.delivered) == 1


async def test_message_page_never_shows_clear_values(
    client: httpx.AsyncClient, store: QuarantineStore
) -> None:
    # the subject carries a value too: the header line must be masked as well
    data = make_mail(f"Re: SSN {SSN}", f"SSN {SSN}, card {CARD}.", attachment=f"SSN {SSN}".encode())
    await store.hold(held("subj", data, NOW))
    await login(client, "viewer")
    for mid in ("msg-ssn", "subj"):
        r = await client.get(f"/messages/{mid}")
        assert r.status_code == 200
        assert SSN not in r.text and CARD not in r.text
        assert SSN_MASKED in r.text and CARD_MASKED in r.text
        assert f'<mark class="finding " title="US_SSN">{SSN_MASKED}</mark>' in r.text
        assert "statement.pdf" in r.text
    assert f'Re: SSN <mark class="finding " title="US_SSN">{SSN_MASKED}</mark>' in r.text
    assert [e.action for e in await events_of(store) if e.message_id] == ["view", "view"]


async def test_viewer_sees_no_action_buttons(client: httpx.AsyncClient) -> None:
    await login(client, "viewer")
    r = await client.get("/messages/msg-ssn")
    assert 'id="release"' not in r.text and 'id="reveal"' not in r.text
    assert (await client.get("/audit")).status_code == 403


async def test_security_headers(client: httpx.AsyncClient) -> None:
    r = await client.get("/login")
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
    await login(client, "admin")
    for path in ("/", "/messages/msg-ssn", "/audit", "/api/messages", "/static/console.css"):
        r = await client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-security-policy"].startswith("default-src 'self'")
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["x-content-type-options"] == "nosniff"
        if not path.startswith("/static"):
            assert r.headers["cache-control"] == "no-store"


async def test_pages_load_nothing_from_elsewhere(client: httpx.AsyncClient) -> None:
    await login(client, "admin")
    for path in ("/login", "/", "/messages/msg-ssn", "/audit"):
        html = (await client.get(path)).text
        assert "http://" not in html and "https://" not in html and "//" not in html.replace("<!doctype", "")


async def test_reveal_through_the_form(client: httpx.AsyncClient, store: QuarantineStore) -> None:
    csrf = await login(client, "reviewer")
    r = await client.post("/messages/msg-ssn/reveal", data={"csrf_token": csrf, "reason": " "})
    assert r.status_code == 400 and SSN not in r.text
    r = await client.post("/messages/msg-ssn/reveal", data={"csrf_token": csrf, "reason": "ticket 9"})
    assert r.status_code == 200 and SSN in r.text and CARD in r.text
    assert [(e.action, e.reason) for e in await events_of(store) if e.action == "reveal"] == [
        ("reveal", "ticket 9")
    ]


async def test_release_and_double_submit_through_forms(
    client: httpx.AsyncClient, store: QuarantineStore, relay: FakeRelay
) -> None:
    csrf = await login(client, "reviewer")
    relay.gate = asyncio.Event()
    first = asyncio.create_task(client.post("/messages/msg-ssn/release", data={"csrf_token": csrf}))
    await relay.entered.wait()
    second = await client.post("/messages/msg-ssn/release", data={"csrf_token": csrf})
    relay.gate.set()
    assert (await first).headers["location"] == "/messages/msg-ssn?notice=released"
    assert second.headers["location"] == "/messages/msg-ssn?notice=not_held"
    assert len(relay.delivered) == 1
    page = await client.get("/messages/msg-ssn?notice=released")
    assert "Released" in page.text and "content was deleted" in page.text


async def test_reject_through_the_form(
    client: httpx.AsyncClient, store: QuarantineStore, relay: FakeRelay
) -> None:
    csrf = await login(client, "reviewer")
    r = await client.post(
        "/messages/msg-ssn/reject", data={"csrf_token": csrf, "reason": "policy", "notify_sender": "on"}
    )
    assert r.headers["location"] == "/messages/msg-ssn?notice=rejected_notified"
    assert await status_of(store, "msg-ssn") is HeldStatus.REJECTED
    assert len(relay.delivered) == 1 and SSN not in relay.delivered[0][1].decode()


async def test_queue_page_filters_counts_paging_and_bulk(
    client: httpx.AsyncClient, store: QuarantineStore, relay: FakeRelay
) -> None:
    for i in range(60):
        await store.hold(held(f"q{i:02}", make_mail("x", f"card {CARD}"), NOW - timedelta(hours=i + 1)))
    csrf = await login(client, "reviewer")
    page = await client.get("/")
    assert "61" in page.text and 'href="/?offset=50"' in page.text
    assert ">PAYMENT_CARD <b>61</b>" in page.text and ">US_SSN <b>1</b>" in page.text
    assert page.text.count('name="ids"') == 50
    recent = await client.get("/", params={"age": "1h"})
    assert recent.text.count('name="ids"') == 2  # msg-ssn (30 min) and q00 (1 h)
    older = await client.get("/", params={"age": "older7d"})
    assert "Nothing matches these filters." in older.text
    second = await client.get("/", params={"offset": "50"})
    assert second.text.count('name="ids"') == 11 and "51–61 of 61" in second.text
    only_ssn = await client.get("/", params={"category": "US_SSN"})
    assert only_ssn.text.count('name="ids"') == 1
    r = await client.post("/bulk", data={"csrf_token": csrf, "action": "release", "ids": ["q00", "q01"]})
    assert r.status_code == 303 and len(relay.delivered) == 2
    assert await status_of(store, "q00") is HeldStatus.RELEASED


async def test_bearer_token_cannot_drive_the_ui_into_a_session(client: httpx.AsyncClient) -> None:
    # the UI accepts bearer tokens too (scripts), but nothing about it sets a cookie
    r = await client.get("/", headers=bearer(Role.VIEWER))
    assert r.status_code == 200 and "set-cookie" not in r.headers


async def test_logout_ends_the_session(client: httpx.AsyncClient) -> None:
    csrf = await login(client, "viewer")
    r = await client.post("/logout", data={"csrf_token": csrf})
    assert r.status_code == 303
    assert (await client.get("/")).status_code == 303


async def test_request_log_has_no_query_string(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    r = await client.get("/api/messages", params={"sender": "needle-in-query"}, headers=bearer(Role.VIEWER))
    assert r.status_code == 200
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("sendguard")]
    assert "review GET /api/messages 200 bot-viewer" in ours
    assert not any("needle-in-query" in line for line in ours)
