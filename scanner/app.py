"""Wiring: the one module that chooses concrete classes and starts `sendguard serve`.

SMTP edge (aiosmtpd)  ->  Gateway  ->  Scanner (micro-batcher -> worker processes)
                                   ->  Relay (SmtpRelay upstream | OutboxRelay embedded)
                                   ->  Quarantine (SQLAlchemy store, encrypted)
Review console (Starlette/uvicorn) ->  same store + relay; embedded in `serve` (review.embedded)
                                       or its own process (`sendguard review`, `serve_console`)
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from scanner.admin import Readiness, create_admin_app, directory_writable, tcp_reachable
from scanner.events.outbox import SqlOutbox, Status
from scanner.events.service import EventsService, build_events, start_events
from scanner.logformat import configure_logging
from scanner.metrics import (
    MeteredGateway,
    MeteredQuarantine,
    MeteredRelay,
    MeteredScanner,
    Metrics,
    refresh_gauges,
)
from scanner.monitor import LoopLagMonitor, log_stats, report_stats
from scanner.policy_watch import PolicyHolder
from scanner.ports import QuarantineStore, Relay, Scanner
from scanner.quarantine.claims import claimed
from scanner.quarantine.engine import FileIdentity, sqlite_identity
from scanner.quarantine.guarded import GuardedQuarantine
from scanner.quarantine.model import QueueFilter
from scanner.quarantine.store import SqlQuarantineStore
from scanner.relay import OutboxRelay, SmtpRelay
from scanner.reports.reporter import Reporter
from scanner.review.app import ReviewServer
from scanner.scan.batcher import BatchingScanner
from scanner.scan.pool import WorkerPool
from scanner.settings import ScanSettings, Settings, describe_paths
from scanner.smtp import start_smtp_server

if TYPE_CHECKING:
    from scanner.review import ReviewServer

log = logging.getLogger("sendguard")


async def purge_periodically(store: QuarantineStore, every: float) -> None:
    """Retention: expire held mail past `quarantine.retention_days`, now and then every `every` s.

    The bytes are deleted for real by the store; a failure is logged and retried next time.
    Instances sharing one PostgreSQL take turns (`claimed`): one of them purges each round.
    """
    while True:
        try:
            if isinstance(store, SqlQuarantineStore):
                async with claimed(store.engine, "retention-purge") as mine:
                    if mine:
                        await store.purge_expired(datetime.now(UTC))
            else:
                await store.purge_expired(datetime.now(UTC))
        except Exception as exc:
            log.warning("retention purge failed: %s", type(exc).__name__)
        await asyncio.sleep(every)


def build_relay(settings: Settings) -> Relay:
    if settings.relay.host:
        return SmtpRelay(settings.relay, local_hostname=settings.listen.hostname)
    return OutboxRelay(settings.relay.outbox_dir)


def build_scanner(
    settings: ScanSettings, factory: str = "scanner.detect:build_engine", *, digest_key: str | None = None
) -> BatchingScanner:
    """The production scanner from settings; `await scanner.start()` before the first scan.

    `digest_key` (``tenants.digest_key``) goes to the workers over their local socket, so that
    they digest allowlistable values where the value is known (`scanner.digest`).
    """
    engine_kwargs: dict[str, object] = {
        "nlp": settings.nlp,
        "extra_recognizers": tuple(settings.extra_recognizers),
    }
    if digest_key is not None:
        engine_kwargs["digest_key"] = digest_key
    pool = WorkerPool(
        factory,
        engine_kwargs,
        workers=settings.workers,
        batch_timeout=settings.timeout,
        extract_kwargs={
            "max_depth": settings.max_depth,
            "max_text_bytes": settings.max_text_bytes,
            "attachments": settings.attachments,
            "cpu_budget": settings.cpu_budget,
        },
    )
    return BatchingScanner(
        pool,
        max_batch=settings.max_batch,
        max_wait_ms=settings.max_wait_ms,
        queue_limit=settings.queue_limit,
        timeout=settings.timeout,
    )


async def start_scanner(settings: ScanSettings, *, digest_key: str | None = None) -> Scanner | None:
    """The started scanner, or None when scanning is off (relay only, for comparison)."""
    if not settings.enabled:
        return None
    scanner = build_scanner(settings, digest_key=digest_key)
    await scanner.start()
    return scanner


async def serve(settings: Settings, *, stop: asyncio.Event | None = None, stats_every: float = 10.0) -> None:
    """Run the proxy (and the review console) until `stop` is set or SIGINT/SIGTERM."""
    from scanner.quarantine.store import open_store

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    policies = PolicyHolder(settings.policy_file)
    store = await open_store(settings.quarantine)
    relay = build_relay(settings)
    if isinstance(relay, OutboxRelay):  # the CLI may release into this outbox (same settings)
        relay.mark_served(settings.quarantine.url)
    key = settings.tenants.digest_key
    scanner = await start_scanner(settings.scan, digest_key=key.get_secret_value() if key else None)
    events = await start_events(settings, store, relay)
    metrics = Metrics(
        tenant_label=settings.admin.tenant_label, tenant_limit=settings.admin.tenant_label_limit
    )
    identity = sqlite_identity(settings.quarantine.url)
    gateway = MeteredGateway(
        metrics=metrics,
        scanner=MeteredScanner(scanner, metrics) if scanner is not None else None,
        policy=policies.current.default,
        policies=policies,
        relay=MeteredRelay(relay, metrics),
        # a hold and its message.held event commit together (`scanner.events.journal`)
        quarantine=MeteredQuarantine(
            GuardedQuarantine(events.journal, timeout=settings.quarantine.hold_timeout, identity=identity),
            metrics,
        ),
        hostname=settings.listen.hostname,
        tenant_header=settings.tenants.header or settings.tenant_header,
        reporter=Reporter(
            events.journal,
            settings.report,
            hostname=settings.listen.hostname,
            language_of=lambda tenant: policies.current.language_of(tenant),
        ),
    )
    monitor = LoopLagMonitor()
    stats = loop.create_task(report_stats(monitor, lambda: gateway.counters, stats_every))
    purger = loop.create_task(purge_periodically(store, every=3600))
    watcher = loop.create_task(policies.watch())
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGHUP, policies.reload)
    smtp_server = await start_smtp_server(gateway, settings.listen)
    admin = await start_admin(settings, metrics, scanner, store, identity) if settings.admin.enabled else None
    lag_probe = loop.create_task(metrics.sample_loop_lag())
    review = None
    if settings.review.enabled and settings.review.embedded:
        review = await start_console(settings, store, relay, events)
    elif settings.review.enabled:
        log.info("review console not embedded: run `sendguard review` as its own process")
    # Start-up objects (imports, settings, templates) live for the whole run: keep the cyclic GC
    # from walking them again and again while mail flows (fewer, shorter pauses on the loop).
    gc.collect()
    gc.freeze()
    monitor.start()  # after start-up (imports, migrations, uvicorn): lag while serving mail
    log.info(
        "sendguard ready: smtp %s:%d, scanning %s, upstream %s",
        settings.listen.host,
        settings.listen.port,
        "on" if scanner else "OFF",
        f"{settings.relay.host}:{settings.relay.port}" if settings.relay.host else settings.relay.outbox_dir,
    )
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        smtp_server.close()  # no new sessions; messages in flight finish before the seams close
        if not await gateway.drain(within=30):
            log.warning("shutdown: messages still in flight after 30 s; their clients get no reply and retry")
        await smtp_server.wait_closed()
        if review is not None:
            await review.stop()
        if admin is not None:
            await admin.stop()
        lag_probe.cancel()
        stats.cancel()
        purger.cancel()
        watcher.cancel()
        await events.stop()
        log_stats(monitor, gateway.counters)
        await monitor.stop()
        if scanner is not None:
            await scanner.close()
        await relay.close()
        await store.close()


async def start_console(
    settings: Settings, store: SqlQuarantineStore, relay: Relay, events: EventsService
) -> ReviewServer:
    """The review console on `review.host:port`, in the running loop, over `store` and `relay`;
    reviewers' decisions become events, the outbox and references are served (`events_api`)."""
    from scanner.review import create_app, serve_review
    from scanner.review.events_api import with_events

    app = create_app(store, relay, settings.review, hostname=settings.listen.hostname, journal=events.journal)
    app = with_events(app, events.outbox)
    server = await serve_review(app, settings.review.host, settings.review.port)
    log.info("review console on http://%s:%d/", settings.review.host, server.port)
    return server


async def serve_console(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """`sendguard review`: the console as its own process, on the same store and relay settings
    as `sendguard serve`, so that no page ever takes a moment from the SMTP event loop."""
    from scanner.quarantine.store import open_store

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    store = await open_store(settings.quarantine)
    relay = build_relay(settings)
    # no dispatcher here: `sendguard serve` sends what this process queues
    events = build_events(settings, store, relay)
    try:
        server = await start_console(settings, store, relay, events)
        try:
            await stop.wait()
        finally:
            await server.stop()
    finally:
        await relay.close()
        await store.close()


async def start_admin(
    settings: Settings,
    metrics: Metrics,
    scanner: Scanner | None,
    store: SqlQuarantineStore,
    identity: FileIdentity | None,
) -> ReviewServer:
    """The admin HTTP port: /metrics, /healthz, /readyz (see `scanner.admin`)."""
    from scanner.review.app import serve_review

    pool = scanner.pool if isinstance(scanner, BatchingScanner) else None
    workers = pool.size if isinstance(pool, WorkerPool) else 0

    def ready_workers() -> int:
        return pool.ready_workers() if isinstance(pool, WorkerPool) else 0

    async def workers_ready() -> bool:
        return scanner is None or ready_workers() == workers

    async def store_ready() -> bool:
        if identity is not None and identity.problem() is not None:
            return False
        async with store.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
        return True

    async def upstream_ready() -> bool:
        if settings.relay.host:
            return await tcp_reachable(settings.relay.host, settings.relay.port)
        return await directory_writable(str(settings.relay.outbox_dir))

    async def refresh() -> None:
        refresh_gauges(
            metrics,
            scanner,
            restarts=lambda: pool.restarts if isinstance(pool, WorkerPool) else 0,
            ready=ready_workers,
        )
        _, held = await store.list_held(QueueFilter(limit=1))
        metrics.held.set(held)
        # events and DSN reports waiting in the durable outbox (pending, incl. retries)
        metrics.webhook_backlog.set((await SqlOutbox(store).counts()).get(Status.PENDING, 0))

    readiness = Readiness({"workers": workers_ready, "store": store_ready, "upstream": upstream_ready})
    app = create_admin_app(metrics, readiness, refresh)
    return await serve_review(app, settings.admin.host, settings.admin.port, name="admin (metrics, health)")


def run(settings: Settings, *, config_file: Path | None = None, console_only: bool = False) -> None:
    """Entry point (`serve`, or `review` with `console_only`): uvloop when available."""
    configure_logging(settings.log_level, settings.log_format)
    log.info("%s", describe_paths(settings, config_file))
    # third-party loggers that would print SQL parameters, SMTP lines or request URLs at DEBUG:
    # never below INFO, whatever log_level says (the data we protect never reaches a log)
    for name in ("aiosqlite", "sqlalchemy.engine", "asyncpg", "uvicorn.access"):
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLogger(name).getEffectiveLevel()))
    # aiosmtpd logs ~6 INFO lines per message (peer, sender, each recipient): our own one line per
    # message says what matters, and those lines cost event-loop time on the hot path
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    main = serve_console(settings) if console_only else serve(settings)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        asyncio.run(main)
    else:
        uvloop.run(main)
