"""Header edits on raw bytes: our headers stripped, trace header prepended, body untouched."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scanner.headers import prepend, received_header, strip_our_headers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"A: 1\r\nPII-Scan-Result: pass\r\nB: 2\r\n\r\nbody", b"A: 1\r\nB: 2\r\n\r\nbody"),
        (b"pii-scan-groups: x\r\n\tfolded\r\nB: 2\r\n\r\nbody", b"B: 2\r\n\r\nbody"),
        (
            b"A: 1\r\n\r\nPII-Scan-Result: in the body stays\r\n",
            b"A: 1\r\n\r\nPII-Scan-Result: in the body stays\r\n",
        ),
        (b"A: 1\nPII-Scan-X: y\n\nbody\n", b"A: 1\n\nbody\n"),
        (b"PII-Scan-Only: header", b""),
    ],
)
def test_strip_our_headers(raw: bytes, expected: bytes) -> None:
    assert strip_our_headers(raw) == expected


def test_received_header_sanitises_client_values() -> None:
    h = received_header(
        helo="evil\r\nBcc: x@y", client_address="10.0.0.1", by="me", reference="R1", now=datetime.now(UTC)
    )
    lines = h.split(b"\r\n")
    assert lines[0] == b"Received: from evilBcc: x@y ([10.0.0.1])"
    assert all(line.startswith(b"\t") for line in lines[1:-1]) and lines[-1] == b""


def test_prepend_keeps_body_bytes_identical() -> None:
    body = b"\r\n\r\n=C3=A9 binary-ish \x00\xff"
    raw = b"Subject: x\r\n" + body
    out = prepend(raw, [("PII-Scan-Result", "tag")], b"Received: x\r\n")
    assert out == b"Received: x\r\nPII-Scan-Result: tag\r\nSubject: x\r\n" + body
