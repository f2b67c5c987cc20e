"""Envelope bytes are checked at the SMTP edge (RFC 5321 §4.1.2, RFC 6531 §3.3-3.4): a CR, LF,
NUL, invalid UTF-8, or non-ASCII without SMTPUTF8 in MAIL FROM / RCPT TO is refused there with a
5xx that names the problem, on a real loopback socket, and nothing reaches the gateway."""

from __future__ import annotations

import asyncio

import pytest

from scanner.envelope_check import address_problem, header_safe
from tests.smtp.conftest import Proxy


async def _dialogue(port: int, lines: list[bytes]) -> list[bytes]:
    """Send each command line raw (no client-side validation), return each reply's last line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    replies = []
    try:

        async def reply() -> bytes:
            while True:
                line = await asyncio.wait_for(reader.readline(), 10)
                if line[3:4] != b"-":
                    return line.rstrip(b"\r\n")

        await reply()  # banner
        for line in lines:
            writer.write(line + b"\r\n")
            await writer.drain()
            replies.append(await reply())
    finally:
        writer.close()
    return replies


@pytest.mark.parametrize(
    ("mail_from", "expected"),
    [
        (b"<a\x00b@shop.test>", b"501 5.1.7 Bad sender address syntax: contains a NUL byte"),
        (b"<a\rb@shop.test>", b"501 5.1.7 Bad sender address syntax: contains a CR"),
        (b"<\xff\xfe@shop.test>", b"501 5.1.7 Bad sender address syntax: contains invalid UTF-8"),
        (b"<a\x1bb@shop.test>", b"501 5.1.7 Bad sender address syntax: contains a control character (0x1b)"),
        ("<jos\u00e9@shop.test>".encode(), b"553 5.6.7 Non-ASCII sender address without SMTPUTF8 (RFC 6531)"),
    ],
)
async def test_bad_sender_refused_at_mail(proxy: Proxy, mail_from: bytes, expected: bytes) -> None:
    replies = await _dialogue(proxy.port, [b"EHLO client.test", b"MAIL FROM:" + mail_from])
    assert replies[1] == expected
    assert proxy.sink.received == [] and proxy.quarantine.held == []


@pytest.mark.parametrize(
    ("rcpt", "expected"),
    [
        (
            b"<x\xc3(@example.org>",
            b"501 5.1.3 Bad destination mailbox address syntax: contains invalid UTF-8",
        ),
        (b"<x\ry@example.org>", b"501 5.1.3 Bad destination mailbox address syntax: contains a CR"),
        (b"<x\x00@example.org>", b"501 5.1.3 Bad destination mailbox address syntax: contains a NUL byte"),
    ],
)
async def test_bad_recipient_refused_at_rcpt(proxy: Proxy, rcpt: bytes, expected: bytes) -> None:
    replies = await _dialogue(
        proxy.port,
        [b"EHLO client.test", b"MAIL FROM:<a@shop.test>", b"RCPT TO:" + rcpt, b"RCPT TO:<ok@example.org>"],
    )
    assert replies[1].startswith(b"250") and replies[2] == expected and replies[3].startswith(b"250")


async def test_utf8_address_with_smtputf8_is_taken(proxy: Proxy) -> None:
    replies = await _dialogue(
        proxy.port,
        [
            b"EHLO client.test",
            "MAIL FROM:<jos\u00e9@shop.test> SMTPUTF8".encode(),
            "RCPT TO:<\u00e9l\u00e8ve@example.org>".encode(),
        ],
    )
    assert replies[1].startswith(b"250") and replies[2].startswith(b"250")


def test_pure_check_and_header_safe() -> None:
    assert address_problem("a@b.test", smtputf8=False, role="sender") is None
    assert address_problem("", smtputf8=False, role="sender") is None  # the null reverse-path
    assert address_problem("a\nb@x", smtputf8=True, role="recipient") is not None
    reply = address_problem("536-22-8843\x00@x", smtputf8=True, role="sender")
    assert reply is not None and "536" not in reply  # never echoes the address
    assert header_safe("a\rb\n\x00c\udcff") == "a b  c\ufffd"
