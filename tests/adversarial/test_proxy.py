"""Hostile input at the SMTP edge, on real loopback sockets: evasions through the real workers
and engine are stopped with nothing raw in the reply or the log; DATA memory, in-flight bytes
and sessions per client are bounded; dot-unstuffing and pipelining stay correct."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from scanner.app import build_scanner
from scanner.model import Envelope
from scanner.ports import Scanner
from scanner.relay import SmtpRelay
from scanner.settings import ListenSettings, RelaySettings, ScanSettings
from scanner.smtp import start_smtp_server
from tests.adversarial.cases import Case, generate
from tests.fakes import FakeQuarantine, FakeScanner, fake_gateway
from tests.smtp.conftest import Sink, start_sink


@dataclass
class Edge:
    port: int
    sink: Sink
    quarantine: FakeQuarantine


async def _edge(scanner: Scanner, **listen: object) -> AsyncIterator[Edge]:
    sink, sink_server = await start_sink()
    relay = SmtpRelay(RelaySettings(host="127.0.0.1", port=sink.port, timeout=10, pool_size=2))
    quarantine = FakeQuarantine()
    settings = ListenSettings(host="127.0.0.1", port=0, timeout=20, **listen)  # type: ignore[arg-type]
    server = await start_smtp_server(fake_gateway(relay, scanner, quarantine), settings)
    yield Edge(server.sockets[0].getsockname()[1], sink, quarantine)
    server.close()
    await relay.close()
    sink_server.close()
    await server.wait_closed()
    await sink_server.wait_closed()


def send(port: int, data: bytes, envelope: Envelope | None = None) -> tuple[int, str]:
    env = envelope or Envelope("shop@example.com", ("you@example.org",))
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
        c.ehlo("client.test")
        c.mail(env.mail_from)
        for r in env.rcpt_tos:
            c.rcpt(r)
        code, text = c.data(data)
        return code, text.decode()


# -- evasions through the real engine (a representative subset) ------------------------------

SUBSET = [
    c
    for c in generate(seed=7, rounds=1)
    if c.name.split("#")[0]
    in {
        "from-display-name", "attachment-name", "envelope-mail-from", "envelope-rcpt-2", "html-href-query",
        "html-hidden-preheader-before-footer", "rfc822-base64", "variation-selectors", "spaced-digits",
        "line-wrap-quoted", "table-cells", "html-conditional-comment",
    }
]  # fmt: skip


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def real_edge() -> AsyncIterator[Edge]:
    scanner = build_scanner(ScanSettings(workers=1, nlp=False, timeout=60))
    await scanner.start()
    try:
        async for edge in _edge(scanner):
            yield edge
    finally:
        await scanner.close()


async def test_evasions_are_stopped_through_the_real_proxy(
    real_edge: Edge, caplog: pytest.LogCaptureFixture
) -> None:
    assert len(SUBSET) == 12
    # as `sendguard serve` configures it: aiosmtpd's own protocol trace (envelope lines) off
    caplog.set_level(logging.WARNING, logger="mail.log")
    with caplog.at_level(logging.DEBUG):
        replies = [await asyncio.to_thread(send, real_edge.port, c.data, c.envelope) for c in SUBSET]
    for case, (code, text) in zip(SUBSET, replies, strict=True):
        stopped = code == 550 or (code == 250 and "held for review" in text)
        assert stopped, (case.name, code)
        assert case.value not in text
    assert real_edge.sink.received == []
    leaked = [c.name for c in SUBSET if c.value in caplog.text]
    assert leaked == [], caplog.text[:3000]


async def test_a_file_name_never_reaches_the_reply_raw(real_edge: Edge) -> None:
    case: Case = next(c for c in SUBSET if c.name.startswith("attachment-name"))
    code, text = await asyncio.to_thread(send, real_edge.port, case.data)
    assert code == 550
    assert "attachment[2:SSN ***-**-****" in text and case.value not in text


# -- resource bounds (the fake scanner: the edge is what is tested) --------------------------


@pytest.fixture
async def small_edge() -> AsyncIterator[Edge]:
    async for edge in _edge(FakeScanner(), max_inflight_bytes=300_000, max_sessions_per_client=2):
        yield edge


async def test_data_beyond_the_inflight_budget_is_451_and_the_budget_is_released(small_edge: Edge) -> None:
    big = b"Subject: big\r\n\r\n" + b"x" * 70 + b"\r\n" * 0 + (b"y" * 998 + b"\r\n") * 400
    code, text = await asyncio.to_thread(send, small_edge.port, big)
    assert (code, text.split(" ")[0]) == (451, "4.3.2")
    code, _ = await asyncio.to_thread(send, small_edge.port, b"Subject: small\r\n\r\nhello\r\n")
    assert code == 250  # nothing stays charged after the refusal
    code, _ = await asyncio.to_thread(send, small_edge.port, b"Subject: small\r\n\r\nhello again\r\n")
    assert code == 250 and len(small_edge.sink.received) == 2


async def test_sessions_per_client_address_are_capped(small_edge: Edge) -> None:
    def open_three() -> list[int]:
        codes = []
        clients = [smtplib.SMTP(timeout=10) for _ in range(3)]
        for c in clients:
            codes.append(c.connect("127.0.0.1", small_edge.port)[0])
        for c in clients:
            c.close()
        return codes

    assert await asyncio.to_thread(open_three) == [220, 220, 421]


async def test_empty_lines_dot_stuffing_and_pipelining_survive_chunked_reading(small_edge: Edge) -> None:
    body = b"\r\n" * 50_000 + b".leading dot\r\n..two dots\r\n.\r\n".replace(b".\r\n", b"x\r\n") + b"end"
    message = b"Subject: lines\r\n\r\n" + body + b"\r\n"
    stuffed = message.replace(b"\r\n.", b"\r\n..")

    def raw_session() -> list[bytes]:
        with socket.create_connection(("127.0.0.1", small_edge.port), timeout=10) as s:
            f = s.makefile("rb")
            f.readline()
            s.sendall(b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
            for _ in range(4):
                while f.readline()[3:4] == b"-":
                    pass
            # the whole message, its end and the next command in one write (RFC 2920)
            s.sendall(stuffed + b".\r\nQUIT\r\n")
            return [f.readline(), f.readline()]

    replies = await asyncio.to_thread(raw_session)
    assert replies[0].startswith(b"250") and replies[1].startswith(b"221")
    received = small_edge.sink.received[0][3]
    assert received.endswith(message)  # relayed with our Received header in front
