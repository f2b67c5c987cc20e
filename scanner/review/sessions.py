"""Server-side console sessions, in the quarantine database (`quarantine_sessions`).

The ``sg_session`` cookie holds 256 random bits and nothing else; the row holds their SHA-256
(a copy of the database opens no session), the account, the session's CSRF token and two times.
A session ends when

- it has been idle for `idle` (each request moves `seen_at`, at most once a minute),
- it is older than `lifetime`, however active (absolute expiry),
- its user signs out (the row is deleted, so the cookie is worthless even if copied), or
- its account's password or role changes: `SqlQuarantineStore.put_account` deletes every row of
  the account in the same transaction, whichever way the change came (console, API, CLI).

Rows live where the accounts live, so several console processes share them (PostgreSQL).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from scanner.quarantine.tables import sessions

_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class LiveSession:
    account: str
    csrf: str


class SessionStore(Protocol):
    async def create(self, account: str, now: datetime) -> tuple[str, LiveSession]:
        """A new session; returns the cookie value (shown once) and the session."""
        ...

    async def lookup(self, token: str, now: datetime) -> LiveSession | None: ...

    async def end(self, token: str) -> None: ...


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True, slots=True)
class Lifetimes:
    idle: timedelta
    lifetime: timedelta

    def alive(self, created: datetime, seen: datetime, now: datetime) -> bool:
        return now - seen <= self.idle and now - created <= self.lifetime and created <= now


class SqlSessions:
    """`SessionStore` on the quarantine's engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine, lifetimes: Lifetimes) -> None:
        self._engine = engine
        self._lifetimes = lifetimes

    async def create(self, account: str, now: datetime) -> tuple[str, LiveSession]:
        token = secrets.token_urlsafe(32)
        session = LiveSession(account, secrets.token_urlsafe(32))
        async with self._engine.begin() as conn:
            # ended sessions of anyone are swept here, so the table never grows with them
            await conn.execute(
                sessions.delete().where(
                    sa.or_(
                        sessions.c.seen_at < now - self._lifetimes.idle,
                        sessions.c.created_at < now - self._lifetimes.lifetime,
                    )
                )
            )
            await conn.execute(
                sessions.insert().values(
                    id_hash=_hash(token), account=account, csrf=session.csrf, created_at=now, seen_at=now
                )
            )
        return token, session

    async def lookup(self, token: str, now: datetime) -> LiveSession | None:
        key = _hash(token)
        async with self._engine.connect() as conn:
            row = (
                (await conn.execute(sa.select(sessions).where(sessions.c.id_hash == key))).mappings().first()
            )
        if row is None:
            return None
        if not self._lifetimes.alive(row["created_at"], row["seen_at"], now):
            await self.end(token)
            return None
        if now - row["seen_at"] >= _TOUCH_EVERY:
            async with self._engine.begin() as conn:
                await conn.execute(sessions.update().where(sessions.c.id_hash == key).values(seen_at=now))
        return LiveSession(row["account"], row["csrf"])

    async def end(self, token: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(sessions.delete().where(sessions.c.id_hash == _hash(token)))
