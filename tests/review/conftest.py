"""Fixtures for the console: the app over an in-memory store and a fake relay, seeded accounts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from scanner.ports import QuarantineStore
from scanner.quarantine.crypto import generate_key
from scanner.quarantine.model import Role
from scanner.review import create_app, hash_password, issue_api_token
from scanner.settings import ReviewSettings
from tests.fakes import FakeRelay
from tests.review.fakes import CARD, SSN, held, make_mail
from tests.stores import Backend

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
# hashing is deliberately slow: once per session, not per test
_HASH = hash_password(PASSWORD)
TOKENS: dict[Role, str] = {}
_TOKEN_ACCOUNTS = []
for _role in Role:
    _token, _account = issue_api_token(f"bot-{_role.value}", _role)
    TOKENS[_role] = _token
    _TOKEN_ACCOUNTS.append(_account)

BODY = f"Hello,\n\nYour SSN {SSN} is on file and card {CARD} was charged.\n\nRegards\n"


def bearer(role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[QuarantineStore]:
    """The real SQL store, on SQLite and on PostgreSQL (the `backend` fixture of the store suite)."""
    from scanner.quarantine.model import Account

    s = await backend.open([generate_key()])
    for role in Role:
        await s.put_account(Account(role.value, role, _HASH))  # accounts "viewer", "reviewer", "admin"
    for account in _TOKEN_ACCOUNTS:
        await s.put_account(account)
    await s.hold(
        held(
            "msg-ssn",
            make_mail("Your statement", BODY, attachment=b"%PDF-1.4 fake"),
            NOW - timedelta(minutes=30),
        )
    )
    yield s
    await s.close()


@pytest.fixture
def relay() -> FakeRelay:
    return FakeRelay()


@pytest.fixture
def settings() -> ReviewSettings:
    return ReviewSettings(session_secret=SecretStr("test-secret-0123456789"))


@pytest.fixture
async def client(
    store: QuarantineStore, relay: FakeRelay, settings: ReviewSettings
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(store, relay, settings, clock=lambda: NOW)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://review.test") as c:
        yield c


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no CSRF token in page"
    return m.group(1)


async def login(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token."""
    page = await client.get("/login")
    r = await client.post(
        "/login", data={"username": name, "password": password, "csrf_token": csrf_from(page.text)}
    )
    assert r.status_code == 303, r.text
    queue = await client.get("/")
    assert queue.status_code == 200
    return csrf_from(queue.text)
