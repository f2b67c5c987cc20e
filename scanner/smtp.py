"""The SMTP edge: aiosmtpd in, `Gateway` decides. The only module that touches aiosmtpd.

Protocol limits handled here:
- RFC 1870 SIZE: advertised in EHLO; ``MAIL ... SIZE=`` over the limit and DATA over the limit
  both get ``552 5.3.4`` (aiosmtpd's own texts carry no enhanced status code: rewritten).
- RFC 5321 §4.5.3.1.8: at least 100 recipients accepted per transaction; we take up to
  ``MAX_RECIPIENTS`` and answer ``452 4.5.3`` beyond.
- RFC 5321 §3.8 / §4.2.5: a busy server may refuse a connection with 421 (``max_sessions``).
- RFC 3207 STARTTLS when a certificate is configured (optionally required before MAIL).
- SMTP smuggling: only ``<CRLF>.<CRLF>`` ends DATA (aiosmtpd ≥ 1.4.5 enforces it).
- Per-recipient RCPT parameters are kept per recipient (aiosmtpd flattens them).
- PROXY protocol v1/v2 (`listen.proxy_protocol`, behind HAProxy): the header's source address
  is the client's (in `Received`); a connection without a valid header is closed.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

from aiosmtpd.smtp import SMTP, Session
from aiosmtpd.smtp import Envelope as AioEnvelope

from scanner.gateway import Gateway
from scanner.model import Envelope
from scanner.settings import ListenSettings

log = logging.getLogger("sendguard.smtp")

MAX_RECIPIENTS = 1000
_RCPT_OPTS = "_sendguard_rcpt_options"


class _Handler:
    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: AioEnvelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        per_rcpt: list[tuple[str, ...]] = envelope.__dict__.setdefault(_RCPT_OPTS, [])
        per_rcpt.append(tuple(rcpt_options))
        return "250 2.1.5 Ok"

    async def handle_PROXY(
        self, server: SMTP, session: Session, envelope: AioEnvelope, proxy_data: Any
    ) -> bool:
        """PROXY protocol (`listen.proxy_protocol`): a valid header names the real client."""
        return bool(proxy_data)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: AioEnvelope) -> str:
        data = envelope.original_content or b""
        proxied = session.proxy_data.src_addr if session.proxy_data is not None else None
        peer = (str(proxied), 0) if proxied is not None else session.peer
        env = Envelope(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            mail_options=tuple(envelope.mail_options),
            rcpt_options=tuple(envelope.__dict__.get(_RCPT_OPTS, ())),
            client_address=str(peer[0]) if isinstance(peer, tuple) else str(peer or ""),
            helo=session.host_name or "",
        )
        outcome = await self._gateway.handle(env, bytes(data))
        return outcome.reply


class _SendguardSMTP(SMTP):
    """aiosmtpd's SMTP with enhanced status codes on size errors and a session limit."""

    active = 0  # per-server count, set on the class made by `_protocol_class`
    max_sessions = 1000

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        type(self).active += 1
        self._over_limit = type(self).active > self.max_sessions
        super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        type(self).active -= 1
        super().connection_lost(exc)

    async def _handle_client(self) -> None:
        if self._over_limit:
            await self.push("421 4.3.2 Too many connections, try again later")
            if self.transport is not None:
                self.transport.close()
            return
        await super()._handle_client()

    async def push(self, status: Any) -> None:
        if isinstance(status, str) and status.startswith("552 Error"):
            status = "552 5.3.4 Message size exceeds fixed maximum message size"
        await super().push(status)


def _protocol_class(max_sessions: int) -> type[_SendguardSMTP]:
    return type("SendguardSMTP", (_SendguardSMTP,), {"active": 0, "max_sessions": max_sessions})


async def start_smtp_server(gateway: Gateway, settings: ListenSettings) -> asyncio.Server:
    """Listen on ``settings.host:port`` in the running loop; returns the asyncio server."""
    handler = _Handler(gateway)
    tls: ssl.SSLContext | None = None
    if settings.tls_cert and settings.tls_key:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(settings.tls_cert, settings.tls_key)
    cls = _protocol_class(settings.max_sessions)
    loop = asyncio.get_running_loop()

    def factory() -> SMTP:
        return cls(
            handler,
            data_size_limit=settings.max_message_size,
            enable_SMTPUTF8=True,
            hostname=settings.hostname,
            ident="sendguard ESMTP",
            timeout=settings.timeout,
            tls_context=tls,
            require_starttls=bool(tls) and settings.require_starttls,
            proxy_protocol_timeout=settings.proxy_protocol or None,
        )

    server = await loop.create_server(factory, host=settings.host, port=settings.port)
    log.info("SMTP listening on %s:%d", settings.host, settings.port)
    return server
