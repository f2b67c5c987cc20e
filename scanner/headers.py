"""Edits to the header block of the raw message bytes. Pure.

The body is never touched: we relay the original bytes. We only
- strip any incoming ``PII-Scan-*`` header (a sender must not be able to forge our verdict),
- prepend a ``Received`` trace header (RFC 5321 §4.4) and, when tagging, our ``PII-Scan-*`` headers.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import format_datetime

OUR_PREFIX = b"pii-scan-"
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_UNSAFE = re.compile(r"[\r\n\x00]")


def _split(data: bytes) -> tuple[bytes, bytes]:
    """Header block (with its final line break) and the rest (blank line + body)."""
    m = _HEADER_END.search(data)
    if m is None:  # no body: the whole message is headers
        return data, b""
    cut = m.start() + (2 if data[m.start() : m.start() + 2] == b"\r\n" else 1)
    return data[:cut], data[cut:]


def strip_our_headers(data: bytes) -> bytes:
    """Remove every ``PII-Scan-*`` header field, continuation lines included."""
    head, rest = _split(data)
    out: list[bytes] = []
    dropping = False
    for line in head.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t"):  # folded continuation of the previous field
            if not dropping:
                out.append(line)
            continue
        dropping = line.lower().startswith(OUR_PREFIX)
        if not dropping:
            out.append(line)
    return b"".join(out) + rest


def _field(name: str, value: str) -> bytes:
    clean = _UNSAFE.sub(" ", value)
    return f"{name}: {clean}\r\n".encode("utf-8", "replace")


def received_header(*, helo: str, client_address: str, by: str, reference: str, now: datetime) -> bytes:
    """RFC 5321 §4.4 trace field; client-supplied parts are sanitised (no CR/LF/NUL)."""
    stamp = format_datetime(now.astimezone(UTC))
    helo = _UNSAFE.sub("", helo)[:255] or "unknown"
    addr = _UNSAFE.sub("", client_address)[:64]
    text = (
        f"Received: from {helo} ([{addr}])\r\n"
        f"\tby {by} (sendguard) with ESMTP id {reference};\r\n\t{stamp}\r\n"
    )
    return text.encode("utf-8", "replace")


def prepend(data: bytes, fields: list[tuple[str, str]], received: bytes | None = None) -> bytes:
    """Strip incoming ``PII-Scan-*`` headers, then prepend Received and ``fields``."""
    new = b"".join(_field(k, v) for k, v in fields)
    return (received or b"") + new + strip_our_headers(data)
