"""What was not read, and sender-written names, in every answer: the 550 reply, the held reply,
the tag headers and the console -- where and why, never a value."""

from __future__ import annotations

from scanner.model import Action, Confidence, Envelope, Finding, Group, Unscanned, Verdict
from scanner.policy import Policy, decide
from scanner.quarantine.view import build_view
from scanner.report import held_reply, rejection_reply, tag_headers

SSN = Finding(
    "US_SSN",
    Group.GOVERNMENT_ID,
    "attachment[2:SSN ***-**-****.txt]/name",
    4,
    15,
    0.9,
    Confidence.HIGH,
    "***-**-8843",
)
TRUNCATED = Unscanned.TEXT_LIMIT.finding("body[3]", "not read: over 4194304 bytes of decoded text")
IMAGE = Unscanned.IMAGE.finding("attachment[4:logo.png]")


def test_the_rejection_lists_what_was_not_read_after_the_findings() -> None:
    verdict = decide(Policy.default(), [SSN, TRUNCATED, IMAGE])
    assert verdict.action is Action.REJECT
    lines = rejection_reply(verdict, "REF").split("\r\n")
    assert (
        lines[1] == "550-5.7.1 US_SSN (government_id) in attachment[2:SSN ***-**-****.txt]/name: ***-**-8843"
    )
    assert "550-5.7.1 UNSCANNED_TEXT_LIMIT (unscanned) in body[3]: not read: over 4194304 bytes" in lines[2]
    assert "UNSCANNED_IMAGE (unscanned) in attachment[4:logo.png]" in lines[3]


def test_held_reply_and_tag_headers_say_what_was_not_read() -> None:
    held = decide(Policy.default(), [TRUNCATED, IMAGE])
    assert held.action is Action.HOLD
    assert held_reply(held, "REF") == "250 2.0.0 Ok: held for review as REF; not read: image, text_limit"
    assert held_reply(Verdict(Action.HOLD), "REF") == "250 2.0.0 Ok: held for review as REF"
    tagged = Verdict(Action.TAG, (TRUNCATED, Unscanned.IMAGE.finding("attachment[4:été.png]")))
    fields = dict(tag_headers(tagged, "REF"))
    assert fields["PII-Scan-Unscanned"] == "body[3] (text_limit), attachment[4:?t?.png] (image)"
    assert fields["PII-Scan-Categories"] == "UNSCANNED_IMAGE=1, UNSCANNED_TEXT_LIMIT=1"


def test_the_console_shows_names_and_header_values_masked() -> None:
    raw = (
        b'From: "Jane 536-22-8843" <a@example.com>\r\nSubject: s\r\nMIME-Version: 1.0\r\n'
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n\r\nhello\r\n--b\r\n'
        b'Content-Type: text/plain; name="SSN 536-22-8843.txt"\r\n\r\nnotes\r\n--b--\r\n'
    )
    found = Finding("US_SSN", Group.GOVERNMENT_ID, "header:From", 6, 17, 0.9, Confidence.HIGH, "***-**-8843")
    env = Envelope("shop@example.com", ("you@example.org",))
    view = build_view(raw, [found, SSN, TRUNCATED], env)  # SSN: the finding on the file name
    assert view.text_shown  # an unscanned finding is not a span: the text is still shown
    assert {h.name: h.text for h in view.headers}["From"] == '"Jane ***-**-8843" <a@example.com>'
    assert [p.filename for p in view.attachments] == ["SSN ***-**-****.txt"]
    assert "536-22-8843" not in repr(view)
