"""auth: session cookies, tokens, passwords, throttling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scanner.quarantine.model import Account, Role
from scanner.review.auth import (
    LoginThrottle,
    SessionSigner,
    allows,
    csrf_ok,
    hash_password,
    issue_api_token,
    verify_bearer,
    verify_password,
)
from tests.review.memory_store import MemoryStore

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.parametrize(
    ("role", "needed", "ok"),
    [
        (Role.VIEWER, Role.VIEWER, True),
        (Role.VIEWER, Role.REVIEWER, False),
        (Role.REVIEWER, Role.REVIEWER, True),
        (Role.REVIEWER, Role.ADMIN, False),
        (Role.ADMIN, Role.VIEWER, True),
    ],
)
def test_role_order(role: Role, needed: Role, ok: bool) -> None:
    assert allows(role, needed) is ok


def test_session_cookie_round_trip_tamper_and_expiry() -> None:
    clock = Clock()
    signer = SessionSigner(b"k1", clock)
    session = signer.new("dana")
    cookie = signer.dumps(session)
    assert signer.loads(cookie) == session
    assert SessionSigner(b"k2", clock).loads(cookie) is None  # other secret
    body, _, sig = cookie.rpartition(".")
    forged = SessionSigner(b"k1", clock).dumps(signer.new("admin")).rpartition(".")[0] + "." + sig
    assert signer.loads(forged) is None
    assert signer.loads(body) is None and signer.loads("") is None and signer.loads(None) is None
    clock.now = T0 + timedelta(hours=9)
    assert signer.loads(cookie) is None  # expired
    assert signer.new("dana").csrf != session.csrf


def test_csrf_ok() -> None:
    session = SessionSigner(b"k", Clock()).new(None)
    assert csrf_ok(session, session.csrf)
    assert not csrf_ok(session, session.csrf + "x")
    assert not csrf_ok(session, None) and not csrf_ok(None, session.csrf)


async def test_tokens_and_passwords_do_not_cross() -> None:
    store = MemoryStore()
    token, account = issue_api_token("ci", Role.VIEWER)
    await store.put_account(account)
    await store.put_account(Account("dana", Role.REVIEWER, hash_password("pw-1234567890")))
    assert await verify_bearer(store, token) == account
    assert await verify_bearer(store, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert await verify_bearer(store, "sgt_ZGFuYQ.anything") is None  # password account "dana"
    assert await verify_password(account, token) is False  # token account cannot log in
    assert await verify_password(await store.get_account("dana"), "pw-1234567890") is True
    assert await verify_password(None, "pw-1234567890") is False


def test_throttle_window() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock, limit=2, window=timedelta(minutes=5))
    throttle.failed("a", "10.0.0.1")
    assert not throttle.blocked("a", "10.0.0.2")
    throttle.failed("a", "10.0.0.2")
    assert throttle.blocked("a", "10.0.0.3")  # per account name
    assert throttle.blocked("b", "10.0.0.2") is False
    throttle.failed("c", "10.0.0.2")
    assert throttle.blocked("d", "10.0.0.2")  # per client address (3 failures from .2)
    clock.now = T0 + timedelta(minutes=6)
    assert not throttle.blocked("a", "10.0.0.2")
