"""The admin HTTP port of `sendguard serve` (default 127.0.0.1:9025): `/metrics`, `/healthz`, `/readyz`.

- ``/metrics``: Prometheus text format (`scanner.metrics`); gauges read from the scanner, the
  pool and the store at scrape time.
- ``/healthz``: 200 while the process serves HTTP at all (liveness: restart me if this fails).
- ``/readyz``: 200 only when this instance can take mail now: scanner workers loaded, the
  quarantine store answers, the upstream accepts a TCP connection (or the outbox is writable);
  else 503 with the failing checks by name. A load balancer or Kubernetes routes no new
  sessions to an instance that is not ready; sessions already open finish.

Answers carry names and numbers, never a message, an address or a value. Bind it to loopback
or a private interface: it has no authentication.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from scanner.metrics import Metrics

log = logging.getLogger("sendguard.admin")

Check = Callable[[], Awaitable[bool]]
CHECK_TIMEOUT = 2.0
CACHE_SECONDS = 1.0  # probes every second from several places cost one check


@dataclass
class Readiness:
    """Named async checks, each bounded by CHECK_TIMEOUT, results cached for CACHE_SECONDS."""

    checks: dict[str, Check]
    _at: float = -1e9
    _last: dict[str, bool] | None = None
    _lock: asyncio.Lock | None = None

    async def _one(self, check: Check) -> bool:
        try:
            return await asyncio.wait_for(check(), CHECK_TIMEOUT)
        except Exception:
            return False

    async def results(self) -> dict[str, bool]:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._last is None or time.monotonic() - self._at > CACHE_SECONDS:
                names = list(self.checks)
                values = await asyncio.gather(*(self._one(self.checks[n]) for n in names))
                self._last = dict(zip(names, values, strict=True))
                self._at = time.monotonic()
            return dict(self._last)


async def tcp_reachable(host: str, port: int) -> bool:
    """The upstream accepts a connection (closed at once, nothing sent)."""
    _, writer = await asyncio.open_connection(host, port)
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()
    return True


async def directory_writable(path: str) -> bool:
    return os.access(path, os.W_OK | os.X_OK)


def create_admin_app(
    metrics: Metrics, readiness: Readiness, refresh: Callable[[], Awaitable[None]]
) -> Starlette:
    async def metrics_endpoint(request: Request) -> Response:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(refresh(), CHECK_TIMEOUT)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(request: Request) -> Response:
        results = await readiness.results()
        ready = all(results.values())
        return JSONResponse({"ready": ready, "checks": results}, status_code=200 if ready else 503)

    return Starlette(
        routes=[
            Route("/metrics", metrics_endpoint),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ]
    )
