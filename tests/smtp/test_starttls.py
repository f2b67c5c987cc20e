"""Inbound STARTTLS (RFC 3207) with a trustme certificate, and require_starttls."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme

from scanner.settings import ListenSettings
from scanner.smtp import start_smtp_server
from tests.fakes import FakeQuarantine, FakeRelay, FakeScanner, fake_gateway


@pytest.fixture
async def tls_proxy(tmp_path: Path) -> AsyncIterator[tuple[int, FakeRelay, ssl.SSLContext]]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "chain.pem"))
    relay = FakeRelay()
    gateway = fake_gateway(relay, FakeScanner(), FakeQuarantine())
    listen = ListenSettings(
        host="127.0.0.1",
        port=0,
        tls_cert=tmp_path / "chain.pem",
        tls_key=tmp_path / "chain.pem",
        require_starttls=True,
    )
    server = await start_smtp_server(gateway, listen)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    yield server.sockets[0].getsockname()[1], relay, client_ctx
    server.close()
    await server.wait_closed()


async def test_starttls_then_mail_is_relayed(tls_proxy: tuple[int, FakeRelay, ssl.SSLContext]) -> None:
    port, relay, ctx = tls_proxy

    def send() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as c:
            c.ehlo("x")
            assert c.has_extn("starttls")
            c.starttls(context=ctx)
            c.ehlo("x")
            c.sendmail("a@example.com", ["b@example.org"], b"Subject: hi\r\n\r\nhello\r\n")

    await asyncio.to_thread(send)
    assert len(relay.delivered) == 1


async def test_mail_before_starttls_is_refused_when_required(
    tls_proxy: tuple[int, FakeRelay, ssl.SSLContext],
) -> None:
    port, relay, _ = tls_proxy

    def send() -> tuple[int, bytes]:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as c:
            c.ehlo("x")
            return c.mail("a@example.com")

    code, text = await asyncio.to_thread(send)
    assert code == 530 and b"STARTTLS" in text.upper()
    assert relay.delivered == []
