"""RFC 3461 at the edge, on loopback: advertised, accepted, checked, kept, passed upstream."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator

import pytest

from scanner.model import Envelope
from scanner.relay import SmtpRelay
from scanner.settings import ListenSettings, RelaySettings
from scanner.smtp import start_smtp_server
from tests.smtp.conftest import Proxy
from tests.smtp.test_proxy import msg, send


class Recording:
    """A gateway stand-in that records the envelopes sendguard's edge built (a DSN-capable sink)."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle(self, envelope: Envelope, data: bytes) -> object:
        self.envelopes.append(envelope)

        class _Outcome:
            reply = "250 2.0.0 Ok"

        return _Outcome()


async def _start(gateway: object) -> tuple[asyncio.Server, int]:
    listen = ListenSettings(host="127.0.0.1", port=0, timeout=10)
    server = await start_smtp_server(gateway, listen)  # type: ignore[arg-type]
    return server, server.sockets[0].getsockname()[1]


@pytest.fixture
async def dsn_sink() -> AsyncIterator[tuple[Recording, int]]:
    rec = Recording()
    server, port = await _start(rec)
    yield rec, port
    server.close()
    await server.wait_closed()


async def test_ehlo_advertises_dsn(proxy: Proxy) -> None:
    def ehlo() -> bool:
        with smtplib.SMTP("127.0.0.1", proxy.port, timeout=10) as c:
            c.ehlo("x")
            return c.has_extn("dsn") and c.has_extn("size")

    assert await asyncio.to_thread(ehlo)


async def test_dsn_parameters_kept_with_case_and_per_recipient(dsn_sink: tuple[Recording, int]) -> None:
    rec, port = dsn_sink
    code, _ = await asyncio.to_thread(
        send,
        port,
        msg("hi"),
        ["a@example.org"],
        mail_options=["RET=HDRS", "ENVID=Qq+2B314"],
        rcpt_options=["NOTIFY=FAILURE,DELAY", "ORCPT=rfc822;A@Example.org"],
    )
    assert code == 250
    (env,) = rec.envelopes
    assert "RET=HDRS" in env.mail_options and "ENVID=Qq+2B314" in env.mail_options
    assert env.rcpt_options == (("NOTIFY=FAILURE,DELAY", "ORCPT=rfc822;A@Example.org"),)


@pytest.mark.parametrize(
    ("mail_options", "rcpt_options", "code", "text"),
    [
        (["RET=NONE"], [], 501, "5.5.4 Invalid RET"),
        (["ENVID=a=b"], [], 501, "5.5.4 Invalid ENVID"),
        (["RET=FULL", "RET=HDRS"], [], 501, "5.5.4 Duplicate RET"),
        ([], ["NOTIFY=NEVER,DELAY"], 501, "5.5.4 Invalid NOTIFY"),
        ([], ["ORCPT=nosemicolon"], 501, "5.5.4 Invalid ORCPT"),
        ([], ["XFOO=1"], 555, ""),
    ],
)
async def test_bad_dsn_parameters_get_precise_errors(
    proxy: Proxy, mail_options: list[str], rcpt_options: list[str], code: int, text: str
) -> None:
    got, reply = await asyncio.to_thread(
        send, proxy.port, msg("hi"), mail_options=mail_options, rcpt_options=rcpt_options
    )
    assert got == code and reply.startswith(text)
    # and the session and server stay usable
    assert (await asyncio.to_thread(send, proxy.port, msg("again")))[0] == 250


async def test_dsn_parameters_need_ehlo(proxy: Proxy) -> None:
    def helo() -> int:
        with smtplib.SMTP("127.0.0.1", proxy.port, timeout=10) as c:
            c.helo("x")
            code, _ = c.docmd("MAIL FROM:<a@example.com> RET=HDRS")
            return code

    assert await asyncio.to_thread(helo) in (501, 555)


async def test_relay_passes_dsn_on_when_upstream_advertises_it(dsn_sink: tuple[Recording, int]) -> None:
    rec, port = dsn_sink
    relay = SmtpRelay(RelaySettings(host="127.0.0.1", port=port, timeout=5))
    env = Envelope(
        "a@example.com",
        ("b@example.org", "c@example.org"),
        ("RET=HDRS", "ENVID=E+2B1"),
        (("NOTIFY=NEVER",), ("NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;C@example.org")),
    )
    try:
        await relay.deliver(env, msg("hi"))
    finally:
        await relay.close()
    (got,) = rec.envelopes
    assert {"RET=HDRS", "ENVID=E+2B1"} <= set(got.mail_options)
    assert got.rcpt_options == env.rcpt_options


async def test_relay_drops_dsn_when_upstream_lacks_it(proxy: Proxy) -> None:
    # the plain aiosmtpd sink advertises no DSN: it would answer 555 to NOTIFY/RET
    env = Envelope("a@example.com", ("b@example.org",), ("RET=HDRS",), (("NOTIFY=NEVER",),))
    await proxy.relay.deliver(env, msg("hi"))
    ((_, _, options, _),) = proxy.sink.received
    assert not any(o.startswith("RET=") for o in options)


async def test_dsn_through_sendguard_reaches_a_dsn_upstream(dsn_sink: tuple[Recording, int]) -> None:
    """client (DSN params) -> sendguard -> DSN-capable upstream: accepted and passed on."""
    from tests.fakes import FakeQuarantine, FakeScanner, fake_gateway

    rec, port = dsn_sink
    relay = SmtpRelay(RelaySettings(host="127.0.0.1", port=port, timeout=5))
    server, front = await _start(fake_gateway(relay, FakeScanner(), FakeQuarantine()))
    try:
        code, _ = await asyncio.to_thread(
            send, front, msg("hello"), mail_options=["RET=FULL", "ENVID=x1"], rcpt_options=["NOTIFY=FAILURE"]
        )
    finally:
        server.close()
        await server.wait_closed()
        await relay.close()
    assert code == 250
    (got,) = rec.envelopes
    assert {"RET=FULL", "ENVID=x1"} <= set(got.mail_options)
    assert got.rcpt_options == (("NOTIFY=FAILURE",),)


async def test_longest_orcpt_and_envid_fit_the_command_line(dsn_sink: tuple[Recording, int]) -> None:
    """RFC 3461 §4.2/§4.4 maxima: a 500-character ORCPT makes RCPT longer than RFC 5321's 512."""
    rec, port = dsn_sink
    orcpt = "ORCPT=rfc822;" + "a" * 480 + "@example.org"
    code, _ = await asyncio.to_thread(
        send, port, msg("hi"), mail_options=["ENVID=" + "e" * 100, "RET=HDRS"], rcpt_options=[orcpt]
    )
    assert code == 250
    assert rec.envelopes[0].rcpt_options == ((orcpt,),)
