"""The JSON API: authentication, roles, filters, reveal, release exactly once, reject, audit."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta

import httpx
import pytest

from scanner.model import Confidence, Finding, Group
from scanner.ports import QuarantineStore
from scanner.quarantine.lifecycle import Step
from scanner.quarantine.model import HeldStatus, Role
from tests.fakes import FakeRelay
from tests.review.conftest import NOW, bearer
from tests.review.fakes import (
    CARD,
    CARD_MASKED,
    SSN,
    SSN_MASKED,
    data_of,
    events_of,
    held,
    make_mail,
    status_of,
)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/messages"),
        ("GET", "/api/messages/msg-ssn"),
        ("POST", "/api/messages/msg-ssn/reveal"),
        ("POST", "/api/messages/msg-ssn/release"),
        ("POST", "/api/messages/msg-ssn/reject"),
        ("POST", "/api/messages/bulk"),
        ("GET", "/api/audit"),
    ],
)
async def test_401_without_credentials(
    client: httpx.AsyncClient, relay: FakeRelay, method: str, path: str
) -> None:
    r = await client.request(method, path, json={"reason": "x", "action": "release", "ids": ["msg-ssn"]})
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert relay.delivered == []


@pytest.mark.parametrize(
    "auth",
    [
        "Bearer sgt_nonsense",
        "Bearer sgt_Ym90LXZpZXdlcg.wrong-secret",  # right account name (bot-viewer), wrong secret
        "Basic dmlld2VyOnB3",
    ],
)
async def test_bad_tokens_are_401(client: httpx.AsyncClient, auth: str) -> None:
    r = await client.get("/api/messages", headers={"Authorization": auth})
    assert r.status_code == 401


async def test_password_account_cannot_use_its_hash_as_token(
    client: httpx.AsyncClient, store: QuarantineStore
) -> None:
    account = await store.get_account("admin")
    assert account is not None
    r = await client.get("/api/messages", headers={"Authorization": f"Bearer {account.password_hash}"})
    assert r.status_code == 401


@pytest.mark.parametrize(
    ("role", "method", "path", "allowed"),
    [
        (Role.VIEWER, "GET", "/api/messages", True),
        (Role.VIEWER, "GET", "/api/messages/msg-ssn", True),
        (Role.VIEWER, "POST", "/api/messages/msg-ssn/reveal", False),
        (Role.VIEWER, "POST", "/api/messages/msg-ssn/release", False),
        (Role.VIEWER, "POST", "/api/messages/msg-ssn/reject", False),
        (Role.VIEWER, "GET", "/api/audit", False),
        (Role.REVIEWER, "POST", "/api/messages/msg-ssn/reveal", True),
        (Role.REVIEWER, "GET", "/api/audit", False),
        (Role.REVIEWER, "POST", "/api/accounts", False),
        (Role.ADMIN, "GET", "/api/audit", True),
        (Role.ADMIN, "POST", "/api/messages/msg-ssn/reveal", True),
    ],
)
async def test_roles(
    client: httpx.AsyncClient, relay: FakeRelay, role: Role, method: str, path: str, allowed: bool
) -> None:
    r = await client.request(method, path, headers=bearer(role), json={"reason": "ticket 42"})
    if allowed:
        assert r.status_code == 200, r.text
    else:
        assert r.status_code == 403
        assert relay.delivered == []


async def _seed_queue(store: QuarantineStore) -> None:
    base = make_mail("hi", f"SSN {SSN}")
    for i in range(7):
        await store.hold(held(f"a{i}", base, NOW - timedelta(hours=i + 1), tenant="acme"))
    card_only = make_mail("card", f"card {CARD}", sender="shop@other.test")
    await store.hold(
        held("b0", card_only, NOW - timedelta(days=10), tenant="globex", sender="shop@other.test")
    )
    await store.hold(held("r0", base, NOW - timedelta(hours=2), tenant="acme"))
    await store.transition("r0", Step.REJECT, "someone", None)


@pytest.mark.parametrize(
    ("query", "total", "ids"),
    [
        ({}, 9, None),  # 7 + msg-ssn + b0 held; r0 rejected is not in the default (held) view
        ({"tenant": "globex"}, 1, ["b0"]),
        ({"sender": "OTHER.test"}, 1, ["b0"]),
        ({"category": "PAYMENT_CARD"}, 2, ["msg-ssn", "b0"]),
        ({"status": "rejected"}, 1, ["r0"]),
        ({"status": "any"}, 10, None),
        ({"received_before": (NOW - timedelta(days=7)).isoformat()}, 1, ["b0"]),
        ({"received_after": (NOW - timedelta(hours=2, minutes=30)).isoformat()}, 3, ["msg-ssn", "a0", "a1"]),
        ({"limit": "3", "offset": "0"}, 9, ["msg-ssn", "a0", "a1"]),
        ({"limit": "3", "offset": "3"}, 9, ["a2", "a3", "a4"]),
    ],
)
async def test_filters_and_paging(
    client: httpx.AsyncClient,
    store: QuarantineStore,
    query: dict[str, str],
    total: int,
    ids: list[str] | None,
) -> None:
    await _seed_queue(store)
    r = await client.get("/api/messages", params=query, headers=bearer(Role.VIEWER))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == total
    if ids is not None:
        assert [m["id"] for m in body["items"]] == ids


async def test_counts_per_category_ignore_the_category_filter(
    client: httpx.AsyncClient, store: QuarantineStore
) -> None:
    await _seed_queue(store)
    r = await client.get("/api/messages", params={"category": "PAYMENT_CARD"}, headers=bearer(Role.VIEWER))
    assert r.json()["counts"] == {"US_SSN": 8, "PAYMENT_CARD": 2}
    r = await client.get("/api/messages", params={"tenant": "globex"}, headers=bearer(Role.VIEWER))
    assert r.json()["counts"] == {"PAYMENT_CARD": 1}


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "1000"},
        {"offset": "-1"},
        {"status": "nope"},
        {"received_after": "yesterday"},
    ],
)
async def test_bad_filters_are_400(client: httpx.AsyncClient, query: dict[str, str]) -> None:
    r = await client.get("/api/messages", params=query, headers=bearer(Role.VIEWER))
    assert r.status_code == 400


async def test_message_detail_is_masked_and_audited(
    client: httpx.AsyncClient, store: QuarantineStore
) -> None:
    r = await client.get("/api/messages/msg-ssn", headers=bearer(Role.VIEWER))
    assert r.status_code == 200
    assert SSN not in r.text and CARD not in r.text
    body = r.json()
    assert {f["masked"] for f in body["findings"]} == {SSN_MASKED, CARD_MASKED}
    text = "".join(s["text"] for s in body["segments"])
    assert SSN_MASKED in text and CARD_MASKED in text
    assert body["attachments"] == [
        {"location": "attachment[2:statement.pdf]", "filename": "statement.pdf", "found": []}
    ]
    assert {"name": "Subject", "text": "Your statement", "note": None} in body["headers"]
    assert all(h["name"] != "X-Customer-Ref" for h in body["headers"]) and body["hidden_headers"] >= 1
    assert [(e.action, e.actor, e.message_id) for e in await events_of(store)] == [
        ("view", "bot-viewer", "msg-ssn")
    ]


async def test_unknown_message_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/messages/nope", headers=bearer(Role.VIEWER))).status_code == 404


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"why": "x"}])
async def test_reveal_requires_a_reason(
    client: httpx.AsyncClient, store: QuarantineStore, body: dict[str, str]
) -> None:
    r = await client.post("/api/messages/msg-ssn/reveal", json=body, headers=bearer(Role.REVIEWER))
    assert r.status_code == 400
    assert SSN not in r.text
    assert not any(e.action == "reveal" for e in await events_of(store))


async def test_reveal_returns_clear_values_and_is_audited(
    client: httpx.AsyncClient, store: QuarantineStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    r = await client.post(
        "/api/messages/msg-ssn/reveal", json={"reason": "customer ticket 4711"}, headers=bearer(Role.REVIEWER)
    )
    assert r.status_code == 200
    values = {f["value"] for s in r.json()["segments"] for f in s["findings"]}
    assert values == {SSN, CARD}
    for s in r.json()["segments"]:
        for f in s["findings"]:
            assert s["text"][f["start"] : f["end"]] == f["value"]
    assert [(e.action, e.reason) for e in await events_of(store)] == [("reveal", "customer ticket 4711")]
    assert "no-store" in r.headers["cache-control"]
    # the values reach no log at all; the reason goes to the audit trail, not to our log lines
    assert SSN not in caplog.text and CARD not in caplog.text
    assert not any("4711" in r.getMessage() for r in caplog.records if r.name.startswith("sendguard"))


async def test_release_relays_the_original_bytes(
    client: httpx.AsyncClient, store: QuarantineStore, relay: FakeRelay
) -> None:
    original = await data_of(store, "msg-ssn")
    r = await client.post("/api/messages/msg-ssn/release", headers=bearer(Role.REVIEWER))
    assert r.status_code == 200 and r.json()["outcome"] == "released"
    assert [env for env, _ in relay.delivered] == [(await store.get("msg-ssn")).envelope]  # type: ignore[union-attr]
    assert [data for _, data in relay.delivered] == [original]
    assert await status_of(store, "msg-ssn") is HeldStatus.RELEASED
    assert await data_of(store, "msg-ssn") is None
    assert ("release", "bot-reviewer") in [(e.action, e.actor) for e in await events_of(store)]


async def test_concurrent_releases_send_once(client: httpx.AsyncClient, relay: FakeRelay) -> None:
    relay.gate = asyncio.Event()  # the winner waits inside deliver until the loser has answered
    posts = [
        asyncio.create_task(client.post("/api/messages/msg-ssn/release", headers=bearer(role)))
        for role in (Role.REVIEWER, Role.ADMIN)
    ]
    await relay.entered.wait()
    done, _ = await asyncio.wait(posts, return_when=asyncio.FIRST_COMPLETED)
    loser = done.pop().result()
    assert loser.status_code == 409
    assert loser.json()["error"] == "already released"
    relay.gate.set()
    responses = await asyncio.gather(*posts)
    assert sorted(r.status_code for r in responses) == [200, 409]
    assert len(relay.delivered) == 1


async def test_double_submit_sends_once(client: httpx.AsyncClient, relay: FakeRelay) -> None:
    first = await client.post("/api/messages/msg-ssn/release", headers=bearer(Role.REVIEWER))
    second = await client.post("/api/messages/msg-ssn/release", headers=bearer(Role.REVIEWER))
    assert (first.status_code, second.status_code) == (200, 409)
    assert second.json()["error"] == "already released"
    assert len(relay.delivered) == 1


async def test_failed_relay_keeps_the_message_held(
    client: httpx.AsyncClient, store: QuarantineStore, relay: FakeRelay
) -> None:
    relay.fail = True
    r = await client.post("/api/messages/msg-ssn/release", headers=bearer(Role.REVIEWER))
    assert r.status_code == 502
    assert await status_of(store, "msg-ssn") is HeldStatus.HELD
    relay.fail = False
    r = await client.post("/api/messages/msg-ssn/release", headers=bearer(Role.REVIEWER))
    assert r.status_code == 200 and len(relay.delivered) == 1


async def test_reject_with_notice_carries_no_data(
    client: httpx.AsyncClient, store: QuarantineStore, relay: FakeRelay
) -> None:
    r = await client.post(
        "/api/messages/msg-ssn/reject",
        json={"reason": "SSN in clear", "notify_sender": True},
        headers=bearer(Role.REVIEWER),
    )
    assert r.status_code == 200 and r.json() == {"id": "msg-ssn", "outcome": "rejected", "notified": True}
    assert (
        await status_of(store, "msg-ssn") is HeldStatus.REJECTED and await data_of(store, "msg-ssn") is None
    )
    [(envelope, notice)] = relay.delivered
    assert envelope.mail_from == "" and envelope.rcpt_tos == ("billing@shop.test",)
    text = notice.decode()
    assert "msg-ssn" in text and "US_SSN" in text and "PAYMENT_CARD" in text
    for secret in (SSN, CARD, SSN_MASKED, CARD_MASKED, "8741", "6467", "Your statement", "on file"):
        assert secret not in text
    assert [(e.action, e.reason) for e in await events_of(store)] == [("reject", "SSN in clear")]


async def test_reject_without_notice_sends_nothing(client: httpx.AsyncClient, relay: FakeRelay) -> None:
    r = await client.post("/api/messages/msg-ssn/reject", json={}, headers=bearer(Role.REVIEWER))
    assert r.json()["notified"] is False and relay.delivered == []
    again = await client.post("/api/messages/msg-ssn/release", headers=bearer(Role.REVIEWER))
    assert again.status_code == 409 and "rejected" in again.json()["error"]


async def test_bulk_actions(client: httpx.AsyncClient, store: QuarantineStore, relay: FakeRelay) -> None:
    await _seed_queue(store)
    r = await client.post(
        "/api/messages/bulk",
        json={"action": "release", "ids": ["a0", "a1", "a1", "r0", "missing"]},
        headers=bearer(Role.REVIEWER),
    )
    assert [(x["id"], x["outcome"]) for x in r.json()["results"]] == [
        ("a0", "released"),
        ("a1", "released"),
        ("r0", "not_held"),
        ("missing", "not_found"),
    ]
    assert len(relay.delivered) == 2
    r = await client.post(
        "/api/messages/bulk",
        json={"action": "reject", "ids": ["a2", "a3"], "reason": "bulk"},
        headers=bearer(Role.REVIEWER),
    )
    assert [x["outcome"] for x in r.json()["results"]] == ["rejected", "rejected"]
    bad = await client.post(
        "/api/messages/bulk", json={"action": "delete", "ids": ["a4"]}, headers=bearer(Role.REVIEWER)
    )
    assert bad.status_code == 400


async def test_audit_export_csv(client: httpx.AsyncClient, store: QuarantineStore) -> None:
    await client.get("/api/messages/msg-ssn", headers=bearer(Role.VIEWER))
    await client.post(
        "/api/messages/msg-ssn/reveal", json={"reason": '=HYPERLINK("x")'}, headers=bearer(Role.REVIEWER)
    )
    await client.post("/api/messages/msg-ssn/release", headers=bearer(Role.REVIEWER))
    r = await client.get("/api/audit", params={"format": "csv"}, headers=bearer(Role.ADMIN))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(row["action"], row["actor"], row["message_id"]) for row in rows] == [
        ("release", "bot-reviewer", "msg-ssn"),
        ("reveal", "bot-reviewer", "msg-ssn"),
        ("view", "bot-viewer", "msg-ssn"),
    ]
    assert rows[1]["reason"].startswith("'=")  # neutralised for spreadsheets
    assert all(row["at"].startswith("2026-11-27T12:00") for row in rows[1:])  # the app's clock
    js = await client.get("/api/audit", params={"message_id": "msg-ssn"}, headers=bearer(Role.ADMIN))
    assert [e["action"] for e in js.json()["events"]] == ["release", "reveal", "view"]


async def test_admin_creates_accounts_and_tokens(client: httpx.AsyncClient, store: QuarantineStore) -> None:
    r = await client.post("/api/tokens", json={"name": "ci", "role": "viewer"}, headers=bearer(Role.ADMIN))
    assert r.status_code == 201
    token = r.json()["token"]
    assert token not in (await store.get_account("ci")).password_hash  # type: ignore[union-attr]
    ok = await client.get("/api/messages", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    r = await client.post(
        "/api/accounts",
        json={"name": "alice", "role": "reviewer", "password": "a long passphrase"},
        headers=bearer(Role.ADMIN),
    )
    assert r.status_code == 201 and (await store.get_account("alice")).password_hash.startswith("$argon2id$")  # type: ignore[union-attr]
    short = await client.post(
        "/api/accounts",
        json={"name": "bob", "role": "viewer", "password": "short"},
        headers=bearer(Role.ADMIN),
    )
    assert short.status_code == 400 and "short" not in short.text


async def test_findings_that_do_not_fit_the_text_withhold_it(
    client: httpx.AsyncClient, store: QuarantineStore
) -> None:
    data = make_mail("x", f"SSN {SSN}")
    wrong = (Finding("US_SSN", Group.GOVERNMENT_ID, "body[9]", 0, 11, 0.9, Confidence.HIGH, SSN_MASKED),)
    await store.hold(held("odd", data, NOW, findings=wrong))
    r = await client.get("/api/messages/odd", headers=bearer(Role.VIEWER))
    assert r.json()["text_shown"] is False and r.json()["segments"] == []
    assert SSN not in r.text
