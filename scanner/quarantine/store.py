"""`SqlQuarantineStore`: the quarantine on SQLAlchemy 2 async (SQLite or PostgreSQL).

Status changes follow `scanner.quarantine.lifecycle.TRANSITIONS`: each step is one conditional
UPDATE (``WHERE status IN <its sources>``), so that concurrent reviewers, proxy instances or
double submits cannot both win.

"Purged" means the encrypted column is set to NULL (and, on SQLite, freed pages are zeroed by
``secure_delete`` and the WAL truncated); the envelope, findings and decision stay as metadata.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from scanner._errors import StoreError
from scanner.model import count_categories
from scanner.offload import in_cpu_thread, off_loop_if_large
from scanner.quarantine import rekey, rows
from scanner.quarantine.crypto import Sealer, load_keys
from scanner.quarantine.engine import READ_ONLY, checkpoint, make_engine
from scanner.quarantine.lifecycle import TRANSITIONS, Step
from scanner.quarantine.migrate import upgrade_to_head
from scanner.quarantine.model import (
    Account,
    AuditEvent,
    HeldMessage,
    HeldRecord,
    HeldSummary,
    QueueFilter,
    Role,
)
from scanner.quarantine.tables import accounts, audit, envelope_masks, findings, messages, sessions, views
from scanner.quarantine.view import MessageView, build_view, masked_envelope
from scanner.quarantine.view_codec import VERSION as VIEW_VERSION
from scanner.quarantine.view_codec import decode_view, encode_view
from scanner.settings import QuarantineSettings

log = logging.getLogger("sendguard.quarantine")


@dataclass(frozen=True, slots=True)
class PreparedHold:
    id: str
    values: dict[str, Any]
    finding_rows: list[dict[str, Any]]
    view: bytes | None
    envelope_mask: bytes | None = None  # sealed (MAIL FROM, RCPT TOs) as a viewer sees them


def _now() -> datetime:
    return datetime.now(UTC)


def _audit_values(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": event.at,
        "actor": event.actor,
        "action": event.action,
        "message_id": event.message_id,
        "reason": event.reason,
    }


class SqlQuarantineStore:
    """Implements `scanner.ports.QuarantineStore`. Build it with `open_store`."""

    def __init__(self, engine: AsyncEngine, sealer: Sealer, retention: timedelta) -> None:
        self._engine = engine
        self._reader = engine.execution_options(**{READ_ONLY: True})
        self._sealer = sealer
        self.retention = retention
        # SQLite has one writer at a time. Queueing our own writers here (FIFO, no polling)
        # beats letting them all hit the file lock and back off in SQLite's sleeping busy
        # handler; other processes on the same file still wait through busy_timeout.
        self._write_lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def sealer(self) -> Sealer:
        return self._sealer

    def transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A write transaction (queued behind this store's other writers on SQLite), for
        writes that must commit together with a hold (the outbox: `scanner.events`)."""
        return self._write()

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        if self._write_lock is None:
            async with self._engine.begin() as conn:
                yield conn
            return
        async with self._write_lock, self._engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        async with self._reader.begin() as conn:
            yield conn

    async def _seal(self, data: bytes) -> bytes:
        return await off_loop_if_large(len(data), self._sealer.seal, data)

    async def _open(self, token: bytes, message_id: str) -> bytes:
        return await off_loop_if_large(len(token), self._sealer.open, token, what=f"message {message_id}")

    # --- the proxy side ---------------------------------------------------------------------

    async def hold(self, message: HeldMessage) -> None:
        """Store `message`; returns only after the transaction is committed (durable)."""
        try:
            prepared = await self.prepare_held(message)
            async with self._write() as conn:
                await self.insert_held(conn, prepared)
        except Exception as exc:
            # whatever went wrong (database down, disk full, a duplicate id, a naive datetime),
            # the SMTP layer turns StoreError into 451: the client retries, nothing is lost
            log.error("quarantine hold failed for %s: %s", message.id, type(exc).__name__)
            raise StoreError(f"could not hold message {message.id}") from exc

    async def prepare_held(self, message: HeldMessage) -> PreparedHold:
        """Everything `insert_held` writes, sealed before any transaction starts (CPU work never
        holds the write lock)."""
        view = await self._sealed_view(message)
        values = rows.message_values(message, await self._seal(message.data))
        mask = masked_envelope(message.envelope, message.verdict.findings)
        sealed_mask = (
            self._sealer.seal(json.dumps([mask[0], list(mask[1])]).encode()) if mask is not None else None
        )
        return PreparedHold(message.id, values, rows.finding_values(message, self._sealer), view, sealed_mask)

    async def insert_held(self, conn: AsyncConnection, prepared: PreparedHold) -> None:
        """The INSERTs of `hold`, inside the caller's transaction (see `transaction`)."""
        await conn.execute(messages.insert().values(prepared.values))
        if prepared.finding_rows:
            await conn.execute(findings.insert(), prepared.finding_rows)
        if prepared.view is not None:
            await conn.execute(
                views.insert().values(message_id=prepared.id, version=VIEW_VERSION, sealed=prepared.view)
            )
        if prepared.envelope_mask is not None:
            await conn.execute(
                envelope_masks.insert().values(message_id=prepared.id, sealed=prepared.envelope_mask)
            )

    async def _sealed_view(self, message: HeldMessage) -> bytes | None:
        """What the console will show, built now (bounded, in a thread) and sealed; None if that
        failed: the hold must not, and the console then builds a bounded view when opened."""

        def build() -> bytes:
            view = build_view(message.data, message.verdict.findings, message.envelope)
            return self._sealer.seal(encode_view(view))

        try:
            return await in_cpu_thread(build)
        except Exception as exc:
            log.error("view for held message %s not built: %s", message.id, type(exc).__name__)
            return None

    async def get_view(self, message_id: str) -> MessageView | None:
        """The view computed at hold time; None when there is none (held before it existed, or
        its build failed) or the content is gone (released, rejected, expired)."""
        query = (
            sa.select(views.c.sealed, views.c.version)
            .join(messages, messages.c.id == views.c.message_id)
            .where(views.c.message_id == message_id, messages.c.data.is_not(None))
        )
        async with self._read() as conn:
            row = (await conn.execute(query)).first()
        if row is None or row.version != VIEW_VERSION:
            return None
        return decode_view(self._sealer.open(row.sealed, what=f"view of {message_id}"))

    async def masked_envelopes(self, ids: list[str]) -> dict[str, tuple[str, tuple[str, ...]]]:
        """For the messages among `ids` whose envelope holds a finding: (MAIL FROM, RCPT TOs) as a
        viewer may see them (the queue shows these instead of the clear columns)."""
        if not ids:
            return {}
        query = sa.select(envelope_masks).where(envelope_masks.c.message_id.in_(ids))
        async with self._read() as conn:
            found = (await conn.execute(query)).all()
        out = {}
        for message_id, sealed in found:
            mail_from, rcpts = json.loads(self._sealer.open(sealed, what=f"envelope of {message_id}"))
            out[message_id] = (str(mail_from), tuple(str(r) for r in rcpts))
        return out

    async def close(self) -> None:
        await self._engine.dispose()

    # --- the review side: reading -------------------------------------------------------------

    async def list_held(self, flt: QueueFilter) -> tuple[list[HeldSummary], int]:
        conds = rows.filter_conditions(flt)
        async with self._read() as conn:
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(messages).where(*conds))
            ).scalar_one()
            page = (
                (
                    await conn.execute(
                        sa.select(*rows.SUMMARY_COLUMNS)
                        .where(*conds)
                        .order_by(messages.c.received_at.desc(), messages.c.id.desc())
                        .offset(max(flt.offset, 0))
                        .limit(max(flt.limit, 0))
                    )
                )
                .mappings()
                .all()
            )
            categories = await self._categories(conn, [r["id"] for r in page])
        return [rows.summary_from_row(r, categories.get(r["id"], {})) for r in page], int(total)

    async def _categories(self, conn: AsyncConnection, ids: list[str]) -> dict[str, dict[str, int]]:
        if not ids:
            return {}
        result = await conn.execute(
            sa.select(findings.c.message_id, findings.c.category, sa.func.count())
            .where(findings.c.message_id.in_(ids))
            .group_by(findings.c.message_id, findings.c.category)
        )
        return rows.group_categories(result.all())

    async def category_counts(self, flt: QueueFilter) -> dict[str, int]:
        """Messages per category among those matching `flt`.

        `flt.category` is ignored (a facet must not hide the other facets) and so is paging.
        """
        conds = rows.filter_conditions(flt, with_category=False)
        per_message = sa.func.count(sa.distinct(findings.c.message_id))
        query = (
            sa.select(findings.c.category, per_message)
            .join(messages, messages.c.id == findings.c.message_id)
            .where(*conds)
            .group_by(findings.c.category)
        )
        async with self._read() as conn:
            result = await conn.execute(query)
            return {category: int(count) for category, count in result.all()}

    async def get(self, message_id: str) -> HeldRecord | None:
        async with self._read() as conn:
            return await self._load(conn, message_id)

    async def _load(self, conn: AsyncConnection, message_id: str) -> HeldRecord | None:
        row = (
            (
                await conn.execute(
                    sa.select(*rows.SUMMARY_COLUMNS, *rows.ENVELOPE_COLUMNS, messages.c.data).where(
                        messages.c.id == message_id
                    )
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        finding_rows = (
            (
                await conn.execute(
                    sa.select(findings).where(findings.c.message_id == message_id).order_by(findings.c.seq)
                )
            )
            .mappings()
            .all()
        )
        found = tuple(rows.finding_from_row(f, self._sealer) for f in finding_rows)
        data = None if row["data"] is None else await self._open(row["data"], message_id)
        return HeldRecord(
            summary=rows.summary_from_row(row, count_categories(found)),
            envelope=rows.envelope_from_row(row),
            findings=found,
            data=data,
        )

    # --- the review side: transitions (scanner.quarantine.lifecycle) ---------------------------

    async def claim_release(self, message_id: str, actor: str, step: Step = Step.CLAIM) -> HeldRecord | None:
        """`Step.CLAIM` (or an admin's `Step.CLAIM_AGAIN`) and the record, decrypted; None if the
        message was not in a source state. The conditional UPDATE makes release exactly-once."""
        if TRANSITIONS[step].target is not TRANSITIONS[Step.CLAIM].target:
            raise ValueError(f"{step.value} is not a claim")
        async with self._write() as conn:
            if not await self._step(conn, step, message_id, actor, None):
                return None
            # decrypting inside the transaction: a key error rolls the claim back
            return await self._load(conn, message_id)

    async def transition(
        self,
        message_id: str,
        step: Step,
        actor: str,
        reason: str | None = None,
        *,
        audit_event: AuditEvent | None = None,
    ) -> bool:
        """Apply `step` to one message; False if its status does not allow it (or no such id).
        `audit_event` is recorded in the same transaction when the step applies."""
        async with self._write() as conn:
            done = await self._step(conn, step, message_id, actor, reason)
            if done and TRANSITIONS[step].purges:  # what the console showed goes with the bytes
                await conn.execute(views.delete().where(views.c.message_id == message_id))
            if done and audit_event is not None:  # never content gone without its record
                await conn.execute(audit.insert().values(_audit_values(audit_event)))
        if done and TRANSITIONS[step].purges:
            await checkpoint(self._engine)
        return done

    async def _step(
        self, conn: AsyncConnection, step: Step, message_id: str, actor: str, reason: str | None
    ) -> bool:
        rule = TRANSITIONS[step]
        result = await conn.execute(
            messages.update()
            .where(messages.c.id == message_id, rows.transition_where(rule))
            .values(rows.transition_values(rule, actor, _now(), reason))
        )
        return bool(result.rowcount == 1)

    async def delete(self, message_id: str) -> bool:
        """Remove a message and its findings entirely (the audit trail stays)."""
        async with self._write() as conn:
            result = await conn.execute(messages.delete().where(messages.c.id == message_id))
        if result.rowcount != 1:
            return False
        await checkpoint(self._engine)
        return True

    async def purge_expired(self, now: datetime) -> int:
        """`Step.EXPIRE` for every message received before `now` - retention."""
        if now.tzinfo is None:
            raise ValueError(
                "purge_expired needs an aware datetime (naive would shift retention by the UTC offset)"
            )
        rule = TRANSITIONS[Step.EXPIRE]
        async with self._write() as conn:
            result = await conn.execute(
                messages.update()
                .where(rows.transition_where(rule), messages.c.received_at < now - self.retention)
                .values(rows.transition_values(rule, "retention", now, None))
            )
            gone = sa.select(messages.c.id).where(messages.c.data.is_(None))
            await conn.execute(views.delete().where(views.c.message_id.in_(gone)))
        count = int(result.rowcount)
        if count:
            await checkpoint(self._engine)
            log.info("quarantine retention: %d message(s) expired", count)
        return count

    # --- audit trail and accounts -------------------------------------------------------------

    async def record(self, event: AuditEvent) -> None:
        async with self._write() as conn:
            await conn.execute(audit.insert().values(_audit_values(event)))

    async def audit_log(self, message_id: str | None = None, limit: int = 1000) -> list[AuditEvent]:
        """The newest `limit` events (of one message, or all), newest first."""
        query = sa.select(audit).order_by(audit.c.id.desc()).limit(limit)
        if message_id is not None:
            query = query.where(audit.c.message_id == message_id)
        async with self._read() as conn:
            result = (await conn.execute(query)).mappings().all()
        return [
            AuditEvent(
                at=r["at"],
                actor=r["actor"],
                action=r["action"],
                message_id=r["message_id"],
                reason=r["reason"],
            )
            for r in result
        ]

    async def get_account(self, name: str) -> Account | None:
        async with self._read() as conn:
            row = (await conn.execute(sa.select(accounts).where(accounts.c.name == name))).mappings().first()
        if row is None:
            return None
        return Account(name=row["name"], role=Role(row["role"]), password_hash=row["password_hash"])

    async def put_account(self, account: Account) -> None:
        """Create or replace an account (the hash is computed by the caller, argon2)."""
        values: dict[str, Any] = {
            "role": account.role.value,
            "password_hash": account.password_hash,
            "updated_at": _now(),
        }
        async with self._write() as conn:
            result = await conn.execute(
                accounts.update().where(accounts.c.name == account.name).values(values)
            )
            if result.rowcount == 0:
                await conn.execute(accounts.insert().values(name=account.name, **values))
            # a new password (or role) ends every console session of the account
            await conn.execute(sessions.delete().where(sessions.c.account == account.name))

    # --- keys -----------------------------------------------------------------------------------

    async def verify_keys(self) -> None:
        """Raise `QuarantineKeyError` now, at start-up, if the keys cannot read stored data."""
        await rekey.verify(self._reader, self._sealer)

    async def rotate_keys(self) -> int:
        """Re-encrypt every stored token with the newest key; returns how many were rewritten."""
        count = await rekey.rotate(self._engine, self._reader, self._sealer)
        log.info("quarantine keys rotated: %d token(s) re-encrypted", count)
        return count


async def open_store(settings: QuarantineSettings, *, schema: str | None = None) -> SqlQuarantineStore:
    """Open (and migrate) the quarantine named by `settings.url`, with its keys loaded and checked.

    `schema` (PostgreSQL only) keeps the tables in that schema, created if missing — used by
    the tests to isolate runs, and by deployments sharing a database.
    """
    sealer = Sealer(load_keys(settings.keys, settings.key_file))
    engine = make_engine(settings.url, schema=schema)
    try:
        await upgrade_to_head(engine, schema=schema)
        store = SqlQuarantineStore(engine, sealer, timedelta(days=settings.retention_days))
        await store.verify_keys()
    except BaseException:
        await engine.dispose()
        raise
    return store
