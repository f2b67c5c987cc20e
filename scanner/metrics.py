"""Prometheus metrics for `sendguard serve`, served on the admin port (`scanner.admin`).

Labels carry only names from closed sets we define (an action, a group, a stage, an error
class) - never a value, an address, a subject or an upstream's free text. The tenant label is
opt-in (`admin.tenant_label`) and capped (`admin.tenant_label_limit` distinct tenants, the
rest counted as ``other``), so a sender cannot grow the series without bound.

The seams are measured from outside, by wrapping them (`MeteredScanner`, `MeteredRelay`,
`MeteredQuarantine`) and the gateway (`MeteredGateway`); `decide` reports through the
gateway's `stage_observer`. Everything here runs on the event loop and costs a few
microseconds per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from scanner._errors import RelayAmbiguousError, RelayPermanentError, RelayTemporaryError
from scanner.gateway import Gateway, Outcome
from scanner.model import Envelope, Scanned
from scanner.ports import Quarantine, Relay, Scanner
from scanner.quarantine.model import HeldMessage

STAGES = ("scan", "decide", "relay", "hold", "total")
# seconds: from sub-millisecond scans to a relay near its timeout
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
OTHER_TENANT = "other"
NO_TENANT = "none"


class Metrics:
    """Every series sendguard exports, in its own registry (tests build as many as they like)."""

    def __init__(self, *, tenant_label: bool = False, tenant_limit: int = 20) -> None:
        self.registry = CollectorRegistry()
        self.tenant_label = tenant_label
        self.tenant_limit = tenant_limit
        self._tenants: set[str] = set()
        r = self.registry
        tenant = ["tenant"] if tenant_label else []
        self.messages = Counter(
            "sendguard_messages", "Messages answered, by outcome", ["action", *tenant], registry=r
        )
        self.groups = Counter(
            "sendguard_message_groups",
            "Messages by outcome and each group of data found in them (a message counts once per group)",
            ["action", "group", *tenant],
            registry=r,
        )
        self.stage_seconds = Histogram(
            "sendguard_stage_seconds", "Latency per stage", ["stage"], buckets=_BUCKETS, registry=r
        )
        self.scan_queue = Gauge(
            "sendguard_scan_queue_depth", "Messages in the scanner (scan.queue_limit)", registry=r
        )
        self.inflight_messages = Gauge(
            "sendguard_inflight_messages", "Messages between DATA and reply", registry=r
        )
        self.inflight_bytes = Gauge(
            "sendguard_inflight_bytes", "Bytes of messages between DATA and reply", registry=r
        )
        self.worker_restarts = Gauge(
            "sendguard_worker_restarts",
            "Scanner worker processes replaced since start (monotonic)",
            registry=r,
        )
        self.workers_ready = Gauge(
            "sendguard_workers_ready", "Scanner workers with their engine loaded", registry=r
        )
        self.relay_errors = Counter(
            "sendguard_relay_errors", "Upstream failures by class", ["error_class"], registry=r
        )
        self.store_errors = Counter(
            "sendguard_quarantine_errors", "Holds that failed (answered 451)", registry=r
        )
        self.held = Gauge("sendguard_quarantine_held", "Messages waiting in the quarantine", registry=r)
        # set by whoever delivers webhooks/events (`metrics.webhook_backlog.set(n)`)
        self.webhook_backlog = Gauge("sendguard_webhook_backlog", "Events waiting for delivery", registry=r)
        self.loop_lag = Histogram(
            "sendguard_loop_lag_seconds",
            "How late the event loop wakes a timer",
            buckets=_BUCKETS,
            registry=r,
        )
        for stage in STAGES:  # export every stage from the start (0 observations)
            self.stage_seconds.labels(stage=stage)

    def tenant(self, value: str | None) -> str:
        """The tenant label: the tenant while under the cap, else ``other`` (``none`` if unknown)."""
        if not value:
            return NO_TENANT
        if value in self._tenants:
            return value
        if len(self._tenants) < self.tenant_limit:
            self._tenants.add(value)
            return value
        return OTHER_TENANT

    def observe_stage(self, stage: str, seconds: float) -> None:
        self.stage_seconds.labels(stage=stage).observe(seconds)

    def observe_outcome(self, outcome: Outcome, tenant: str | None, seconds: float) -> None:
        extra = {"tenant": self.tenant(tenant)} if self.tenant_label else {}
        self.messages.labels(action=outcome.label, **extra).inc()
        groups = {f.group.value for f in outcome.verdict.findings} if outcome.verdict else set()
        for group in sorted(groups) or ["none"]:
            self.groups.labels(action=outcome.label, group=group, **extra).inc()
        self.observe_stage("total", seconds)

    async def sample_loop_lag(self, interval: float = 0.25) -> None:
        """Forever: how much later than asked the loop woke us (run as a task)."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(interval)
            self.loop_lag.observe(max(0.0, loop.time() - started - interval))


def relay_error_class(exc: BaseException) -> str:
    if isinstance(exc, RelayAmbiguousError):
        return "ambiguous"  # the data went out, no final reply: may have been delivered
    if isinstance(exc, RelayTemporaryError):
        return "temporary"
    if isinstance(exc, RelayPermanentError):
        return "permanent"
    return "internal"


class MeteredScanner:
    """`scanner.ports.Scanner` timing the scan stage."""

    def __init__(self, inner: Scanner, metrics: Metrics) -> None:
        self._inner, self._metrics = inner, metrics

    async def scan(self, message: bytes, envelope: Envelope | None = None) -> Scanned:
        started = time.perf_counter()
        try:
            return await self._inner.scan(message, envelope)
        finally:
            self._metrics.observe_stage("scan", time.perf_counter() - started)

    async def close(self) -> None:
        await self._inner.close()


class MeteredRelay:
    """`scanner.ports.Relay` timing deliveries and counting upstream failures by class."""

    def __init__(self, inner: Relay, metrics: Metrics) -> None:
        self._inner, self._metrics = inner, metrics

    async def deliver(self, envelope: Envelope, data: bytes) -> None:
        started = time.perf_counter()
        try:
            await self._inner.deliver(envelope, data)
        except BaseException as exc:
            if not isinstance(exc, asyncio.CancelledError):
                self._metrics.relay_errors.labels(error_class=relay_error_class(exc)).inc()
            raise
        finally:
            self._metrics.observe_stage("relay", time.perf_counter() - started)

    async def close(self) -> None:
        await self._inner.close()


class MeteredQuarantine:
    """`scanner.ports.Quarantine` timing holds and counting the ones that failed."""

    def __init__(self, inner: Quarantine, metrics: Metrics) -> None:
        self._inner, self._metrics = inner, metrics

    async def hold(self, message: HeldMessage) -> None:
        started = time.perf_counter()
        try:
            await self._inner.hold(message)
        except Exception:
            self._metrics.store_errors.inc()
            raise
        finally:
            self._metrics.observe_stage("hold", time.perf_counter() - started)

    async def close(self) -> None:
        await self._inner.close()


class MeteredGateway(Gateway):
    """The gateway, counting outcomes and the bytes and messages in flight."""

    def __init__(self, *, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metrics = metrics
        self.stage_observer = metrics.observe_stage

    async def handle(self, envelope: Envelope, data: bytes) -> Outcome:
        m = self.metrics
        m.inflight_messages.inc()
        m.inflight_bytes.inc(len(data))
        started = time.perf_counter()
        try:
            outcome = await super().handle(envelope, data)
        finally:
            m.inflight_messages.dec()
            m.inflight_bytes.dec(len(data))
        tenant = self._tenant(data) if m.tenant_label else None
        m.observe_outcome(outcome, tenant, time.perf_counter() - started)
        return outcome


def refresh_gauges(
    metrics: Metrics, scanner: Any, restarts: Callable[[], int], ready: Callable[[], int]
) -> None:
    """Copy the scanner's own counters into the gauges (called at each scrape)."""
    with contextlib.suppress(Exception):
        metrics.scan_queue.set(scanner.queued if scanner is not None else 0)
    metrics.worker_restarts.set(restarts())
    metrics.workers_ready.set(ready())
