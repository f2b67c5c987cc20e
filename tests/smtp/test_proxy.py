"""smtplib client -> sendguard -> aiosmtpd sink, all on loopback sockets."""

from __future__ import annotations

import asyncio
import smtplib
import socket

import pytest

from tests.smtp.conftest import Proxy


def msg(body: str, subject: str = "Hello") -> bytes:
    return (
        f"From: shop@example.com\r\nTo: client@example.org\r\nSubject: {subject}\r\n"
        f"Message-ID: <1@example.com>\r\n\r\n{body}\r\n"
    ).encode()


def send(port: int, data: bytes, rcpts: list[str] | None = None, **kw: object) -> tuple[int, str]:
    """Send one message; return the final (code, text) of the transaction."""
    rcpts = rcpts or ["client@example.org"]
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as c:
        c.ehlo("client.test")
        code, text = c.mail("shop@example.com", list(kw.get("mail_options", [])))  # type: ignore[arg-type]
        if code != 250:
            return code, text.decode()
        for r in rcpts:
            code, text = c.rcpt(r, list(kw.get("rcpt_options", [])))  # type: ignore[arg-type]
            if code >= 400:
                return code, text.decode()
        code, text = c.data(data)
        return code, text.decode()


async def test_clean_mail_relayed_upstream_with_envelope_kept(proxy: Proxy) -> None:
    code, text = await asyncio.to_thread(
        send,
        proxy.port,
        msg("Your order has shipped."),
        ["a@example.org", "b@example.org"],
        mail_options=["BODY=8BITMIME"],
    )
    assert code == 250, text
    ((mail_from, rcpts, options, data),) = proxy.sink.received
    assert mail_from == "shop@example.com" and rcpts == ["a@example.org", "b@example.org"]
    assert "BODY=8BITMIME" in options
    assert any(o.startswith("SIZE=") for o in options)  # recomputed for the bytes we send
    assert data.startswith(b"Received: from client.test ([127.0.0.1])")
    assert data.endswith(msg("Your order has shipped."))


async def test_unadvertised_rcpt_parameters_are_refused_with_555(proxy: Proxy) -> None:
    # an extension we do not advertise: an unknown parameter (RFC 5321 §4.1.1.11)
    code, _ = await asyncio.to_thread(send, proxy.port, msg("hi"), rcpt_options=["XFOO=1"])
    assert code == 555 and proxy.sink.received == []


async def test_ehlo_advertises_size(proxy: Proxy) -> None:
    def ehlo() -> str:
        with smtplib.SMTP("127.0.0.1", proxy.port, timeout=10) as c:
            c.ehlo("x")
            return c.esmtp_features.get("size", "")

    assert await asyncio.to_thread(ehlo) == "200000"


async def test_reject_is_550_571_with_reference_and_masked_values(proxy: Proxy) -> None:
    code, text = await asyncio.to_thread(send, proxy.port, msg("SSN FAKE-SSN"))
    assert code == 550
    assert text.startswith("5.7.1 Message refused")
    assert "US_SSN (government_id) in body[1]: ***-**-0000" in text
    assert "FAKE-SSN" not in text
    assert proxy.sink.received == []


async def test_tagged_mail_carries_headers(proxy: Proxy) -> None:
    code, _ = await asyncio.to_thread(send, proxy.port, msg("FAKE-WEAK"))
    assert code == 250
    data = proxy.sink.received[0][3]
    assert b"PII-Scan-Result: tag" in data


async def test_hold_answers_250_only_after_the_quarantine_has_it(proxy: Proxy) -> None:
    code, text = await asyncio.to_thread(send, proxy.port, msg("FAKE-MEDICAL"))
    assert code == 250 and "held for review" in text
    assert len(proxy.quarantine.held) == 1 and proxy.sink.received == []


async def test_quarantine_failure_is_451_and_nothing_relayed(proxy: Proxy) -> None:
    proxy.quarantine.fail = True
    code, _ = await asyncio.to_thread(send, proxy.port, msg("FAKE-MEDICAL"))
    assert code == 451 and proxy.sink.received == []


async def test_upstream_down_gives_451_441_then_recovers(proxy: Proxy) -> None:
    proxy.sink_server.close()
    await proxy.sink_server.wait_closed()
    code, text = await asyncio.to_thread(send, proxy.port, msg("hello"))
    assert (code, text[:5]) == (451, "4.4.1")
    # upstream back on the same port: the same message goes through on retry
    loop = asyncio.get_running_loop()
    from aiosmtpd.smtp import SMTP

    server = await loop.create_server(lambda: SMTP(proxy.sink), "127.0.0.1", proxy.sink.port)
    try:
        code, _ = await asyncio.to_thread(send, proxy.port, msg("hello"))
        assert code == 250 and len(proxy.sink.received) == 1
    finally:
        server.close()


async def test_upstream_refusing_a_recipient_fails_the_whole_message(proxy: Proxy) -> None:
    proxy.sink.refuse_rcpt = "550 5.1.1 No such user"
    code, text = await asyncio.to_thread(send, proxy.port, msg("hi"), ["ok@example.org", "bad@example.org"])
    assert code == 550 and "No such user" in text
    assert proxy.sink.received == []


async def test_upstream_tempfail_on_data_is_a_4xx(proxy: Proxy) -> None:
    proxy.sink.refuse_data = "452 4.3.1 Insufficient system storage"
    code, _ = await asyncio.to_thread(send, proxy.port, msg("hi"))
    assert code == 451


async def test_scanner_down_is_a_4xx_never_a_pass(proxy: Proxy) -> None:
    proxy.scanner.fail = True
    code, _ = await asyncio.to_thread(send, proxy.port, msg("FAKE-SSN"))
    assert code == 451 and proxy.sink.received == []


async def test_oversize_declared_in_mail_from_is_552_534(proxy: Proxy) -> None:
    code, text = await asyncio.to_thread(send, proxy.port, msg("x"), mail_options=["SIZE=999999"])
    assert code == 552 and text.startswith("5.3.4")


async def test_oversize_data_is_552_534_and_session_survives(proxy: Proxy) -> None:
    def big() -> tuple[tuple[int, bytes], tuple[int, bytes]]:
        with smtplib.SMTP("127.0.0.1", proxy.port, timeout=10) as c:
            c.ehlo("x")
            c.mail("a@example.com")
            c.rcpt("b@example.org")
            first = c.data(msg("y" * 70 + "\r\n") * 4000)
            c.mail("a@example.com")
            c.rcpt("b@example.org")
            second = c.data(msg("small"))
            return first, second

    first, second = await asyncio.to_thread(big)
    assert first[0] == 552 and first[1].startswith(b"5.3.4")
    assert second[0] == 250 and len(proxy.sink.received) == 1


async def test_pooled_upstream_connection_is_reused(proxy: Proxy) -> None:
    for _ in range(5):
        code, _ = await asyncio.to_thread(send, proxy.port, msg("hi"))
        assert code == 250
    assert len(proxy.sink.received) == 5
    assert proxy.relay._idle.qsize() == 1  # one persistent connection served all five


async def test_sessions_beyond_the_limit_get_421(proxy: Proxy) -> None:
    socks = [socket.create_connection(("127.0.0.1", proxy.port)) for _ in range(5)]
    try:
        for s in socks:
            assert (await asyncio.to_thread(s.recv, 100)).startswith(b"220")
        extra = socket.create_connection(("127.0.0.1", proxy.port))
        banner = await asyncio.to_thread(extra.recv, 100)
        assert banner.startswith(b"421 4.3.2")
        extra.close()
    finally:
        for s in socks:
            s.close()


@pytest.mark.parametrize(
    "line",
    [b"HELO\r\n", b"MAIL FROM:<a@b>\r\n", b"DATA\r\n", b"\x00\xff garbage\r\n", b"A" * 2000 + b"\r\n"],
)
async def test_broken_clients_get_precise_errors_and_server_stays_up(proxy: Proxy, line: bytes) -> None:
    def talk() -> bytes:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as s:
            s.recv(200)
            s.sendall(line)
            return s.recv(200)

    reply = await asyncio.to_thread(talk)
    assert reply[:1] in (b"5",), reply
    code, _ = await asyncio.to_thread(send, proxy.port, msg("still alive"))
    assert code == 250
