"""A minimal SMTP `Relay` (aiosmtplib) and a loopback aiosmtpd sink, for the real-browser test.

Stands in for `scanner.relay.SmtpRelay` until that lands on main.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import aiosmtplib
from aiosmtpd.controller import Controller

from scanner._errors import RelayPermanentError, RelayTemporaryError
from scanner.model import Envelope


class AiosmtplibRelay:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    async def deliver(self, envelope: Envelope, data: bytes) -> None:
        try:
            await aiosmtplib.send(
                data,
                sender=envelope.mail_from,
                recipients=list(envelope.rcpt_tos),
                hostname=self.host,
                port=self.port,
                start_tls=False,
                timeout=10,
            )
        except aiosmtplib.SMTPResponseException as exc:
            if 400 <= exc.code < 500:
                raise RelayTemporaryError("upstream 4xx") from exc
            raise RelayPermanentError("upstream 5xx", code=exc.code) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise RelayTemporaryError("upstream unreachable") from exc

    async def close(self) -> None:
        pass


class Sink:
    """aiosmtpd handler that keeps every message it accepts: (mail_from, rcpt_tos, bytes)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.received.append(
                (envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
            )
        return "250 2.0.0 Ok: queued"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        assert isinstance(port, int)
        return port


def start_sink() -> tuple[Controller, Sink]:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, sink
