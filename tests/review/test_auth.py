"""auth: the login form's signed cookie, tokens, passwords, throttling, client addresses."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest

from scanner.quarantine.model import Account, Role
from scanner.review.auth import (
    IPNetwork,
    LoginThrottle,
    SessionSigner,
    allows,
    client_address,
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
    assert csrf_ok(session.csrf, session.csrf)
    assert not csrf_ok(session.csrf, session.csrf + "x")
    assert not csrf_ok(session.csrf, None) and not csrf_ok(None, session.csrf) and not csrf_ok("", "")


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


def test_throttle_is_per_pair_and_per_client_never_per_account() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock, pair_limit=2, client_limit=4, window=timedelta(minutes=5))
    throttle.failed("admin", "203.0.113.9")
    throttle.failed("admin", "203.0.113.9")
    assert throttle.blocked("admin", "203.0.113.9")  # that pair
    assert not throttle.blocked("admin", "10.0.0.2")  # the real admin elsewhere is not locked out
    assert not throttle.blocked("other", "203.0.113.9")
    throttle.failed("b", "203.0.113.9")
    throttle.failed("c", "203.0.113.9")
    assert throttle.blocked("d", "203.0.113.9")  # the client, whatever name it tries
    assert not throttle.blocked("d", "10.0.0.2")
    clock.now = T0 + timedelta(minutes=6)
    assert not throttle.blocked("admin", "203.0.113.9")


def test_throttle_memory_is_bounded() -> None:
    throttle = LoginThrottle(Clock(), max_keys=10)
    for i in range(100):
        throttle.failed(f"name-{i}", "10.0.0.1")
    assert len(throttle._failures) <= 10


NETS = [ipaddress.ip_network("10.1.0.0/16"), ipaddress.ip_network("::1/128")]


@pytest.mark.parametrize(
    ("peer", "xff", "trusted", "client"),
    [
        ("127.0.0.1", "198.51.100.7", [], "127.0.0.1"),  # no trusted proxies: the header is ignored
        ("127.0.0.1", "198.51.100.7", NETS, "127.0.0.1"),  # loopback is not a configured proxy
        ("10.1.2.3", "198.51.100.7", NETS, "198.51.100.7"),
        ("10.1.2.3", "1.2.3.4, 198.51.100.7", NETS, "198.51.100.7"),  # the client's own claim is left
        ("10.1.2.3", "198.51.100.7, 10.1.9.9", NETS, "198.51.100.7"),  # a chain of our proxies
        ("10.1.2.3", "not-an-ip", NETS, "10.1.2.3"),
        ("10.1.2.3", None, NETS, "10.1.2.3"),
        ("::1", "2001:db8::5", NETS, "2001:db8::5"),
    ],
)
def test_client_address_trusts_only_configured_proxies(
    peer: str, xff: str | None, trusted: list[IPNetwork], client: str
) -> None:
    assert client_address(peer, xff, trusted) == client
