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

from scanner.gateway import Gateway
from scanner.monitor import LoopLagMonitor, log_stats, report_stats
from scanner.policy import Policy
from scanner.ports import QuarantineStore, Relay, Scanner
from scanner.quarantine.engine import sqlite_identity
from scanner.quarantine.guarded import GuardedQuarantine
from scanner.relay import OutboxRelay, SmtpRelay
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
    """
    while True:
        try:
            await store.purge_expired(datetime.now(UTC))
        except Exception as exc:
            log.warning("retention purge failed: %s", type(exc).__name__)
        await asyncio.sleep(every)


def build_relay(settings: Settings) -> Relay:
    if settings.relay.host:
        return SmtpRelay(settings.relay, local_hostname=settings.listen.hostname)
    return OutboxRelay(settings.relay.outbox_dir)


def build_scanner(settings: ScanSettings, factory: str = "scanner.detect:build_engine") -> BatchingScanner:
    """The production scanner from settings; `await scanner.start()` before the first scan."""
    pool = WorkerPool(
        factory,
        {"nlp": settings.nlp, "extra_recognizers": tuple(settings.extra_recognizers)},
        workers=settings.workers,
        batch_timeout=settings.timeout,
        extract_kwargs={
            "max_depth": settings.max_depth,
            "max_text_bytes": settings.max_text_bytes,
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


async def start_scanner(settings: ScanSettings) -> Scanner | None:
    """The started scanner, or None when scanning is off (relay only, for comparison)."""
    if not settings.enabled:
        return None
    scanner = build_scanner(settings)
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

    policy = Policy.from_file(settings.policy_file)
    store = await open_store(settings.quarantine)
    relay = build_relay(settings)
    if isinstance(relay, OutboxRelay):  # the CLI may release into this outbox (same settings)
        relay.mark_served(settings.quarantine.url)
    scanner = await start_scanner(settings.scan)
    gateway = Gateway(
        scanner=scanner,
        policy=policy,
        relay=relay,
        quarantine=GuardedQuarantine(
            store,
            timeout=settings.quarantine.hold_timeout,
            identity=sqlite_identity(settings.quarantine.url),
        ),
        hostname=settings.listen.hostname,
        tenant_header=settings.tenant_header,
    )
    monitor = LoopLagMonitor()
    stats = loop.create_task(report_stats(monitor, lambda: gateway.counters, stats_every))
    purger = loop.create_task(purge_periodically(store, every=3600))
    smtp_server = await start_smtp_server(gateway, settings.listen)
    review = None
    if settings.review.enabled and settings.review.embedded:
        review = await start_console(settings, store, relay)
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
        stats.cancel()
        purger.cancel()
        log_stats(monitor, gateway.counters)
        await monitor.stop()
        if scanner is not None:
            await scanner.close()
        await relay.close()
        await store.close()


async def start_console(settings: Settings, store: QuarantineStore, relay: Relay) -> ReviewServer:
    """The review console on `review.host:port`, in the running loop, over `store` and `relay`."""
    from scanner.review import create_app, serve_review

    app = create_app(store, relay, settings.review, hostname=settings.listen.hostname)
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
    try:
        server = await start_console(settings, store, relay)
        try:
            await stop.wait()
        finally:
            await server.stop()
    finally:
        await relay.close()
        await store.close()


def run(settings: Settings, *, config_file: Path | None = None, console_only: bool = False) -> None:
    """Entry point (`serve`, or `review` with `console_only`): uvloop when available."""
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
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
