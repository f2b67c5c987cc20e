"""Who is asking, and may they: accounts, API tokens, signed session cookies, CSRF, throttling.

Two ways in, both checked against the store's accounts on every request (so a role change or a
deleted account takes effect at once):

- **Session cookie** (the web UI): `sg_session`, HttpOnly, SameSite=Strict, Secure when
  `ReviewSettings.secure_cookies`. Its value is a random id of a server-side session
  (`scanner.review.sessions`: idle and absolute expiry, ended on logout and on a password
  change). Every state-changing request made with the cookie must echo the session's CSRF token
  (form field ``csrf_token`` or header ``X-CSRF-Token``), otherwise 403. Before login, the
  login form's CSRF token travels in `sg_login`, a short-lived cookie signed with
  `ReviewSettings.session_secret` (so an anonymous visitor writes nothing to the database).
- **Bearer token** (the JSON API, scripts): ``Authorization: Bearer sgt_<name>.<secret>``. The
  account's `password_hash` holds ``sha256$<hex>`` of the secret: a second hash scheme next to
  argon2. A fast hash is enough because the secret is 256 random bits (nothing to brute-force),
  and it keeps per-request verification cheap. Token accounts cannot log in with a password and
  password accounts cannot present tokens. Bearer requests are exempt from CSRF: a browser never
  attaches them on its own, so there is no ambient credential to forge with.

Passwords are argon2id (argon2-cffi). A failed login always costs one argon2 verification (a dummy
hash stands in for unknown accounts, so timing does not tell which names exist) and failures are
throttled per (account, client address) pair and per client address (`LoginThrottle`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from scanner.ports import QuarantineStore
from scanner.quarantine.model import Account, Role

SESSION_COOKIE = "sg_session"  # random id of a server-side session (scanner.review.sessions)
LOGIN_COOKIE = "sg_login"  # signed, anonymous: only the login form's CSRF token
LOGIN_FORM_LIFETIME = timedelta(hours=1)
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
TOKEN_PREFIX = "sgt_"
_TOKEN_SCHEME = "sha256$"

_RANK = {Role.VIEWER: 0, Role.REVIEWER: 1, Role.ADMIN: 2}

_hasher = PasswordHasher()
# verified against when the account does not exist, so an unknown name costs the same time
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def allows(role: Role, needed: Role) -> bool:
    """Roles are ordered: viewer < reviewer < admin; each has everything the previous has."""
    return _RANK[role] >= _RANK[needed]


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request."""

    name: str
    role: Role
    via: str  # "session" | "token"
    csrf: str | None = None  # the session's synchronizer token; None for bearer requests


# --- passwords and tokens ---------------------------------------------------------------------


def hash_password(password: str) -> str:
    """argon2id hash for `Account.password_hash` (what the CLI uses to create accounts)."""
    return _hasher.hash(password)


async def verify_password(account: Account | None, password: str) -> bool:
    """Constant-work check: always one argon2 verification, in a thread (it is CPU-bound)."""
    stored = account.password_hash if account and account.password_hash.startswith("$argon2") else None

    def check() -> bool:
        try:
            return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def issue_api_token(name: str, role: Role) -> tuple[str, Account]:
    """A new API token for a service account. Show the token once; store only the account."""
    secret = secrets.token_urlsafe(32)
    encoded = base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")
    token = f"{TOKEN_PREFIX}{encoded}.{secret}"
    digest = hashlib.sha256(secret.encode()).hexdigest()
    return token, Account(name=name, role=role, password_hash=_TOKEN_SCHEME + digest)


async def verify_bearer(store: QuarantineStore, token: str) -> Account | None:
    if not token.startswith(TOKEN_PREFIX) or "." not in token:
        return None
    encoded, _, secret = token[len(TOKEN_PREFIX) :].partition(".")
    try:
        name = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    account = await store.get_account(name)
    if account is None or not account.password_hash.startswith(_TOKEN_SCHEME):
        return None
    expected = account.password_hash[len(_TOKEN_SCHEME) :]
    actual = hashlib.sha256(secret.encode()).hexdigest()
    return account if hmac.compare_digest(expected, actual) else None


# --- signed login-form cookie -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Session:
    user: str | None
    csrf: str
    issued: float


class SessionSigner:
    """Signs and checks the anonymous login-form cookie (HMAC-SHA256; the payload is not secret,
    only bound). Signed-in sessions are server-side rows instead (`scanner.review.sessions`)."""

    def __init__(self, secret: bytes, clock: Callable[[], datetime]) -> None:
        self._key = hashlib.sha256(b"sendguard-review-session\0" + secret).digest()
        self._clock = clock

    def new(self, user: str | None) -> Session:
        # a fresh CSRF token on every login/logout, so a token seen before login is worthless after
        return Session(user=user, csrf=secrets.token_urlsafe(32), issued=self._clock().timestamp())

    def dumps(self, session: Session) -> str:
        payload = json.dumps({"u": session.user, "c": session.csrf, "t": session.issued}).encode()
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        sig = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return body + "." + base64.urlsafe_b64encode(sig).decode().rstrip("=")

    def loads(self, cookie: str | None) -> Session | None:
        if not cookie or "." not in cookie:
            return None
        body, _, sig = cookie.rpartition(".")
        expected = base64.urlsafe_b64encode(
            hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(expected.rstrip("="), sig):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            session = Session(user=data["u"], csrf=str(data["c"]), issued=float(data["t"]))
        except (ValueError, KeyError, TypeError):
            return None
        age = self._clock().timestamp() - session.issued
        if age < 0 or age > LOGIN_FORM_LIFETIME.total_seconds():
            return None
        return session


def csrf_ok(expected: str | None, presented: str | None) -> bool:
    """The synchronizer token check (constant time); no token on either side is a failure."""
    if not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())


# --- login throttling -------------------------------------------------------------------------


def client_address(peer: str, forwarded_for: str | None, trusted: Sequence[IPNetwork]) -> str:
    """The address a login attempt comes from.

    ``X-Forwarded-For`` is believed only when the direct peer is one of our `trusted` proxies
    (``review.trusted_proxies``); then the rightmost address not itself a trusted proxy is the
    client (each proxy appends the peer it saw, so anything further left is what the client
    claimed). Without trusted proxies the header is ignored: anyone could write it.
    """
    if not trusted or not _in(peer, trusted) or not forwarded_for:
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in(hop, trusted):
            return hop if _ip(hop) is not None else peer  # garbage: the proxy's peer, not a name
    return peer


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def _in(address: str, networks: Sequence[IPNetwork]) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip in n for n in networks)


@dataclass
class LoginThrottle:
    """Failed logins are counted per (account, client) pair and per client, never per account alone.

    `pair_limit` failures for one name from one address in `window` block that pair; `client_limit`
    failures from one address (whatever the names) block the address. A stranger can therefore
    slow down only their own attempts: there is no account lockout for them to trigger against
    someone else. Guessing one password from many addresses stays slow through argon2id and the
    per-pair limit. In memory, per process, at most `max_keys` counters (oldest dropped).
    """

    clock: Callable[[], datetime]
    pair_limit: int = 5
    client_limit: int = 20
    window: timedelta = timedelta(minutes=5)
    max_keys: int = 10_000
    _failures: dict[tuple[str, str], deque[datetime]] = field(default_factory=dict)

    def _count(self, key: tuple[str, str]) -> int:
        q = self._failures.get(key)
        if q is None:
            return 0
        cutoff = self.clock() - self.window
        while q and q[0] < cutoff:
            q.popleft()
        if not q:
            del self._failures[key]
        return len(q)

    def blocked(self, name: str, client: str) -> bool:
        return (
            self._count((name, client)) >= self.pair_limit or self._count(("", client)) >= self.client_limit
        )

    def failed(self, name: str, client: str) -> None:
        now = self.clock()
        for key in ((name, client), ("", client)):
            self._failures.setdefault(key, deque()).append(now)
        while len(self._failures) > self.max_keys:
            del self._failures[next(iter(self._failures))]

    def succeeded(self, name: str, client: str) -> None:
        self._failures.pop((name, client), None)
