"""`SqlOutbox`: the durable queue of things sendguard must still send (events, report mails).

Lifecycle of a row::

    pending --claim (lease)--> [being sent] --done--> delivered
                                            --retry--> pending, next_attempt_at = now + backoff
                                            --retry past dead_after--> dead
    dead --requeue (console)--> pending

Claims are safe with several sendguard instances on one database: on PostgreSQL the due rows are
picked with ``SELECT ... FOR UPDATE SKIP LOCKED`` (a concurrent claimer skips them instead of
waiting); on SQLite one conditional UPDATE under ``BEGIN IMMEDIATE`` takes them. A claim is a
lease: ``next_attempt_at`` moves to the lease's end and a random ``claim`` token is set; only the
holder of the token can settle the row, and a claimer that dies leaves the row due again when its
lease ends (delivered at least once; receivers dedupe on the webhook-id).
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from scanner.events.tables import outbox
from scanner.quarantine.engine import READ_ONLY
from scanner.quarantine.store import SqlQuarantineStore

log = logging.getLogger("sendguard.events")

_MAX_ERROR = 300


class Channel:
    WEBHOOK = "webhook"
    MAIL = "mail"


class Status:
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: str
    channel: str
    type: str
    tenant: str | None
    reference: str | None
    created_at: datetime
    payload: bytes
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None
    claim: str | None = None

    def as_dict(self) -> dict[str, object]:
        """For the console: metadata only (a mail's sealed bytes and an event's body are not shown)."""
        return {
            "id": self.id,
            "channel": self.channel,
            "type": self.type,
            "tenant": self.tenant,
            "reference": self.reference,
            "created_at": self.created_at.isoformat(),
            "status": self.status,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at.isoformat(),
            "last_error": self.last_error,
            "delivered_at": self.delivered_at.isoformat() if self.delivered_at else None,
        }


def backoff(attempts: int, *, low: float, high: float, rng: random.Random | None = None) -> float:
    """Seconds before attempt `attempts` + 1: exponential, capped, with "full jitter" (half fixed,
    half random) so that many items failing together do not retry together."""
    ceiling = min(high, low * 2.0 ** min(max(attempts - 1, 0), 60))
    jitter: float = (rng or random.Random()).uniform(0, ceiling / 2)
    return ceiling / 2 + jitter


@dataclass(frozen=True, slots=True)
class Settlement:
    item: OutboxItem
    status: str
    values: dict[str, Any]


def delivered(item: OutboxItem, now: datetime) -> Settlement:
    return Settlement(
        item, Status.DELIVERED, {"status": Status.DELIVERED, "delivered_at": now, "last_error": None}
    )


def failed(item: OutboxItem, now: datetime, error: str, *, after: float, dead_after: timedelta) -> Settlement:
    """Retry after `after` seconds, or dead once the item is older than `dead_after`."""
    error = " ".join(error.split())[:_MAX_ERROR]
    if now - item.created_at >= dead_after:
        return Settlement(item, Status.DEAD, {"status": Status.DEAD, "last_error": error})
    values = {"next_attempt_at": now + timedelta(seconds=after), "last_error": error}
    return Settlement(item, Status.PENDING, values)


def row_values(
    item_id: str,
    channel: str,
    kind: str,
    tenant: str | None,
    reference: str | None,
    payload: bytes,
    now: datetime,
) -> dict[str, Any]:
    return {
        "id": item_id,
        "channel": channel,
        "type": kind,
        "tenant": tenant,
        "reference": reference,
        "created_at": now,
        "payload": payload,
        "status": Status.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "claim": None,
        "last_error": None,
        "delivered_at": None,
    }


async def enqueue(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Add rows inside the caller's transaction (the decision commits with its event)."""
    if rows:
        await conn.execute(outbox.insert(), list(rows))


def _item(row: sa.RowMapping) -> OutboxItem:
    return OutboxItem(**{k: row[k] for k in OutboxItem.__slots__})


class SqlOutbox:
    """The outbox over the quarantine store's engine and write queue."""

    def __init__(self, store: SqlQuarantineStore, *, lease: float = 60.0) -> None:
        self._store = store
        self._lease = timedelta(seconds=lease)
        self._reader = store.engine.execution_options(**{READ_ONLY: True})

    @property
    def store(self) -> SqlQuarantineStore:
        return self._store

    async def add(self, rows: Sequence[dict[str, Any]]) -> None:
        async with self._store.transaction() as conn:
            await enqueue(conn, rows)

    async def claim(self, now: datetime, limit: int) -> list[OutboxItem]:
        """Take up to `limit` due items for this caller (see the module docstring)."""
        token = secrets.token_hex(16)
        due = sa.and_(outbox.c.status == Status.PENDING, outbox.c.next_attempt_at <= now)
        pick = sa.select(outbox.c.id).where(due).order_by(outbox.c.next_attempt_at).limit(limit)
        async with self._store.transaction() as conn:
            if conn.dialect.name == "postgresql":
                ids = list((await conn.execute(pick.with_for_update(skip_locked=True))).scalars())
                if not ids:
                    return []
                where: sa.ColumnElement[bool] = outbox.c.id.in_(ids)
            else:
                where = sa.and_(outbox.c.id.in_(pick.scalar_subquery()), due)
            await conn.execute(
                outbox.update()
                .where(where)
                .values(claim=token, next_attempt_at=now + self._lease, attempts=outbox.c.attempts + 1)
            )
            result = await conn.execute(sa.select(outbox).where(outbox.c.claim == token))
            return [_item(r) for r in result.mappings()]

    async def done(self, item: OutboxItem, now: datetime) -> bool:
        return await self.settle([delivered(item, now)]) == 1

    async def retry(
        self, item: OutboxItem, now: datetime, error: str, *, after: float, dead_after: timedelta
    ) -> str:
        """Schedule the next attempt, or dead-letter the item once it is older than `dead_after`."""
        settlement = failed(item, now, error, after=after, dead_after=dead_after)
        await self.settle([settlement])
        return settlement.status

    async def settle(self, settlements: Sequence[Settlement]) -> int:
        """Record how a round went, in one transaction (one commit per round, not per item).

        Only the holder of an item's claim can settle it; returns how many were settled.
        """
        settled = 0
        async with self._store.transaction() as conn:
            for s in settlements:
                result = await conn.execute(
                    outbox.update()
                    .where(outbox.c.id == s.item.id, outbox.c.claim == s.item.claim)
                    .values(claim=None, **s.values)
                )
                settled += int(result.rowcount)
        for s in settlements:
            if s.status == Status.DEAD:
                log.warning("outbox %s %s dead after %d attempts", s.item.channel, s.item.id, s.item.attempts)
        if settled != len(settlements):
            log.warning(
                "outbox: %d item(s) lost their lease before they were settled", len(settlements) - settled
            )
        return settled

    async def requeue(self, item_id: str, now: datetime) -> bool:
        """A dead item back to pending, due now (the console's retry button)."""
        async with self._store.transaction() as conn:
            result = await conn.execute(
                outbox.update()
                .where(outbox.c.id == item_id, outbox.c.status == Status.DEAD)
                .values(status=Status.PENDING, next_attempt_at=now, claim=None)
            )
        return bool(result.rowcount == 1)

    async def list(self, status: str | None = None, limit: int = 100) -> list[OutboxItem]:
        query = sa.select(outbox).order_by(outbox.c.created_at.desc()).limit(limit)
        if status is not None:
            query = query.where(outbox.c.status == status)
        async with self._reader.begin() as conn:
            return [_item(r) for r in (await conn.execute(query)).mappings()]

    async def counts(self) -> dict[str, int]:
        query = sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)
        async with self._reader.begin() as conn:
            return {status: int(n) for status, n in (await conn.execute(query)).all()}

    async def purge_delivered(self, before: datetime) -> int:
        async with self._store.transaction() as conn:
            result = await conn.execute(
                outbox.delete().where(outbox.c.status == Status.DELIVERED, outbox.c.delivered_at < before)
            )
        return int(result.rowcount)


def utcnow() -> datetime:
    return datetime.now(UTC)
