"""GET /api/references/{ref}, tenant tokens and the outbox API over a real store (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from scanner.events.journal import Journal, Rejection
from scanner.events.outbox import SqlOutbox
from scanner.model import Action, Envelope, Verdict
from scanner.quarantine.model import Role
from scanner.quarantine.store import SqlQuarantineStore
from scanner.review import create_app, issue_api_token
from scanner.review.events_api import with_events
from scanner.settings import ReviewSettings, WebhookSettings
from tests.events.conftest import SECRET
from tests.fakes import FakeRelay
from tests.quarantine.fakes import finding, held_message


@pytest.fixture
async def api(store: SqlQuarantineStore) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    journal = Journal(store, WebhookSettings(url="http://127.0.0.1:9/", secret=SecretStr(SECRET)))
    verdict = Verdict(Action.REJECT, (finding(),), (finding(),))
    for ref, tenant in (("RA1", "acme"), ("RB1", "beta")):
        env = Envelope(f"billing@{tenant}.example", ("x@example.org",))
        await journal.rejected(Rejection(ref, tenant, env, datetime.now(UTC), verdict, "reply"), None)
    await journal.hold(held_message("HA1", tenant="acme"))
    await journal.hold(held_message("HB1", tenant="beta"))
    admin_token, account = issue_api_token("ops", Role.ADMIN)
    await store.put_account(account)
    app = with_events(create_app(store, FakeRelay(), ReviewSettings(), journal=journal), SqlOutbox(store))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as client:
        admin = {"authorization": f"Bearer {admin_token}"}
        tokens = {"admin": admin_token}
        for tenant in ("acme", "beta"):
            r = await client.post(
                "/api/tenant-tokens", json={"name": f"{tenant}-dash", "tenant": tenant}, headers=admin
            )
            assert r.status_code == 201
            tokens[tenant] = r.json()["token"]
        yield client, tokens


def _auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_staff_see_any_reference(api: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    client, tokens = api
    r = await client.get("/api/references/RA1", headers=_auth(tokens["admin"]))
    assert r.status_code == 200 and r.json()["kind"] == "rejected" and r.json()["tenant"] == "acme"
    r = await client.get("/api/references/HB1", headers=_auth(tokens["admin"]))
    assert (
        r.status_code == 200
        and r.json()["kind"] == "held"
        and r.json()["findings"][0]["masked"] == finding().masked
    )
    assert (await client.get("/api/references/NOPE", headers=_auth(tokens["admin"]))).status_code == 404
    assert (await client.get("/api/references/RA1")).status_code == 401


async def test_tenant_tokens_never_see_another_tenants_mail(
    api: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    client, tokens = api
    for tenant, own, other in (
        ("acme", ("RA1", "HA1"), ("RB1", "HB1")),
        ("beta", ("RB1", "HB1"), ("RA1", "HA1")),
    ):
        for ref in own:
            r = await client.get(f"/api/references/{ref}", headers=_auth(tokens[tenant]))
            assert r.status_code == 200 and r.json()["tenant"] == tenant
        for ref in other:  # answered exactly like an unknown reference
            r = await client.get(f"/api/references/{ref}", headers=_auth(tokens[tenant]))
            assert (r.status_code, r.json()) == (404, {"error": "no such reference"})
        listing = (await client.get("/api/tenant/messages", headers=_auth(tokens[tenant]))).json()
        assert {m["reference"] for m in listing["held"] + listing["rejected"]} == set(own)
        assert "123-45-6789" not in str(listing)
    # a tenant token is no staff token, and a made-up one is nothing
    assert (await client.get("/api/messages", headers=_auth(tokens["acme"]))).status_code == 401
    assert (await client.get("/api/references/RA1", headers=_auth("sgtt_forged"))).status_code == 401
    assert (await client.get("/api/tenant/messages", headers=_auth(tokens["admin"]))).status_code == 403


async def test_tokens_are_stored_hashed(
    api: tuple[httpx.AsyncClient, dict[str, str]], store: SqlQuarantineStore
) -> None:
    import sqlalchemy as sa

    from scanner.events.tables import tenant_tokens

    _, tokens = api
    async with store.engine.connect() as conn:
        stored = [r.token_hash for r in await conn.execute(sa.select(tenant_tokens))]
    assert len(stored) == 2 and tokens["acme"] not in stored and all(len(h) == 64 for h in stored)


async def test_outbox_is_listed_and_dead_items_retried(
    api: tuple[httpx.AsyncClient, dict[str, str]], store: SqlQuarantineStore
) -> None:
    client, tokens = api
    box = SqlOutbox(store)
    (item, *_) = await box.claim(datetime.now(UTC), 1)
    await box.retry(item, datetime.now(UTC), "endpoint answered 500", after=1, dead_after=timedelta(0))
    listing = (await client.get("/api/outbox?status=dead", headers=_auth(tokens["admin"]))).json()
    assert [i["id"] for i in listing["items"]] == [item.id] and listing["counts"]["dead"] == 1
    r = await client.post(f"/api/outbox/{item.id}/retry", headers=_auth(tokens["admin"]))
    assert r.status_code == 200
    assert (
        await client.post(f"/api/outbox/{item.id}/retry", headers=_auth(tokens["admin"]))
    ).status_code == 409
    assert (await client.get("/api/outbox", headers=_auth(tokens["acme"]))).status_code == 401
