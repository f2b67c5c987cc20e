"""Who is asking, and may they: accounts, API tokens, signed session cookies, CSRF, throttling.

Two ways in, both checked against the store's accounts on every request (so a role change or a
deleted account takes effect at once):

- **Session cookie** (the web UI): `sg_session`, HttpOnly, SameSite=Strict, Secure when
  `ReviewSettings.secure_cookies`. Its value is ``base64url(json).base64url(hmac_sha256)``, signed
  with `ReviewSettings.session_secret` (or a per-process random secret: sessions then end with the
  process). It carries the account name, the CSRF synchronizer token and the issue time, and
  nothing else. Every state-changing request made with the cookie must echo the CSRF token
  (form field ``csrf_token`` or header ``X-CSRF-Token``), otherwise 403.
- **Bearer token** (the JSON API, scripts): ``Authorization: Bearer sgt_<name>.<secret>``. The
  account's `password_hash` holds ``sha256$<hex>`` of the secret: a second hash scheme next to
  argon2. A fast hash is enough because the secret is 256 random bits (nothing to brute-force),
  and it keeps per-request verification cheap. Token accounts cannot log in with a password and
  password accounts cannot present tokens. Bearer requests are exempt from CSRF: a browser never
  attaches them on its own, so there is no ambient credential to forge with.

Passwords are argon2id (argon2-cffi). A failed login always costs one argon2 verification (a dummy
hash stands in for unknown accounts, so timing does not tell which names exist) and failures are
throttled per account name and per client address.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from scanner.ports import QuarantineStore
from scanner.quarantine.model import Account, Role

SESSION_COOKIE = "sg_session"
SESSION_LIFETIME = timedelta(hours=8)
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


# --- signed session cookie --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Session:
    user: str | None
    csrf: str
    issued: float


class SessionSigner:
    """Signs and checks the session cookie (HMAC-SHA256; the payload is not secret, only bound)."""

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
        if age < 0 or age > SESSION_LIFETIME.total_seconds():
            return None
        return session


def csrf_ok(session: Session | None, presented: str | None) -> bool:
    if session is None or not presented:
        return False
    return hmac.compare_digest(session.csrf.encode(), presented.encode())


# --- login throttling -------------------------------------------------------------------------


@dataclass
class LoginThrottle:
    """At most `limit` failed logins per account name and per client address in `window`.

    In memory, per process: enough to make online guessing slow; argon2 makes offline guessing
    slow should the store ever leak.
    """

    clock: Callable[[], datetime]
    limit: int = 5
    window: timedelta = timedelta(minutes=5)
    _failures: dict[str, deque[datetime]] = field(default_factory=dict)

    def _recent(self, key: str) -> deque[datetime]:
        q = self._failures.setdefault(key, deque())
        cutoff = self.clock() - self.window
        while q and q[0] < cutoff:
            q.popleft()
        if not q:
            del self._failures[key]
            return deque()
        return q

    def blocked(self, name: str, client: str) -> bool:
        return any(len(self._recent(k)) >= self.limit for k in (f"u:{name}", f"c:{client}"))

    def failed(self, name: str, client: str) -> None:
        now = self.clock()
        for key in (f"u:{name}", f"c:{client}"):
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, name: str) -> None:
        self._failures.pop(f"u:{name}", None)
