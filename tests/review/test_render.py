"""render: masking is placed on the extracted text and fails closed."""

from __future__ import annotations

import pytest

from scanner.model import Confidence, Finding, Group, Segment, SegmentKind
from scanner.review.render import build_view, place_findings, segments_for
from tests.review.fakes import CARD, CARD_MASKED, SSN, SSN_MASKED, findings_for, make_mail


def _f(location: str, start: int, end: int, masked: str = "***") -> Finding:
    return Finding("US_SSN", Group.GOVERNMENT_ID, location, start, end, 0.9, Confidence.HIGH, masked)


SEGS = [Segment("subject", "hello"), Segment("body[1]", "0123456789")]


@pytest.mark.parametrize(
    ("findings", "expected"),
    [
        ([], {}),
        ([_f("body[1]", 2, 4)], {"body[1]": [(2, 4)]}),
        ([_f("body[1]", 6, 8), _f("body[1]", 1, 3)], {"body[1]": [(1, 3), (6, 8)]}),  # sorted
        ([_f("body[1]", 1, 5), _f("body[1]", 3, 9)], {"body[1]": [(1, 9)]}),  # overlap widened
        ([_f("body[1]", 1, 9), _f("body[1]", 3, 5)], {"body[1]": [(1, 9)]}),  # nested dropped
        ([_f("body[2]", 0, 1)], None),  # unknown location
        ([_f("body[1]", 5, 11)], None),  # beyond the text
        ([_f("body[1]", 4, 4)], None),  # empty span
        ([_f("subject", 0, 5), _f("body[1]", -1, 2)], None),
    ],
)
def test_place_findings(findings: list[Finding], expected: dict[str, list[tuple[int, int]]] | None) -> None:
    placed = place_findings(SEGS, findings)
    if expected is None:
        assert placed is None
    else:
        assert placed is not None
        assert {k: [(f.start, f.end) for f in v] for k, v in placed.items()} == expected


def test_masked_and_revealed_views() -> None:
    data = make_mail(f"Re {SSN}", f"a {SSN} b {CARD} c", attachment=b"%PDF")
    findings = findings_for(data)
    masked = build_view(data, findings)
    text = "".join(s.text for s in masked.segments)
    assert SSN not in text and CARD not in text
    assert SSN_MASKED in text and CARD_MASKED in text
    assert ("Subject", f"Re {SSN_MASKED}") in masked.headers
    assert [(a.name, a.content_type, a.size) for a in masked.attachments] == [
        ("statement.pdf", "application/pdf", 4)
    ]
    revealed = build_view(data, findings, reveal=True)
    body = next(s for s in revealed.segments if s.location == "body[1]")
    assert [p.text for p in body.pieces if p.finding] == [SSN, CARD]
    assert body.text == f"a {SSN} b {CARD} c\n"


def test_text_is_withheld_when_findings_do_not_fit() -> None:
    data = make_mail("x", f"a {SSN}")
    view = build_view(data, [_f("body[1]", 0, 500)])
    assert not view.text_shown and view.segments == ()
    assert ("Subject", "(withheld)") in view.headers


def test_segments_cover_html_and_text_attachments() -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["Subject"] = "s"
    msg.set_content("plain")
    msg.add_alternative("<p>html <b>bold</b></p><script>x()</script>", subtype="html")
    msg.add_attachment("notes", filename="n.txt")
    segs = segments_for(msg.as_bytes())
    assert [(s.location, s.kind, s.text.strip()) for s in segs] == [
        ("subject", SegmentKind.SUBJECT, "s"),
        ("body[1.1]", SegmentKind.TEXT, "plain"),
        ("body[1.2]", SegmentKind.HTML, "html bold"),
        ("attachment[2:n.txt]/name", SegmentKind.HEADER, "n.txt"),  # the file name is scanned too
        ("attachment[2:n.txt]", SegmentKind.ATTACHMENT, "notes"),
    ]
