"""SMTP smuggling: only <CRLF>.<CRLF> ends DATA, so a hidden second message is never relayed alone.

A sender who hides ``<LF>.<LF>MAIL FROM...`` inside a message must not get a second,
unscanned message past us: the whole thing is one message, scanned as one.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from tests.smtp.conftest import Proxy

SMUGGLED = b"MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\nSubject: smuggled\r\n\r\nFAKE-SSN\r\n"


@pytest.mark.parametrize("end", [b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r.\n", b"\r\n.\n"])
async def test_bare_line_endings_do_not_end_data(proxy: Proxy, end: bytes) -> None:
    def talk() -> bytes:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as s:
            f = s.makefile("rb")
            f.readline()
            for cmd in (
                b"EHLO x\r\n",
                b"MAIL FROM:<a@example.com>\r\n",
                b"RCPT TO:<b@example.org>\r\n",
                b"DATA\r\n",
            ):
                s.sendall(cmd)
                line = f.readline()
                while line[3:4] == b"-":
                    line = f.readline()
            s.sendall(b"Subject: hi\r\n\r\nhello" + end + SMUGGLED + b".\r\n")
            reply = f.readline()
            s.sendall(b"QUIT\r\n")
            return reply

    reply = await asyncio.to_thread(talk)
    # the smuggled text is part of the one message, which contains FAKE-SSN: rejected as a whole
    assert reply.startswith(b"550"), reply
    assert proxy.sink.received == []
