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
- RFC 5321 §4.1.2 / RFC 6531 §3.3-3.4: MAIL FROM and RCPT TO paths with a CR, LF, NUL, another
  control character or invalid UTF-8, or non-ASCII without SMTPUTF8, are refused there with a 5xx
  naming the problem (`scanner.envelope_check`), never stored, relayed or shown.
- PROXY protocol v1/v2 (`listen.proxy_protocol`, behind HAProxy): the header's source address
  is the client's (in `Received`); a connection without a valid header is closed.

Bounded under hostile input (`_receive_data`): DATA is read in chunks of up to 64 KiB,
dot-unstuffed (RFC 5321 §4.5.2) chunk by chunk with C-level byte operations -- never a Python
object per line -- and joined once at the end, in a thread for large messages (``bytes.join``
copies without the GIL), so a 26 MB message of empty lines costs ~2x its size and the loop
keeps serving other sessions meanwhile;
every session's bytes are charged as they arrive to one budget (``listen.max_inflight_bytes``)
held until the message is answered: beyond it the rest of DATA is drained unstored and answered
``451 4.3.2`` (RFC 5321 §4.5.3.1.10: insufficient storage is transient); at most
``listen.max_sessions_per_client`` sessions per client address (``421 4.3.2``).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import re
import ssl
from typing import Any, Literal

from aiosmtpd.smtp import MISSING, SMTP, Session, syntax
from aiosmtpd.smtp import Envelope as AioEnvelope

from scanner.dsn import MAIL_KEYWORDS, RCPT_KEYWORDS, DsnSyntaxError, split_params, split_path
from scanner.envelope_check import address_problem
from scanner.gateway import Gateway
from scanner.model import Envelope
from scanner.offload import off_loop_if_large
from scanner.settings import ListenSettings

log = logging.getLogger("sendguard.smtp")

MAX_RECIPIENTS = 1000
_RCPT_OPTS = "_sendguard_rcpt_options"
# command line limits with DSN (RFC 3461 §4.2, §4.4): base 512, + SIZE 26 + SMTPUTF8 10 + RET/ENVID 110
_MAIL_LIMIT = 512 + 26 + 10 + 110
_RCPT_LIMIT = 512 + 510
# A plain path, ``<local@domain>`` in dot-atoms of ASCII atext (RFC 5322 §3.2.3), then blanks:
# nearly every MAIL and RCPT. `_SendguardSMTP._getaddr` answers it without email's RFC 5322
# parser, with the result aiosmtpd's would give (tests/smtp/test_getaddr.py compares them).
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_PATH = re.compile(rf"<({_ATOM}(?:\.{_ATOM})*@{_ATOM}(?:\.{_ATOM})*)>[ \t]*(?![ \t(])")


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

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: AioEnvelope, address: str, mail_options: list[str]
    ) -> str:
        problem = _path_problem(envelope, address, "sender")
        if problem is not None:
            return problem
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: AioEnvelope, address: str, rcpt_options: list[str]
    ) -> str:
        problem = _path_problem(envelope, address, "recipient")
        if problem is not None:
            return problem
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


_CHUNK = 64 * 1024
_END = b"\r\n.\r\n"


class _Limits:
    """Per-server shared counters: sessions per client address and message bytes in flight."""

    __slots__ = ("inflight", "max_inflight", "max_per_client", "per_client")

    def __init__(self, max_per_client: int, max_inflight: int) -> None:
        self.max_per_client = max_per_client
        self.max_inflight = max_inflight
        self.inflight = 0
        self.per_client: dict[str, int] = {}


def _path_problem(envelope: AioEnvelope, address: str, role: Literal["sender", "recipient"]) -> str | None:
    """The 5xx refusing a MAIL/RCPT path our edge will not take (see `scanner.envelope_check`)."""
    return address_problem(address, smtputf8=bool(envelope.smtp_utf8), role=role)


class _SendguardSMTP(SMTP):
    """aiosmtpd's SMTP with enhanced status codes on size errors and session limits."""

    active = 0  # per-server count, set on the class made by `_protocol_class`
    max_sessions = 1000
    limits = _Limits(200, 512 * 1024 * 1024)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # aiosmtpd keeps this dict on the class (shared by every session); ours is per session
        self.command_size_limits = collections.defaultdict(lambda: SMTP.command_size_limit)

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """aiosmtpd's, with a fast path: its own declares a ``typing.Protocol`` class on every
        call and runs email's full header parser, ~11 % of the event loop's CPU under load."""
        plain = _PLAIN_PATH.match(arg) if arg else None
        if plain is None:
            return super()._getaddr(arg)
        address = plain.group(1)
        if self.local_part_limit and len(address.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return address, arg[plain.end() :]

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
        peer = transport.get_extra_info("peername")
        self._client = str(peer[0]) if isinstance(peer, tuple) else str(peer or "")
        per_client = self.limits.per_client
        per_client[self._client] = per_client.get(self._client, 0) + 1
        self._over_limit = (
            type(self).active > self.max_sessions or per_client[self._client] > self.limits.max_per_client
        )
        self._reserved = 0
        super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        type(self).active -= 1
        per_client = self.limits.per_client
        per_client[self._client] -= 1
        if not per_client[self._client]:
            del per_client[self._client]
        self._release()
        super().connection_lost(exc)

    async def _handle_client(self) -> None:
        if self._over_limit:
            await self.push("421 4.3.2 Too many connections, try again later")
            if self.transport is not None:
                self.transport.close()
            return
        await super()._handle_client()

    # -- DATA, bounded (see module doc) ------------------------------------------------------

    def _reserve(self, n: int) -> bool:
        limits = self.limits
        if limits.inflight + n > limits.max_inflight:
            return False
        limits.inflight += n
        self._reserved += n
        return True

    def _release(self) -> None:
        self.limits.inflight -= self._reserved
        self._reserved = 0

    async def smtp_DATA(self, arg: str) -> None:
        """aiosmtpd's DATA command with `_receive_data` in place of its line-by-line loop."""
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        data, refusal = await self._receive_data()
        try:
            if refusal is not None:
                self._set_post_data_state()  # type: ignore[no-untyped-call]
                await self.push(refusal)
                return
            self.envelope.content = self.envelope.original_content = data
            status = await self._call_handler_hook("DATA")
        finally:
            self._release()  # the message is answered: its bytes leave the budget
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        await self.push("250 OK" if status is MISSING else status)

    async def _receive_data(self) -> tuple[bytes, str | None]:
        """The message up to ``<CRLF>.<CRLF>`` (RFC 5321 §4.1.1.4), dot-unstuffed (§4.5.2).

        A virtual CRLF before the first byte makes every line start a ``\r\n`` so that
        unstuffing is one ``replace`` per chunk and the end one ``find``. Each chunk is cut just
        before its last CRLF (or before a trailing CR), so neither can straddle two chunks.
        Returns the data and None, or empty data and the refusal once a limit was crossed
        (the rest is still read, unstored, so the session stays in step with the client).
        """
        parts: list[bytes] = []
        carry = b"\r\n"
        size = 0
        refusal: str | None = None
        limit = self.data_size_limit
        while True:
            chunk = await self._reader.read(_CHUNK)
            if not chunk:
                raise ConnectionResetError("connection closed during DATA")
            data = carry + chunk
            end = data.find(_END)
            if end >= 0:
                body, rest = data[: end + 2], data[end + 5 :]
                if rest:  # pipelined commands after the end of data: give them back
                    self._reader._buffer[:0] = rest  # type: ignore[attr-defined]
            else:
                cut = data.rfind(b"\r\n")
                if cut <= 0:
                    cut = len(data) - 1 if data.endswith(b"\r") else len(data)
                body, carry = data[:cut], data[cut:]
            size += len(body)
            if refusal is None:
                if limit and size > limit + 2:
                    refusal = "552 5.3.4 Message size exceeds fixed maximum message size"
                elif not self._reserve(len(body)):
                    refusal = "451 4.3.2 Too much mail in progress, try again later"
                else:
                    parts.append(body.replace(b"\r\n.", b"\r\n"))
                if refusal is not None:
                    parts = []
                    self._release()
            if end >= 0:
                break
        if refusal is not None:
            return b"", refusal
        parts[0] = parts[0][2:]  # the virtual CRLF
        # bytes.join copies without the GIL above 1 MiB: in a thread, the loop runs meanwhile
        return await off_loop_if_large(size, b"".join, parts), None

    async def push(self, status: Any) -> None:
        if isinstance(status, str) and status.startswith("552 Error"):
            status = "552 5.3.4 Message size exceeds fixed maximum message size"
        await super().push(status)


def _protocol_class(settings: ListenSettings) -> type[_SendguardSMTP]:
    limits = _Limits(settings.max_sessions_per_client, settings.max_inflight_bytes)
    attrs = {"active": 0, "max_sessions": settings.max_sessions, "limits": limits}
    return type("SendguardSMTP", (_SendguardSMTP,), attrs)


async def start_smtp_server(gateway: Gateway, settings: ListenSettings) -> asyncio.Server:
    """Listen on ``settings.host:port`` in the running loop; returns the asyncio server."""
    handler = _Handler(gateway)
    tls: ssl.SSLContext | None = None
    if settings.tls_cert and settings.tls_key:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(settings.tls_cert, settings.tls_key)
    cls = _protocol_class(settings)
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
