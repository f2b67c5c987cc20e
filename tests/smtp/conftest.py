"""Loopback fixtures: a real aiosmtpd sink upstream and sendguard's SMTP server in front of it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from scanner.relay import SmtpRelay
from scanner.settings import ListenSettings, RelaySettings
from scanner.smtp import start_smtp_server
from tests.fakes import FakeQuarantine, FakeScanner, fake_gateway


@dataclass
class Sink:
    """An upstream MTA on loopback that records what it accepted (or refuses, when told)."""

    port: int = 0
    received: list[tuple[str, list[str], list[str], bytes]] = field(default_factory=list)
    refuse_rcpt: str | None = None  # e.g. "550 5.1.1 No such user"
    refuse_data: str | None = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse_rcpt and address.startswith("bad"):
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse_data:
            return self.refuse_data
        self.received.append(
            (
                envelope.mail_from or "",
                list(envelope.rcpt_tos),
                list(envelope.mail_options),
                bytes(envelope.original_content or b""),
            )
        )
        return "250 OK sink"


async def start_sink() -> tuple[Sink, asyncio.Server]:
    sink = Sink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="sink.test", enable_SMTPUTF8=True), "127.0.0.1", 0
    )
    sink.port = server.sockets[0].getsockname()[1]
    return sink, server


@dataclass
class Proxy:
    port: int
    sink: Sink
    scanner: FakeScanner
    quarantine: FakeQuarantine
    relay: SmtpRelay
    sink_server: asyncio.Server


@pytest.fixture
async def proxy() -> AsyncIterator[Proxy]:
    sink, sink_server = await start_sink()
    relay = SmtpRelay(RelaySettings(host="127.0.0.1", port=sink.port, timeout=5, pool_size=4))
    scanner, quarantine = FakeScanner(), FakeQuarantine()
    gateway = fake_gateway(relay, scanner, quarantine)
    listen = ListenSettings(host="127.0.0.1", port=0, max_message_size=200_000, max_sessions=5, timeout=10)
    server = await start_smtp_server(gateway, listen)
    port = server.sockets[0].getsockname()[1]
    yield Proxy(port, sink, scanner, quarantine, relay, sink_server)
    server.close()
    await relay.close()
    sink_server.close()
    await server.wait_closed()
    await sink_server.wait_closed()
