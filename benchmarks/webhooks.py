"""Webhook delivery from the outbox: latency, backlog drain rate, and SMTP latency while the
endpoint is down (same run, same process, same database).

    python -m benchmarks.webhooks [--events 300] [--backlog 3000] [--mails 300] [--url DB_URL]

1. latency: one event at a time is queued through the `Journal` (as the gateway does) while the
   `Dispatcher` runs; time from the commit to the receiver verifying its signature.
2. drain: `--backlog` events queued while no dispatcher runs, then one starts: events/s until
   the receiver has them all (batch_size 20, the default, and 100).
3. SMTP: rejected mail through the real edge + gateway + journal (reply mode: each 550 waits for
   the record and event commit), endpoint up, then down (connection refused) with the backlog
   being retried; p50/p95 per transaction, and the ratio down/up.

The receiver is an HTTP/1.1 keep-alive server on loopback that verifies every signature with the
`standardwebhooks` package, in the same event loop (its cost is included, as a fast endpoint's).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiosmtplib
from pydantic import SecretStr
from standardwebhooks import Webhook

from scanner.events.dispatch import Dispatcher
from scanner.events.journal import Journal
from scanner.events.model import EventType, event
from scanner.events.outbox import SqlOutbox
from scanner.gateway import Gateway
from scanner.model import Confidence, Envelope, Finding, Group, Scanned
from scanner.policy import Policy
from scanner.quarantine.store import SqlQuarantineStore, open_store
from scanner.relay import OutboxRelay
from scanner.reports.reporter import Reporter
from scanner.settings import ListenSettings, QuarantineSettings, ReportSettings, WebhookSettings
from scanner.smtp import start_smtp_server

SECRET = "whsec_" + base64.b64encode(b"benchmark-secret-of-32-bytes-ok!").decode()
SSN = Finding("US_SSN", Group.GOVERNMENT_ID, "body[1]", 5, 16, 0.9, Confidence.HIGH, "***-**-8843")
MAIL = b"From: a@example.com\r\nTo: b@example.org\r\nSubject: x\r\n\r\nSSN 536-22-8843\r\n"


class Receiver:
    def __init__(self) -> None:
        self.port = 0
        self.arrived: dict[str, float] = {}
        self._server: asyncio.Server | None = None
        self._hook = Webhook(SECRET)
        self._writers: set[asyncio.StreamWriter] = set()
        self.changed = asyncio.Event()

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):  # keep-alive connections go too
                writer.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")[1:]
                headers = {
                    k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines if ln)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self._hook.verify(body, headers)
                self.arrived.setdefault(headers["webhook-id"], time.perf_counter())
                self.changed.set()
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def wait_for(self, n: int) -> None:
        while len(self.arrived) < n:
            self.changed.clear()
            await self.changed.wait()


class MarkerScanner:
    """Finds an SSN wherever the body says SSN: detection cost out of the picture."""

    async def scan(self, message: bytes, envelope: Envelope | None = None) -> Scanned:
        return Scanned((SSN,) if b"SSN" in message else ())

    async def close(self) -> None:
        return None


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(values: list[float]) -> str:
    return f"p50 {_pct(values, 0.5) * 1000:.2f} / p95 {_pct(values, 0.95) * 1000:.2f} / max {max(values) * 1000:.2f} ms"


async def latency(store: SqlQuarantineStore, receiver: Receiver, conf: WebhookSettings, n: int) -> None:
    box = SqlOutbox(store)
    dispatcher = Dispatcher(box, conf, OutboxRelay(Path(tempfile.mkdtemp())), store.sealer)
    journal = Journal(store, conf, on_queued=dispatcher.wake)
    task = asyncio.create_task(dispatcher.run())
    waits: list[float] = []
    try:
        for i in range(n):
            ev = event(EventType.REJECTED, f"LAT{i}", "acme", datetime.now(UTC), (SSN,))
            await journal.emit(ev)
            queued = time.perf_counter()
            await receiver.wait_for(len(receiver.arrived) + 1)
            waits.append(receiver.arrived[ev.id] - queued)
    finally:
        task.cancel()
        await dispatcher.close()
    print(f"1. delivery latency, commit -> verified at the receiver ({n} events): {_ms(waits)}")


async def drain(
    store: SqlQuarantineStore, receiver: Receiver, conf: WebhookSettings, n: int, batch: int
) -> None:
    box = SqlOutbox(store)
    journal = Journal(store, conf)
    for i in range(n):  # queued while no dispatcher runs (sendguard down, or the endpoint was)
        await journal.emit(event(EventType.HELD, f"B{batch}-{i}", "acme", datetime.now(UTC), (SSN,)))
    before = len(receiver.arrived)
    dispatcher = Dispatcher(
        box,
        conf.model_copy(update={"batch_size": batch}),
        OutboxRelay(Path(tempfile.mkdtemp())),
        store.sealer,
    )
    started = time.perf_counter()
    task = asyncio.create_task(dispatcher.run())
    try:
        await receiver.wait_for(before + n)
    finally:
        task.cancel()
        await dispatcher.close()
    took = time.perf_counter() - started
    print(f"2. backlog drain, batch_size {batch:>3}: {n} events in {took:.2f} s = {n / took:,.0f} events/s")


async def smtp_phase(port: int, n: int) -> list[float]:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30)
    await client.connect()
    out: list[float] = []
    try:
        for _ in range(n):
            started = time.perf_counter()
            await client.mail("a@example.com")
            await client.rcpt("b@example.org")
            try:
                await client.data(MAIL)
            except aiosmtplib.SMTPDataError as exc:
                assert exc.code == 550, exc
            out.append(time.perf_counter() - started)
    finally:
        client.close()
    return out


async def smtp(
    store: SqlQuarantineStore, receiver: Receiver, conf: WebhookSettings, n: int, backlog: int
) -> None:
    box = SqlOutbox(store)
    dispatcher = Dispatcher(box, conf, OutboxRelay(Path(tempfile.mkdtemp())), store.sealer)
    journal = Journal(store, conf, on_queued=dispatcher.wake)
    gateway = Gateway(
        scanner=MarkerScanner(),
        policy=Policy.default(),
        relay=OutboxRelay(Path(tempfile.mkdtemp())),
        quarantine=journal,
        hostname="bench",
        reporter=Reporter(journal, ReportSettings(mode="reply"), hostname="bench"),
    )
    server = await start_smtp_server(gateway, ListenSettings(host="127.0.0.1", port=0))
    port = server.sockets[0].getsockname()[1]
    task = asyncio.create_task(dispatcher.run())
    try:
        await smtp_phase(port, 20)  # warm-up
        up = await smtp_phase(port, n)
        await receiver.down()
        for i in range(backlog):  # a backlog being retried against a dead endpoint meanwhile
            await journal.emit(event(EventType.HELD, f"D{i}", "acme", datetime.now(UTC)))
        down = await smtp_phase(port, n)
        retried = dispatcher.counters.get("retried", 0)
    finally:
        task.cancel()
        await dispatcher.close()
        server.close()
        await server.wait_closed()
    print(f"3. SMTP reject transaction (MAIL+RCPT+DATA, 550 after record + event commit), {n} each:")
    print(f"   endpoint up:   {_ms(up)}")
    print(f"   endpoint down: {_ms(down)}   ({retried} failed delivery attempts meanwhile)")
    print(f"   down / up p50: {statistics.median(down) / statistics.median(up):.2f}x")


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp())
    url = args.url or f"sqlite+aiosqlite:///{tmp}/q.db"
    store = await open_store(QuarantineSettings(url=url, key_file=tmp / "q.key"))
    receiver = Receiver()
    await receiver.up()
    conf = WebhookSettings(
        url=f"http://127.0.0.1:{receiver.port}/hooks",
        secret=SecretStr(SECRET),
        min_backoff=0.2,
        max_backoff=1.0,
        poll_interval=0.5,
    )
    print(f"database: {url.split('://')[0]}")
    try:
        await latency(store, receiver, conf, args.events)
        for batch in (20, 100):
            await drain(store, receiver, conf, args.backlog, batch)
        await smtp(store, receiver, conf, args.mails, args.backlog)
    finally:
        await receiver.down()
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--backlog", type=int, default=3000)
    parser.add_argument("--mails", type=int, default=300)
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file)")
    asyncio.run(main(parser.parse_args()))
