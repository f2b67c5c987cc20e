"""sendguard's RFC 3464 report: structure, recipients per NOTIFY, masking, language. Pure."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email.message import Message
from email.parser import HeaderParser
from email.policy import default

import pytest

from scanner.model import Action, Confidence, Envelope, Finding, Group, Unscanned, Verdict
from scanner.reports.dsn import build_report, masked_headers

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
RAW = (
    b"From: Shop <shop@example.com>\r\nTo: a@example.org\r\nSubject: =?utf-8?q?R=C3=A9f_536-22-8843?= ok\r\n"
    b"X-Account: 4111 1111 1111 1111\r\nMessage-ID: <1@example.com>\r\n\r\nBody: 536-22-8843 and 4111111111111111\r\n"
)
# offsets into the decoded subject "Réf 536-22-8843 ok"
SUBJECT_SSN = Finding("US_SSN", Group.GOVERNMENT_ID, "subject", 4, 15, 0.9, Confidence.HIGH, "***-**-8843")
BODY_SSN = Finding("US_SSN", Group.GOVERNMENT_ID, "body[1]", 6, 17, 0.9, Confidence.HIGH, "***-**-8843")
BODY_CARD = Finding(
    "PAYMENT_CARD", Group.PAYMENT_CARD, "body[1]", 22, 38, 0.9, Confidence.HIGH, "**** **** **** 1111"
)
VERDICT = Verdict(Action.REJECT, (SUBJECT_SSN, BODY_SSN, BODY_CARD), (SUBJECT_SSN, BODY_SSN, BODY_CARD))


def report(envelope: Envelope, language: str = "en", verdict: Verdict = VERDICT) -> Message | None:
    r = build_report(
        envelope,
        RAW,
        verdict,
        "KZ3QF7W2N4ABCD5E",
        hostname="sg.test",
        language=language,
        arrived=NOW,
        now=NOW,
    )
    if r is None:
        return None
    assert r.envelope == Envelope("", (envelope.mail_from,))
    assert b"536-22" not in r.data and b"4111 1111" not in r.data and b"41111111" not in r.data
    return email.message_from_bytes(r.data, policy=default)


def test_structure_is_rfc3464() -> None:
    env = Envelope(
        "shop@example.com", ("a@example.org",), ("ENVID=QQ+2B1",), (("ORCPT=rfc822;A@Example.org",),)
    )
    msg = report(env)
    assert msg is not None
    assert msg.get_content_type() == "multipart/report" and msg.get_param("report-type") == "delivery-status"
    assert msg["Auto-Submitted"] == "auto-replied" and msg["To"] == "shop@example.com"
    human, status, headers = msg.get_payload()  # type: ignore[misc]
    assert human.get_content_type() == "text/plain"
    text = human.get_content()
    assert (
        "KZ3QF7W2N4ABCD5E" in text
        and "***-**-8843" in text
        and "body[1]" in text
        and "**** **** **** 1111" in text
    )
    assert status.get_content_type() == "message/delivery-status"
    per_message, per_rcpt = status.get_payload()
    assert per_message["Reporting-MTA"] == "dns; sg.test" and per_message["Original-Envelope-Id"] == "QQ+1"
    assert per_rcpt["Final-Recipient"] == "rfc822; a@example.org"
    assert per_rcpt["Original-Recipient"] == "rfc822; A@Example.org"
    assert (per_rcpt["Action"], per_rcpt["Status"]) == ("failed", "5.7.1")
    assert per_rcpt["Diagnostic-Code"].startswith("smtp; 550 5.7.1")
    assert headers.get_content_type() == "text/rfc822-headers"
    kept = headers.get_payload()
    assert HeaderParser(policy=default).parsestr(kept)["Subject"] == "Réf ***-**-8843 ok"
    assert "X-Account" not in kept and "Body" not in kept  # only the kept headers, never the body


def test_null_sender_gets_nothing() -> None:
    assert report(Envelope("", ("a@example.org",))) is None


def test_notify_never_is_honoured_per_recipient() -> None:
    env = Envelope(
        "s@example.com", ("a@x.org", "b@x.org", "c@x.org"), (), (("NOTIFY=NEVER",), ("NOTIFY=SUCCESS",), ())
    )
    msg = report(env)
    assert msg is not None
    rcpts = [b["Final-Recipient"] for b in msg.get_payload()[1].get_payload()[1:]]  # type: ignore[index,union-attr]
    assert rcpts == ["rfc822; c@x.org"]
    assert report(Envelope("s@example.com", ("a@x.org",), (), (("NOTIFY=NEVER",),))) is None


def test_french() -> None:
    msg = report(Envelope("s@example.com", ("a@x.org",)), "fr")
    assert msg is not None and "réf. KZ3QF7W2N4ABCD5E" in msg["Subject"]
    assert "Référence : KZ3QF7W2N4ABCD5E" in msg.get_payload()[0].get_content()  # type: ignore[index,union-attr]


@pytest.mark.parametrize(
    "subject_finding",
    [
        Finding("US_SSN", Group.GOVERNMENT_ID, "subject", 4, 99, 0.9, Confidence.HIGH, "x"),  # out of range
        Unscanned.UNDECODABLE.finding("subject"),  # cannot be placed
    ],
)
def test_a_subject_finding_that_cannot_be_placed_withholds_the_subject(subject_finding: Finding) -> None:
    kept = masked_headers(RAW, [subject_finding])
    assert "Subject: [withheld" in kept and "536-22" not in kept
