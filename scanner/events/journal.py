"""`Journal`: a decision, its event and its report commit together, or not at all.

The gateway answers 250 (hold, dsn report) or 550 (reply mode) only after the journal's
transaction committed: a rejected message's metadata record, its ``message.rejected`` event and
(``report.mode = dsn``) the report mail are one transaction in the quarantine database; a hold
and its ``message.held`` event are another. A failure is a `StoreError` (451): the client
retries, nothing is half-recorded. Webhook events are queued only when an endpoint is
configured for the tenant (or a default one), so an unconfigured outbox does not grow.
"""

from __future__ import annotations

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
    ) -> None:
        self._store = store
        self._webhooks = webhooks
        self._on_queued = on_queued  # wakes the dispatcher: low latency without polling fast

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
        try:
            prepared = await self._store.prepare_held(message)
            async with self._store.transaction() as conn:
                await self._store.insert_held(conn, prepared)
                await enqueue(conn, self._event_rows(ev))
        except Exception as exc:
            log.error("quarantine hold failed for %s: %s", message.id, type(exc).__name__)
            raise StoreError(f"could not hold message {message.id}") from exc
        self._on_queued()

    async def rejected(self, rejection: Rejection, report: Report | None) -> None:
        """Record a rejection, its event and (dsn mode) its report in one transaction."""
        r = rejection
        ev = event(EventType.REJECTED, r.reference, r.tenant, r.at, r.verdict.findings)
        rows = self._event_rows(ev)
        if report is not None:
            rows.append(self._mail_row(r.reference, r.tenant, report, r.at))
        try:
            async with self._store.transaction() as conn:
                await conn.execute(
                    rejections.insert().values(
                        reference=r.reference,
                        received_at=r.at,
                        tenant=r.tenant,
                        mail_from=r.envelope.mail_from,
                        rcpt_tos=list(r.envelope.rcpt_tos),
                        mode=r.mode,
                        report_queued=report is not None,
                        categories=count_categories(r.verdict.findings),
                        findings=masked_findings(r.verdict.findings),
                    )
                )
                await enqueue(conn, rows)
        except Exception as exc:
            log.error("rejection record failed for %s: %s", r.reference, type(exc).__name__)
            raise StoreError(f"could not record rejection {r.reference}") from exc
        self._on_queued()

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
        return None


def retention_cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


async def rejection_count(store: SqlQuarantineStore) -> int:
    async with store.engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(rejections))).scalar_one())
