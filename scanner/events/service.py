"""The events side of `sendguard serve`, built in one call so `scanner.app` stays a wiring list.

`EventsService` owns the outbox, the journal the gateway and console write through, the
dispatcher task and the retention task (rejection records after ``report.retention_days``,
delivered outbox rows after the same time).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from scanner.events.dispatch import Dispatcher
from scanner.events.journal import Journal
from scanner.events.outbox import SqlOutbox
from scanner.ports import Relay
from scanner.quarantine.store import SqlQuarantineStore
from scanner.settings import Settings, WebhookSettings

log = logging.getLogger("sendguard.events")


@dataclass
class EventsService:
    outbox: SqlOutbox
    journal: Journal
    dispatcher: Dispatcher
    tasks: tuple[asyncio.Task[None], ...] = ()

    async def stop(self) -> None:
        """Stop sending; whatever is still queued stays in the outbox for the next start."""
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.dispatcher.close()


def check_secrets(settings: WebhookSettings) -> None:
    """Refuse to start with a secret Standard Webhooks cannot use (``whsec_`` + base64, >= 16 bytes)."""
    if (settings.secret is None) != (settings.url is None):
        raise ValueError("webhooks: url and secret go together")
    for secret in [settings.secret] + [e.secret for e in settings.tenants.values()]:
        if secret is None:
            continue
        raw = secret.get_secret_value().removeprefix("whsec_")
        try:
            key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
        except binascii.Error:
            key = b""
        if len(key) < 16:
            raise ValueError(
                "webhooks: a secret is not whsec_ + base64 of at least 16 bytes (Standard Webhooks)"
            )


def build_events(settings: Settings, store: SqlQuarantineStore, relay: Relay) -> EventsService:
    check_secrets(settings.webhooks)
    outbox = SqlOutbox(store, lease=settings.webhooks.lease_seconds)
    dispatcher = Dispatcher(outbox, settings.webhooks, relay, store.sealer)
    journal = Journal(
        store, settings.webhooks, on_queued=dispatcher.wake, timeout=settings.quarantine.hold_timeout
    )
    return EventsService(outbox, journal, dispatcher)


async def start_events(settings: Settings, store: SqlQuarantineStore, relay: Relay) -> EventsService:
    service = build_events(settings, store, relay)
    loop = asyncio.get_running_loop()
    service.tasks = (
        loop.create_task(service.dispatcher.run(), name="sendguard-outbox"),
        loop.create_task(
            _retention(service, settings.report.retention_days, every=3600), name="sendguard-retention"
        ),
    )
    return service


async def _retention(service: EventsService, days: int, every: float) -> None:
    while True:
        try:
            cutoff = datetime.now(UTC) - timedelta(days=days)
            records = await service.journal.purge_rejections(cutoff)
            rows = await service.outbox.purge_delivered(cutoff)
            if records or rows:
                log.info(
                    "retention: %d rejection record(s), %d delivered outbox row(s) removed", records, rows
                )
        except Exception as exc:
            log.warning("events retention failed: %s", type(exc).__name__)
        await asyncio.sleep(every)
