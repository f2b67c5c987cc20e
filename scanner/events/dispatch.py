"""`Dispatcher`: the background task that empties the outbox (never on the SMTP hot path).

Each round claims a batch of due items (a lease, see `scanner.events.outbox`), sends them
concurrently and settles each one: delivered, retried later (exponential backoff with jitter) or
dead once older than ``webhooks.dead_after_hours``. A webhook is delivered when the endpoint
answers 2xx; anything else (timeout, refused connection, 4xx, 5xx) is retried, since a receiver
that was misconfigured for a while must not lose events. A report mail the upstream refuses for
good (5xx), or that went without a final reply after DATA (it may have been taken: never sent
twice), is dead at once; a temporary refusal is retried.

Signing follows Standard Webhooks (https://www.standardwebhooks.com/): headers ``webhook-id``
(the outbox id, stable across retries: the receiver's idempotency key), ``webhook-timestamp``
(of this attempt) and ``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from standardwebhooks import Webhook

from scanner._errors import RelayAmbiguousError, RelayPermanentError, RelayTemporaryError
from scanner.events.outbox import (
    Channel,
    OutboxItem,
    Settlement,
    SqlOutbox,
    Status,
    backoff,
    delivered,
    failed,
)
from scanner.model import Envelope
from scanner.ports import Relay
from scanner.quarantine.crypto import Sealer
from scanner.settings import WebhookSettings

log = logging.getLogger("sendguard.events")


class DeliveryFailed(Exception):
    """One attempt failed; `permanent` items are dead-lettered at once. The text names no content."""

    def __init__(self, text: str, *, permanent: bool = False) -> None:
        super().__init__(text)
        self.permanent = permanent


def sign(secret: str, msg_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt."""
    signature = Webhook(secret).sign(msg_id, at, body.decode("utf-8"))
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }


class Dispatcher:
    def __init__(
        self,
        outbox: SqlOutbox,
        settings: WebhookSettings,
        relay: Relay,
        sealer: Sealer,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
    ) -> None:
        self._outbox = outbox
        self._settings = settings
        self._relay = relay
        self._sealer = sealer
        self._clock = clock
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._client = httpx.AsyncClient(timeout=settings.timeout, follow_redirects=False, trust_env=False)
        self.counters: dict[str, int] = {}

    def wake(self) -> None:
        """Something was queued: run a round now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Rounds until cancelled; a round that fails (database down) is logged and retried.

        After a round that delivered something, the next one starts at once (a backlog drains at
        full speed); after an empty round it waits for a wake-up or the poll interval; after a
        round where everything failed (endpoint down) it waits the poll interval whatever wakes
        it, so a dead endpoint costs at most one batch of attempts per interval, not a busy loop
        competing with the SMTP path for the database.
        """
        while True:
            try:
                delivered_now = await self.round()
            except Exception as exc:
                log.warning("outbox round failed: %s", type(exc).__name__)
                delivered_now = 0
            if delivered_now > 0:
                continue
            if delivered_now == 0:
                await asyncio.sleep(self._settings.poll_interval)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._settings.poll_interval)
            self._wake.clear()

    async def round(self) -> int:
        """Claim one batch, send it concurrently, settle it in one transaction; returns how many
        were delivered (-1 when nothing was due)."""
        items = await self._outbox.claim(self._clock(), self._settings.batch_size)
        if not items:
            return -1
        settlements = await asyncio.gather(*(self._one(item) for item in items))
        await self._outbox.settle(settlements)
        for s in settlements:
            self._count({Status.DELIVERED: "delivered", Status.DEAD: "dead"}.get(s.status, "retried"))
        return sum(s.status == Status.DELIVERED for s in settlements)

    async def _one(self, item: OutboxItem) -> Settlement:
        try:
            if item.channel == Channel.WEBHOOK:
                await self._post(item)
            else:
                await self._mail(item)
        except DeliveryFailed as exc:
            return self._failed(item, str(exc), permanent=exc.permanent)
        except Exception as exc:  # a bug of ours: retried like any failure, never dropped
            return self._failed(item, f"internal error {type(exc).__name__}", permanent=False)
        return delivered(item, self._clock())

    def _failed(self, item: OutboxItem, error: str, *, permanent: bool) -> Settlement:
        dead_after = timedelta(0) if permanent else timedelta(hours=self._settings.dead_after_hours)
        after = backoff(
            item.attempts, low=self._settings.min_backoff, high=self._settings.max_backoff, rng=self._rng
        )
        log.info("outbox %s %s attempt %d failed: %s", item.channel, item.id, item.attempts, error)
        return failed(item, self._clock(), error, after=after, dead_after=dead_after)

    async def _post(self, item: OutboxItem) -> None:
        endpoint = self._settings.tenants.get(item.tenant or "") if item.tenant else None
        url = endpoint.url if endpoint else self._settings.url
        secret = endpoint.secret if endpoint else self._settings.secret
        if url is None or secret is None:
            raise DeliveryFailed("no webhook endpoint configured for this tenant")
        headers = sign(secret.get_secret_value(), item.id, self._clock(), item.payload)
        try:
            response = await self._client.post(url, content=item.payload, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"endpoint unreachable: {type(exc).__name__}") from exc
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"endpoint answered {response.status_code}")

    async def _mail(self, item: OutboxItem) -> None:
        stored = json.loads(self._sealer.open(item.payload, what=f"report {item.reference}"))
        envelope = Envelope(mail_from=stored["mail_from"], rcpt_tos=tuple(stored["rcpt_tos"]))
        try:
            await self._relay.deliver(envelope, base64.b64decode(stored["data"]))
        except RelayPermanentError as exc:
            raise DeliveryFailed(f"upstream refused the report: {exc.code}", permanent=True) from exc
        except RelayAmbiguousError as exc:
            # the upstream may have it (no reply after DATA): never risk sending it twice; an
            # administrator sees it dead-lettered and may retry it from the console
            raise DeliveryFailed("no final reply from the upstream after DATA", permanent=True) from exc
        except RelayTemporaryError as exc:
            raise DeliveryFailed(f"upstream unavailable: {exc.code}") from exc

    def _count(self, key: str) -> None:
        self.counters[key] = self.counters.get(key, 0) + 1

    async def close(self) -> None:
        await self._client.aclose()
