"""A loopback aiosmtpd sink (the upstream) for the real-browser test."""

from __future__ import annotations

import socket
import threading
from typing import Any

from aiosmtpd.controller import Controller


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
