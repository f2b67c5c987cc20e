"""Relays: deliver a message upstream, returning only once it is accepted (I/O edge).

- `SmtpRelay`: aiosmtplib over a pool of persistent upstream connections, STARTTLS and AUTH
  optional. One transaction per message; any refused recipient fails the whole message
  (RSET before DATA), so the client retries all recipients and nothing is sent twice.
- `OutboxRelay`: the embedded default when no upstream is configured. Writes one ``.eml`` per
  message into a directory (write to a temp file, fsync, rename, fsync the directory), with
  ``Return-Path`` and ``Delivered-To`` lines as a local delivery agent would add.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiosmtplib

from scanner._errors import RelayAmbiguousError, RelayPermanentError, RelayTemporaryError
from scanner.dsn import is_dsn_param
from scanner.envelope_check import header_safe
from scanner.model import Envelope
from scanner.settings import RelaySettings
from scanner.wire import wire_slices

log = logging.getLogger("sendguard.relay")

# MAIL FROM parameters we recompute or cannot pass on unchanged (RFC 1870 SIZE: we add headers).
_DROP_MAIL_PARAMS = ("SIZE=",)


def _raise_for(code: int, message: str) -> None:
    """Map an upstream reply to our error tree; the upstream's text is kept (it has no content)."""
    text = message.replace("\r", " ").replace("\n", " ")[:200]
    if 500 <= code < 600:
        raise RelayPermanentError(
            f"upstream {code} {text}", code=code if code != 552 else 552, status="5.0.0"
        )
    raise RelayTemporaryError(f"upstream {code} {text}")


class SmtpRelay:
    """Delivers through a bounded pool of persistent aiosmtplib connections."""

    def __init__(self, settings: RelaySettings, *, local_hostname: str = "sendguard.localhost") -> None:
        if settings.host is None:
            raise ValueError("SmtpRelay needs relay.host")
        self._settings = settings
        self._local_hostname = local_hostname
        self._idle: asyncio.LifoQueue[aiosmtplib.SMTP] = asyncio.LifoQueue()
        self._slots = asyncio.Semaphore(max(1, settings.pool_size))
        self._closed = False

    def _client(self) -> aiosmtplib.SMTP:
        s = self._settings
        return aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            start_tls=s.starttls,
            validate_certs=s.tls_verify,
            username=s.username,
            password=s.password.get_secret_value() if s.password else None,
            timeout=s.timeout,
            local_hostname=self._local_hostname,
        )

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[aiosmtplib.SMTP]:
        async with self._slots:
            client: aiosmtplib.SMTP | None = None
            while not self._idle.empty():
                candidate = self._idle.get_nowait()
                if candidate.is_connected:
                    client = candidate
                    break
            if client is None:
                client = self._client()
                await client.connect()
            ok = False
            try:
                yield client
                ok = True
            finally:
                if ok and client.is_connected and not self._closed:
                    self._idle.put_nowait(client)
                else:
                    client.close()

    async def deliver(self, envelope: Envelope, data: bytes) -> None:
        if self._closed:
            raise RelayTemporaryError("relay closed")
        # A pooled connection may have been closed by the upstream while idle: that shows up at
        # MAIL (before any data was sent), so one retry on a fresh connection is safe.
        for attempt in (1, 2):
            try:
                async with self._connection() as client:
                    await self._transaction(client, envelope, data)
                return
            except aiosmtplib.SMTPServerDisconnected as exc:
                if attempt == 2:
                    raise RelayTemporaryError(f"upstream disconnected: {exc}") from exc
            except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPTimeoutError, OSError) as exc:
                raise RelayTemporaryError(f"upstream unreachable: {type(exc).__name__}") from exc
            except aiosmtplib.SMTPResponseException as exc:
                _raise_for(exc.code, exc.message)

    async def _transaction(self, client: aiosmtplib.SMTP, envelope: Envelope, data: bytes) -> None:
        utf8 = "SMTPUTF8" in envelope.mail_options
        encoding = "utf-8" if utf8 else "ascii"
        if client.is_ehlo_or_helo_needed:  # RFC 5321 §4.1.4: EHLO first, HELO if refused
            try:
                await client.ehlo()
            except aiosmtplib.SMTPHeloError:
                if not client.is_connected:
                    raise
                await client.helo()
        options = [o for o in envelope.mail_options if not o.upper().startswith(_DROP_MAIL_PARAMS)]
        if client.supports_extension("size"):
            options.append(f"SIZE={len(data)}")
        if not client.supports_extension("8bitmime"):
            options = [o for o in options if o.upper() != "BODY=8BITMIME"]
        options = _dsn_passed_on(client, options)
        try:
            await client.mail(envelope.mail_from, options=options, encoding=encoding)
            for i, rcpt in enumerate(envelope.rcpt_tos):
                rcpt_opts = envelope.rcpt_options[i] if i < len(envelope.rcpt_options) else ()
                await client.rcpt(rcpt, options=_dsn_passed_on(client, rcpt_opts), encoding=encoding)
        except aiosmtplib.SMTPResponseException:
            # all or nothing: never let a partial recipient list through
            with contextlib.suppress(aiosmtplib.SMTPException):
                await client.rset()
            raise
        try:
            await self._data(client, data)
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError) as exc:
            # aiosmtplib's public API does not say whether the 354 came before the connection
            # went: counted as sent, which costs an administrator's look, never a duplicate
            raise RelayAmbiguousError(f"no reply after DATA: {type(exc).__name__}") from exc

    async def _data(self, client: aiosmtplib.SMTP, data: bytes) -> None:
        """DATA, then the message in bounded slices (`scanner.wire`), then the final reply.

        Instead of ``client.data()``, which rewrites the whole message on the event loop in one
        go (1.1 s for 26 MB of empty lines): here the loop runs between slices, and the
        transport's flow control (aiosmtplib's ``_drain_helper``, pinned in
        tests/test_library_privates.py) keeps at most its high-water mark buffered.
        """
        protocol = client.protocol
        if protocol is None:
            raise aiosmtplib.SMTPServerDisconnected("Server not connected")
        start = await client.execute_command(b"DATA")
        if start.code != 354:
            raise aiosmtplib.SMTPDataError(start.code, start.message)
        for i, piece in enumerate(wire_slices(data)):
            if i:  # between slices the loop runs: a fast socket would never pause the transport
                await asyncio.sleep(0)
            await protocol._drain_helper()  # before the write: the final "." is never followed
            protocol.write(piece)  # by an await, so the reply cannot arrive before it is awaited
        reply = await protocol.read_response(timeout=self._settings.timeout)
        if reply.code != 250:
            raise aiosmtplib.SMTPDataError(reply.code, reply.message)

    async def close(self) -> None:
        self._closed = True
        while not self._idle.empty():
            client = self._idle.get_nowait()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.quit(), timeout=2)
            client.close()


def _dsn_passed_on(client: aiosmtplib.SMTP, options: list[str] | tuple[str, ...]) -> list[str]:
    """RFC 3461 parameters go upstream only if it advertises DSN (§4: else they are refused).

    Without DSN upstream we drop them: a delivery failure is then reported by the upstream's
    ordinary bounce, and NOTIFY=SUCCESS/ENVID are lost (§6.2.2's "relayed" DSN is not sent).
    """
    if client.supports_extension("dsn"):
        return list(options)
    return [o for o in options if not is_dsn_param(o)]


class OutboxRelay:
    """Writes each message to ``<outbox>/<reference>.eml`` durably. The embedded default.

    `serve` marks the directory (`mark_served`) with a digest of its quarantine URL, so that a
    CLI release, which would otherwise fall back to this relay whenever its settings lack the
    upstream, only writes here when `serve` itself delivers here for that same quarantine.
    """

    MARKER = ".sendguard-serve"

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    @staticmethod
    def _digest(store_url: str) -> str:
        return hashlib.sha256(store_url.encode()).hexdigest()

    def mark_served(self, store_url: str) -> None:
        (self._dir / self.MARKER).write_text(self._digest(store_url) + "\n")

    @classmethod
    def served_for(cls, directory: Path, store_url: str) -> bool:
        try:
            return (directory / cls.MARKER).read_text().strip() == cls._digest(store_url)
        except OSError:
            return False

    async def deliver(self, envelope: Envelope, data: bytes) -> None:
        try:
            await asyncio.to_thread(self._write, envelope, data)
        except OSError as exc:
            raise RelayTemporaryError(f"outbox not writable: {exc.strerror}") from exc

    def _write(self, envelope: Envelope, data: bytes) -> None:
        name = f"{os.urandom(10).hex()}.eml"
        # addresses held before the SMTP edge checked them may hold a CR or LF: never a new header
        trace = [f"Return-Path: <{header_safe(envelope.mail_from)}>\r\n"]
        trace += [f"Delivered-To: {header_safe(rcpt)}\r\n" for rcpt in envelope.rcpt_tos]
        tmp = self._dir / f".{name}.tmp"
        try:
            # 0600: the outbox holds whole messages (the embedded default's "upstream")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write("".join(trace).encode("utf-8", "replace"))
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            tmp.rename(self._dir / name)
        except BaseException:
            # disk full, quota, I/O error: leave no partial file behind (the client gets 451)
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        fd = os.open(self._dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    async def close(self) -> None:
        return None
