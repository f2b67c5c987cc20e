"""Reading and editing the header block of the raw message bytes. Pure.

`header_fields` is the one reader of a header block for what is not scanning (the tenant
header, the CLI's `show`): it never raises, whatever the bytes.

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


def _header_end(data: bytes) -> int:
    """Where the header block ends (after its final line break; the blank line follows)."""
    m = _HEADER_END.search(data)
    if m is None:  # no body: the whole message is headers
        return len(data)
    return m.start() + (2 if data[m.start() : m.start() + 2] == b"\r\n" else 1)


def _split(data: bytes) -> tuple[bytes, bytes]:
    """Header block (with its final line break) and the rest (blank line + body)."""
    cut = _header_end(data)
    return data[:cut], data[cut:]


def header_fields(data: bytes, limit: int = 65536) -> list[tuple[str, str]]:
    """The header fields in the first `limit` bytes (RFC 5322 §2.2), unfolded (§2.2.3); no body.

    Raw values (encoded words are not decoded), read as utf-8 with replacement: for display
    and routing headers, never for detection (`scanner.extract` reads what is scanned).
    """
    fields: list[tuple[str, str]] = []
    head = _split(data[:limit])[0]
    for line in head.decode("utf-8", errors="replace").splitlines():
        if line[:1] in (" ", "\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {line.strip()}")
        elif ":" in line:
            name, _, value = line.partition(":")
            fields.append((name.strip(), value.strip()))
    return fields


def strip_our_headers(data: bytes) -> bytes:
    """Remove every ``PII-Scan-*`` header field, continuation lines included."""
    return b"".join(_without_our_headers(data))


def _without_our_headers(data: bytes) -> list[bytes | memoryview]:
    """`strip_our_headers` as parts to join: the body is a view, not a copy."""
    cut = _header_end(data)
    out: list[bytes | memoryview] = []
    dropping = False
    for line in data[:cut].splitlines(keepends=True):
        if line[:1] in (b" ", b"\t"):  # folded continuation of the previous field
            if not dropping:
                out.append(line)
            continue
        dropping = line.lower().startswith(OUR_PREFIX)
        if not dropping:
            out.append(line)
    out.append(memoryview(data)[cut:])
    return out


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
    # one copy of the message (bytes.join, which runs without the GIL above 1 MiB)
    return b"".join([received or b"", *(_field(k, v) for k, v in fields), *_without_our_headers(data)])
