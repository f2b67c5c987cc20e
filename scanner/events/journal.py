"""`Journal`: a decision, its event and its report commit together, or not at all.

The gateway answers 250 (hold, dsn report) or 550 (reply mode) only after the journal's
transaction committed: a rejected message's metadata record, its ``message.rejected`` event and
(``report.mode = dsn``) the report mail are one transaction in the quarantine database; a hold
and its ``message.held`` event are another. A failure is a `StoreError` (451): the client
retries, nothing is half-recorded. Webhook events are queued only when an endpoint is
configured for the tenant (or a default one), so an unconfigured outbox does not grow.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from scanner._errors import StoreError
from scanner.events.model import Event, EventType, event, masked_findings
from scanner.events.outbox import Channel, enqueue, row_values
from scanner.events.tables import rejections
from scanner.model import Envelope, Verdict, count_categories
from scanner.quarantine.model import HeldMessage
from scanner.quarantine.store import SqlQuarantineStore
from scanner.reports.dsn import Report
from scanner.settings import WebhookSettings

log = logging.getLogger("sendguard.events")


@dataclass(frozen=True, slots=True)
class Rejection:
    """What is kept of a rejected message: metadata and masked findings, never content."""

    reference: str
    tenant: str | None
    envelope: Envelope
    at: datetime
    verdict: Verdict
    mode: str  # reply | dsn


# rejections committed in one transaction at most (a burst beyond it takes several commits)
_MAX_GROUP = 256


@dataclass(frozen=True, slots=True)
class _Pending:
    record: dict[str, Any]  # the quarantine_rejections row
    rows: list[dict[str, Any]]  # its outbox rows (event, report)


def _settle(done: asyncio.Future[None], error: BaseException | None) -> None:
    if done.done():
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
        done.exception()  # a caller past its deadline no longer awaits it: no "never retrieved"


def has_endpoint(settings: WebhookSettings, tenant: str | None) -> bool:
    return (tenant is not None and tenant in settings.tenants) or settings.url is not None


class Journal:
    """Implements `scanner.ports.Quarantine` (holds with their event) and records rejections."""

    def __init__(
        self,
        store: SqlQuarantineStore,
        webhooks: WebhookSettings,
        *,
        on_queued: Callable[[], None] = lambda: None,
        timeout: float | None = None,
    ) -> None:
        self._store = store
        self._webhooks = webhooks
        self._on_queued = on_queued  # wakes the dispatcher: low latency without polling fast
        # how long a rejection waits for its record before the client gets 451 (None: no limit)
        self._timeout = timeout
        self._pending: list[tuple[_Pending, asyncio.Future[None]]] = []
        self._committer: asyncio.Task[None] | None = None

    def _event_rows(self, ev: Event) -> list[dict[str, Any]]:
        if not has_endpoint(self._webhooks, ev.tenant):
            return []
        return [
            row_values(ev.id, Channel.WEBHOOK, ev.type.value, ev.tenant, ev.reference, ev.payload(), ev.at)
        ]

    def _mail_row(self, reference: str, tenant: str | None, report: Report, now: datetime) -> dict[str, Any]:
        sealed = self._store.sealer.seal(
            json.dumps(
                {
                    "mail_from": report.envelope.mail_from,
                    "rcpt_tos": list(report.envelope.rcpt_tos),
                    "data": base64.b64encode(report.data).decode("ascii"),
                }
            ).encode("utf-8")
        )
        return row_values(f"report_{reference}", Channel.MAIL, "report", tenant, reference, sealed, now)

    async def hold(self, message: HeldMessage) -> None:
        ev = event(EventType.HELD, message.id, message.tenant, message.received_at, message.verdict.findings)
        rows = self._event_rows(ev)
        try:
            prepared = await self._store.prepare_held(message)
            async with self._store.transaction() as conn:
                await self._store.insert_held(conn, prepared)
                await enqueue(conn, rows)
        except Exception as exc:
            log.error("quarantine hold failed for %s: %s", message.id, type(exc).__name__)
            raise StoreError(f"could not hold message {message.id}") from exc
        if rows:
            self._on_queued()

    async def rejected(self, rejection: Rejection, report: Report | None) -> None:
        """Record a rejection, its event and (dsn mode) its report in one transaction.

        Group commit: rejections that arrive while a commit is running wait for the next one and
        share its transaction (one round of BEGIN/INSERT/COMMIT, one fsync on SQLite, for all of
        them). Each caller still returns only after its own rows committed; if the shared
        transaction fails, each rejection is retried alone, so one bad row (a duplicate
        reference) fails only its own caller.
        """
        r = rejection
        ev = event(EventType.REJECTED, r.reference, r.tenant, r.at, r.verdict.findings)
        rows = self._event_rows(ev)
        if report is not None:
            rows.append(self._mail_row(r.reference, r.tenant, report, r.at))
        record = {
            "reference": r.reference,
            "received_at": r.at,
            "tenant": r.tenant,
            "mail_from": r.envelope.mail_from,
            "rcpt_tos": list(r.envelope.rcpt_tos),
            "mode": r.mode,
            "report_queued": report is not None,
            "categories": count_categories(r.verdict.findings),
            "findings": masked_findings(r.verdict.findings),
        }
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((_Pending(record, rows), done))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_pending())
        try:
            # shielded: the commit goes on for the others in its group; a record that commits
            # after the deadline only means the client's retry is recorded a second time
            await asyncio.wait_for(asyncio.shield(done), self._timeout)
        except TimeoutError as exc:
            log.error("rejection record for %s took over %.1f s; answered 451", r.reference, self._timeout)
            raise StoreError(f"rejection record timed out after {self._timeout:g} s") from exc
        except Exception as exc:
            log.error("rejection record failed for %s: %s", r.reference, type(exc).__name__)
            raise StoreError(f"could not record rejection {r.reference}") from exc
        if rows:  # nothing queued, nothing to dispatch: no claim query per rejection
            self._on_queued()

    async def _commit_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:_MAX_GROUP], self._pending[_MAX_GROUP:]
            try:
                await self._insert([item for item, _ in batch])
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0][1], exc)
                    continue
                for item, done in batch:  # alone, so only the faulty one fails
                    try:
                        await self._insert([item])
                    except Exception as exc:
                        _settle(done, exc)
                    else:
                        _settle(done, None)
                continue
            for _, done in batch:
                _settle(done, None)

    async def _insert(self, items: list[_Pending]) -> None:
        async with self._store.transaction() as conn:
            await conn.execute(rejections.insert(), [item.record for item in items])
            await enqueue(conn, [row for item in items for row in item.rows])

    async def emit(self, ev: Event) -> None:
        """One event on its own (a tag after relaying, a reviewer's decision)."""
        rows = self._event_rows(ev)
        if not rows:
            return
        async with self._store.transaction() as conn:
            await enqueue(conn, rows)
        self._on_queued()

    async def purge_rejections(self, before: datetime) -> int:
        """Retention of the metadata records (`report.retention_days`)."""
        async with self._store.transaction() as conn:
            result = await conn.execute(rejections.delete().where(rejections.c.received_at < before))
        return int(result.rowcount)

    async def close(self) -> None:
        """Wait for a commit in progress: its callers are owed an answer."""
        if self._committer is not None:
            await self._committer


def retention_cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


async def rejection_count(store: SqlQuarantineStore) -> int:
    async with store.engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(rejections))).scalar_one())
