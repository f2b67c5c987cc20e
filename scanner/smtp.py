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
- RFC 3461 DSN: advertised in EHLO; ``RET``/``ENVID`` on MAIL and ``NOTIFY``/``ORCPT`` on RCPT are
  split off and checked by `scanner.dsn` before aiosmtpd parses the rest (it would refuse them
  with 555 and upper-case ENVID/ORCPT), then kept on the envelope as sent. The command length
  limits grow by the DSN parameters' maxima (ENVID 100, ORCPT 500: RFC 3461 §4.2, §4.4).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import ssl
from typing import Any

from aiosmtpd.smtp import SMTP, Session, syntax
from aiosmtpd.smtp import Envelope as AioEnvelope

from scanner.dsn import MAIL_KEYWORDS, RCPT_KEYWORDS, DsnSyntaxError, split_params, split_path
from scanner.gateway import Gateway
from scanner.model import Envelope
from scanner.settings import ListenSettings

log = logging.getLogger("sendguard.smtp")

MAX_RECIPIENTS = 1000
_RCPT_OPTS = "_sendguard_rcpt_options"
# command line limits with DSN (RFC 3461 §4.2, §4.4): base 512, + SIZE 26 + SMTPUTF8 10 + RET/ENVID 110
_MAIL_LIMIT = 512 + 26 + 10 + 110
_RCPT_LIMIT = 512 + 510


class _Handler:
    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: AioEnvelope, hostname: str, responses: list[str]
    ) -> list[str]:
        """Advertise DSN (RFC 3461 §4) before the final ``250 HELP`` line."""
        session.host_name = hostname  # aiosmtpd leaves it to a handler that has this hook
        server.command_size_limits["MAIL"] = _MAIL_LIMIT
        server.command_size_limits["RCPT"] = _RCPT_LIMIT
        return [*responses[:-1], "250-DSN", responses[-1]]

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: AioEnvelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        per_rcpt: list[tuple[str, ...]] = envelope.__dict__.setdefault(_RCPT_OPTS, [])
        per_rcpt.append(tuple(rcpt_options))
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: AioEnvelope) -> str:
        data = envelope.original_content or b""
        peer = session.peer
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # aiosmtpd keeps this dict on the class (shared by every session); ours is per session
        self.command_size_limits = collections.defaultdict(lambda: SMTP.command_size_limit)

    @syntax("MAIL FROM: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_MAIL(self, arg: str | None) -> None:
        """RET and ENVID (RFC 3461 §4.3-4.4) split off, checked, kept once aiosmtpd accepted MAIL."""
        rest, dsn = await self._split_dsn(arg, "FROM:", MAIL_KEYWORDS)
        if rest is None:
            return
        assert self.envelope is not None
        had_sender = bool(self.envelope.mail_from)
        await super().smtp_MAIL(rest)
        if dsn and not had_sender and self.envelope.mail_from:
            self.envelope.mail_options.extend(dsn)

    @syntax("RCPT TO: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_RCPT(self, arg: str | None) -> None:
        """NOTIFY and ORCPT (RFC 3461 §4.1-4.2) kept with the recipient they came with."""
        rest, dsn = await self._split_dsn(arg, "TO:", RCPT_KEYWORDS)
        if rest is None:
            return
        assert self.envelope is not None
        before = len(self.envelope.rcpt_tos)
        await super().smtp_RCPT(rest)
        per_rcpt: list[tuple[str, ...]] = self.envelope.__dict__.get(_RCPT_OPTS, [])
        if dsn and len(self.envelope.rcpt_tos) > before and per_rcpt:
            per_rcpt[-1] = per_rcpt[-1] + dsn

    async def _split_dsn(
        self, arg: str | None, keyword: str, dsn_keywords: frozenset[str]
    ) -> tuple[str | None, tuple[str, ...]]:
        """(the command without DSN parameters, the DSN parameters); (None, ()) once answered."""
        if arg is None or arg[: len(keyword)].upper() != keyword:
            return arg, ()  # aiosmtpd answers the syntax error
        path, params = split_path(arg[len(keyword) :])
        try:
            others, dsn = split_params(params, dsn_keywords)
        except DsnSyntaxError as exc:
            await self.push(exc.reply)
            return None, ()
        if dsn and (self.session is None or not self.session.extended_smtp):
            await self.push("555 5.5.4 DSN parameters need EHLO (RFC 3461 §4)")
            return None, ()
        return f"{keyword}{path} {others}".rstrip(), dsn

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
        )

    server = await loop.create_server(factory, host=settings.host, port=settings.port)
    log.info("SMTP listening on %s:%d", settings.host, settings.port)
    return server
