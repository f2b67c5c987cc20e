"""The view computed at hold time: bounded, masked per segment (fail closed), headers shown only
as scanned text, medical records masked with the person beside them, stored sealed."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa

from scanner.model import Confidence, Envelope, Finding, Group
from scanner.quarantine.lifecycle import Step
from scanner.quarantine.store import SqlQuarantineStore
from scanner.quarantine.tables import views
from scanner.quarantine.view import MAX_BOUNDARY_LINES, MessageView, build_view, shown
from scanner.quarantine.view_codec import decode_view, encode_view
from tests.review.conftest import NOW
from tests.review.fakes import CARD, CARD_MASKED, OTHER_SSN, SSN, SSN_MASKED, findings_for, held, make_mail

ENV = Envelope("billing@shop.test", ("client@example.org",))


def _f(location: str, start: int, end: int, masked: str = "***", category: str = "US_SSN") -> Finding:
    return Finding(category, Group.GOVERNMENT_ID, location, start, end, 0.9, Confidence.HIGH, masked)


def _text(view: MessageView) -> str:
    return "".join(e.text for e in view.excerpts) + "".join(h.text for h in view.headers)


def test_masked_and_revealed() -> None:
    data = make_mail(f"Re {SSN}", f"a {SSN} b {CARD} c", attachment=b"%PDF")
    findings = findings_for(data)
    masked = build_view(data, findings, ENV)
    assert SSN not in _text(masked) and CARD not in _text(masked)
    assert SSN_MASKED in _text(masked) and CARD_MASKED in _text(masked)
    subject = next(h for h in masked.headers if h.name == "Subject")
    assert [(r.text, r.category) for r in subject.runs] == [("Re ", None), (SSN_MASKED, "US_SSN")]
    assert [(a.location, a.filename) for a in masked.attachments] == [
        ("attachment[2:statement.pdf]", "statement.pdf")
    ]
    revealed = build_view(data, findings, ENV, reveal=True)
    body = next(e for e in revealed.excerpts if e.location == "body[1]")
    assert [r.text for r in body.runs if r.category] == [SSN, CARD]
    assert decode_view(encode_view(masked)) == masked


@pytest.mark.parametrize(
    ("findings", "withheld", "text_shown"),
    [
        ([_f("body[1]", 2, 4), _f("body[1]", 3, 9)], (), True),  # overlap: one widened span
        ([_f("body[1]", 5, 500)], ("body[1]",), True),  # beyond the text: that segment withheld
        ([_f("body[1]", 4, 4)], (), True),  # empty span: not a placeable finding
        ([_f("body[9]", 0, 3)], (), False),  # a place we did not rebuild: all text withheld
    ],
)
def test_placement_fails_closed(findings: list[Finding], withheld: tuple[str, ...], text_shown: bool) -> None:
    view = build_view(make_mail("plain subject", "0123456789"), findings, ENV)
    assert view.withheld == withheld and view.text_shown is text_shown
    if not text_shown:
        assert view.excerpts == () and all(h.text == "" for h in view.headers if h.name == "Subject")
    if findings[0].start == 2:
        assert [r.text for r in view.excerpts[0].runs] == ["01", "***", "9\n"]


def test_odd_message_id_and_display_names_never_shown_unscanned(caplog: pytest.LogCaptureFixture) -> None:
    """A scan that did not read the headers (a row held before header scanning): their free text
    is withheld, whatever its findings say."""
    caplog.set_level(logging.DEBUG)
    data = (
        b'From: "Jane 536-22-8843 Roe" <jane@shop.test>\r\n'
        b'To: =?utf-8?q?Bob_=E2=80=AE_8843?= <bob@example.org>, "x" <\xff\xfe@example.org>\r\n'
        b"Message-ID: <<SSN 536-22-8843 Jane Roe>@x>\r\n"
        b"Date: not a date 536-22-8843\r\n"
        b"Subject: hello\r\n\r\nbody\r\n"
    )
    view = build_view(data, [], ENV, headers_scanned=False)
    by_name = {h.name: h for h in view.headers}
    assert by_name["From"].text == "jane@shop.test" and by_name["From"].note
    assert "Bob" not in by_name["To"].text and "bob@example.org" in by_name["To"].text
    assert by_name["Message-ID"].text == "" and "withheld" in (by_name["Message-ID"].note or "")
    assert by_name["Date"].text == ""
    assert "8843" not in encode_view(view).decode() and "8843" not in caplog.text
    revealed = build_view(data, [], ENV, reveal=True, headers_scanned=False)
    assert "536-22-8843" in {h.name: h for h in revealed.headers}["Message-ID"].text


def test_header_values_show_only_as_scanned_text_with_findings_masked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    data = (
        b'From: "Jane 536-22-8843 Roe" <jane@shop.test>\r\n'
        b"To: =?utf-8?q?Bob_=E2=80=AE_536-22-8843?= <bob@example.org>\r\n"
        b"Message-Id: <<SSN 536-22-8843 Jane Roe>@x>\r\n"
        b"Date: not a date 536-22-8843\r\n"
        b"Subject: hello\r\n\r\nbody\r\n"
    )
    view = build_view(data, findings_for(data, (OTHER_SSN,)), ENV)
    by_name = {h.name: h for h in view.headers}
    assert by_name["From"].text == '"Jane ***-**-8843 Roe" <jane@shop.test>'
    assert by_name["To"].text == "Bob \u27e8U+202E\u27e9 ***-**-8843 <bob@example.org>"
    assert by_name["Message-ID"].text == "<<SSN ***-**-8843 Jane Roe>@x>"  # as written: Message-Id
    assert by_name["Date"].text == "not a date ***-**-8843"
    assert OTHER_SSN not in encode_view(view).decode() and "8843" not in caplog.text
    revealed = build_view(data, [], ENV, reveal=True)
    assert OTHER_SSN in {h.name: h for h in revealed.headers}["Message-ID"].text


def test_header_the_scanner_did_not_read_shows_no_free_text() -> None:
    # no digit, no non-ASCII: nothing the scanner reads, and still no display name or odd id shown
    data = b'From: "Jane Roe" <jane@shop.test>\r\nMessage-ID: <<SSN Jane Roe>@x>\r\nSubject: s\r\n\r\nb\r\n'
    by_name = {h.name: h for h in build_view(data, [], ENV).headers}
    assert by_name["From"].text == "jane@shop.test" and by_name["From"].note
    assert by_name["Message-ID"].text == "" and "withheld" in (by_name["Message-ID"].note or "")


def test_repeated_fields_are_withheld() -> None:
    data = f"To: a {SSN} <a@x.test>\r\nTo: b <b@x.test>\r\nSubject: s\r\n\r\nb\r\n".encode()
    view = build_view(data, findings_for(data, (SSN,)), ENV)
    assert SSN not in encode_view(view).decode()


def test_envelope_findings_are_placed_on_the_text_the_scanner_read() -> None:
    env = Envelope("ssn--536228741@shop.test", ("ok@example.org",))
    scanned = (
        "ssn  536228741 shop.test"  # what `envelope_texts` gives the scanner: glue as spaces, one for one
    )
    start = scanned.index("536")
    found = [
        Finding(
            "US_SSN",
            Group.GOVERNMENT_ID,
            "envelope:mail-from",
            start,
            start + 9,
            0.9,
            Confidence.HIGH,
            "*****8741",
        )
    ]
    values = build_view(make_mail("s", "b"), found, env).envelope
    # same length as the address: the finding is placed on the address as written
    assert values[0].text == "ssn--*****8741@shop.test" and values[1].text == "ok@example.org"


def test_medical_record_mask_hides_the_person() -> None:
    body = (
        "Summary for the file.\n"
        "Patient: Jane Roe, DOB 03/12/1961\n"
        "Diagnosis: type 2 diabetes mellitus; metformin 500 mg twice daily.\n"
        "Next visit in May.\n"
    )
    data = make_mail("Visit", body)
    start = body.index("Diagnosis")
    record = Finding(
        "MEDICAL_RECORD", Group.MEDICAL, "body[1]", start, start + 60, 0.9, Confidence.HIGH, "[clinical note]"
    )
    view = build_view(data, [record], ENV)
    text = _text(view)
    for clear in ("Jane Roe", "03/12/1961", "diabetes", "metformin"):
        assert clear not in text
    assert "[clinical note]" in text


def test_shown_makes_controls_and_bidi_visible() -> None:
    assert shown("evil\u202egnp.exe") == "evil\u27e8U+202E\u27e9gnp.exe"
    assert shown("a\udcffb\x00c\td\ne") == "a\ufffdb\u27e8U+0000\u27e9c\td\ne"


def test_huge_part_counts_are_bounded() -> None:
    parts = 200_000
    data = (
        b"Subject: many\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        + b"--b\r\nContent-Disposition: attachment; filename=x.txt\r\n\r\n\r\n" * parts
        + b"--b--\r\n"
    )
    view = build_view(data, [_f("attachment[150000:x.txt]", 0, 3)], ENV)
    assert view.parts_total < MAX_BOUNDARY_LINES and len(view.parts) <= 500
    assert any("boundary lines" in n for n in view.notes)
    assert view.text_shown  # the finding past the cut has nowhere to show


async def test_store_keeps_the_view_sealed_and_drops_it_with_the_content(store: SqlQuarantineStore) -> None:
    data = make_mail("Your statement", f"SSN {SSN} on file")
    await store.hold(held("v1", data, NOW - timedelta(minutes=1)))
    view = await store.get_view("v1")
    assert view is not None and SSN_MASKED in _text(view) and SSN not in _text(view)
    async with store.engine.connect() as conn:
        sealed = (
            await conn.execute(sa.select(views.c.sealed).where(views.c.message_id == "v1"))
        ).scalar_one()
    assert b"on file" not in sealed and b"Your statement" not in sealed
    assert await store.transition("v1", Step.REJECT, "dana")
    assert await store.get_view("v1") is None
    async with store.engine.connect() as conn:
        left = (await conn.execute(sa.select(sa.func.count()).select_from(views))).scalar_one()
    assert left == 1  # only msg-ssn's view remains


async def test_expiry_drops_the_view_too(store: SqlQuarantineStore) -> None:
    await store.hold(held("old", make_mail("s", f"SSN {SSN}"), NOW - timedelta(days=400)))
    assert await store.get_view("old") is not None
    assert await store.purge_expired(NOW) >= 1
    async with store.engine.connect() as conn:
        ids = (await conn.execute(sa.select(views.c.message_id))).scalars().all()
    assert "old" not in ids
