"""Trace and signature fields: what relays write is blanked, and a blank never hides a value."""

from __future__ import annotations

import pytest

from scanner.detect import build_engine
from scanner.detect.engine import DetectionEngine
from scanner.extract import extract
from scanner.model import Segment


@pytest.fixture(scope="module")
def engine() -> DetectionEngine:
    return build_engine(nlp=False)


def _header_text(field: str) -> str:
    (segment,) = [
        s
        for s in extract(f"{field}\r\nSubject: x\r\n\r\nhi\r\n".encode()).segments
        if "header:" in s.location
    ]
    return segment.text


@pytest.mark.parametrize(
    "shape",
    [
        "SSN 123.45.67.89",  # an SSN's digits as a dotted quad
        "card [41.111.111.111] 1111",
        "card 41 Nov 1111 11:11:11 +1111",  # a card's digits as a date-time
        "SSN Thu, 53 Jun 6228 84:31 -8843",
    ],
)
def test_the_shapes_always_blanked_hold_nothing_the_detectors_find_anywhere(
    engine: DetectionEngine, shape: str
) -> None:
    # if a detector learns to read one of these shapes, the unconditional blank becomes a hole:
    # move that shape to the "token" group of scanner.extract.headers._TRACE_SYNTAX
    assert engine.detect([Segment("body[1]", shape)]) == []


@pytest.mark.parametrize(
    ("field", "category"),
    [
        ("Received: from mx by relay with ESMTP id 536-22-8843; Mon, 15 Jul 2002 09:07:52 +0100", "US_SSN"),
        ("DKIM-Signature: v=1; d=example.com; b=4970 1012 3456 7893; bh=abc=", "PAYMENT_CARD"),
        ("DKIM-Signature: v=1; d=example.com; z=Subject:card=204970101234567893; b=abc", "PAYMENT_CARD"),
    ],
)
def test_a_number_in_a_relays_place_is_read_as_written(
    engine: DetectionEngine, field: str, category: str
) -> None:
    name = field.split(":", 1)[0]
    found = engine.detect([Segment(f"header:{name}", _header_text(field))])
    assert [f.category for f in found] == [category]


def test_what_relays_write_is_blanked_and_only_z_is_unquoted() -> None:
    received = (
        "Received: from hq ([12.231.148.143]) by mx.example.com (8.11.6/8.11.6) (536-22-8843/1.0) with ESMTP id"
        " g8C1jmC12426 for <a@example.org>; Thu, 12 Sep 2002 13:43:34 +0100 (SSN 536-22-8843)"
    )
    text = _header_text(received)
    assert "12.231" not in text and "8.11.6" not in text and "g8C1" not in text and "13:43" not in text
    assert (
        "SSN 536-22-8843" in text
        and "(536-22-8843/1.0)" in text
        and len(text) == len(received.split(": ", 1)[1])
    )
    dkim = _header_text("DKIM-Signature: v=1; b=536228843=20x; z=To:a=20b 12345")
    assert "b=536228843=20x" in dkim and "To:a b 12345" in dkim  # only z= is quoted-printable
    assert not any(
        "header:Received" in s.location
        for s in extract(
            b"Received: from a ([10.0.0.1]) by b id 12AB34; Thu, 12 Sep 2002 13:43:34 +0100\r\n\r\nhi\r\n"
        ).segments
    )
