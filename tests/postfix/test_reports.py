"""Issue 13 with a real Postfix: rejection reports that carry no raw value, and DSN parameters.

- after-queue with ``report.mode = dsn`` (the README recipe): sendguard answers 250, discards the
  content and sends its own RFC 3464 report through the re-injection listener; what the sender
  gets contains no raw value anywhere (Postfix never bounces the original), and NOTIFY=NEVER
  means no report at all;
- before-queue with a client that uses DSN parameters: Postfix's front smtpd now offers DSN
  (sendguard announces it), the transaction is accepted, delivered once, and the parameters
  reach the next hop (the after-filter Postfix acts on NOTIFY=SUCCESS with ENVID and ORCPT).
"""

from __future__ import annotations

import email
import smtplib
import time
from collections.abc import Iterator
from email.message import Message
from email.policy import default

import pytest

from tests.postfix.conftest import CLEAN, Stack, _stack, make_message, submit
from tests.postfix.harness import Received, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postfix]

SSN_VALUE, CARD_VALUE = "536-22-8843", "4111 1111 1111 1111"
RAW = ("536-22-8843", "536228843", "4111 1111 1111 1111", "4111111111111111")


@pytest.fixture(scope="module")
def after_queue_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from _stack(
        "after-queue",
        tmp_path_factory.mktemp("after-queue-dsn"),
        {"SENDGUARD_REPORT__MODE": "dsn", "SENDGUARD_ADMIN__ENABLED": False},
    )


@pytest.fixture(scope="module")
def before_queue_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # its own admin port off: the after-queue stack of this module may still be running
    yield from _stack(
        "before-queue", tmp_path_factory.mktemp("before-queue-dsn"), {"SENDGUARD_ADMIN__ENABLED": False}
    )


def _texts(data: bytes) -> str:
    """Every part of a message decoded (QP, base64) and joined, headers included."""
    msg = email.message_from_bytes(data, policy=default)
    out = [str(msg)]
    for part in msg.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            out.append(payload.decode("utf-8", "replace"))
        if part.get_content_type() == "message/delivery-status":
            out.extend(str(block) for block in part.get_payload())  # type: ignore[union-attr]
    return "\n".join(out)


def _reports_for(stack: Stack, marker: bytes) -> list[Received]:
    return [b for b in stack.sink.bounces() if marker in b.data]


def test_after_queue_dsn_report_reaches_the_sender_with_no_raw_value(after_queue_dsn: Stack) -> None:
    subject = f"Your file {SSN_VALUE}"
    mid, data = make_message(
        f"Dear client, your SSN {SSN_VALUE} and card {CARD_VALUE} are on file.", subject=subject
    )
    code, text = submit(after_queue_dsn.postfix.ports.front, data, mail_options=["ENVID=sg-report-1"])
    assert code == 250, text  # Postfix queued it; sendguard answers Postfix 250 too (dsn mode)
    wait_until(lambda: bool(_reports_for(after_queue_dsn, b"sg-report-1")), 60, "sendguard's report")
    after_queue_dsn.settle()
    time.sleep(1)
    assert after_queue_dsn.sink.count([mid]) == {}  # never delivered to the recipient
    (report,) = _reports_for(after_queue_dsn, b"sg-report-1")
    assert report.rcpt_tos == ("shop@example.com",)
    # nothing that reached the sink - report, Postfix notice, anything - holds a raw value
    for received in after_queue_dsn.sink.snapshot():
        blob = received.data.decode("utf-8", "replace") + _texts(received.data)
        assert not [v for v in RAW if v in blob], received.data[:300]
    msg: Message = email.message_from_bytes(report.data, policy=default)
    assert msg.get_content_type() == "multipart/report" and msg["Auto-Submitted"] == "auto-replied"
    decoded = _texts(report.data)
    assert "***-**-8843" in decoded and "1111" in decoded and "Original-Envelope-Id: sg-report-1" in decoded
    assert "Action: failed" in decoded and "Status: 5.7.1" in decoded
    assert "Subject: Your file ***-**-8843" in decoded  # the headers part, masked
    assert "Dear client" not in decoded  # never the body
    assert "status=bounced" not in after_queue_dsn.postfix.log()  # Postfix bounced nothing


def test_after_queue_notify_never_means_no_report(after_queue_dsn: Stack) -> None:
    mid, data = make_message(f"SSN {SSN_VALUE}")
    code, _ = submit(
        after_queue_dsn.postfix.ports.front,
        data,
        mail_options=["ENVID=sg-never-1"],
        rcpt_options=["NOTIFY=NEVER"],
    )
    assert code == 250
    after_queue_dsn.settle()
    time.sleep(3)  # the dispatcher polls every second: a report would have arrived
    assert _reports_for(after_queue_dsn, b"sg-never-1") == []
    assert after_queue_dsn.sink.count([mid]) == {}
    assert "sg-never-1" not in "".join(
        r.data.decode("utf-8", "replace") for r in after_queue_dsn.sink.snapshot()
    )


def test_before_queue_client_with_dsn_parameters_is_accepted_and_they_are_passed_on(
    before_queue_dsn: Stack,
) -> None:
    with smtplib.SMTP("127.0.0.1", before_queue_dsn.postfix.ports.front, timeout=30) as client:
        client.ehlo("client.test")
        assert "dsn" in client.esmtp_features  # the front offers what sendguard announces
    mid, data = make_message(f"{CLEAN} bq dsn")
    code, text = submit(
        before_queue_dsn.postfix.ports.front,
        data,
        mail_options=["RET=HDRS", "ENVID=sg-bq-dsn-1"],
        rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;Client@example.org"],
    )
    assert code == 250, text
    before_queue_dsn.wait_delivered([mid])
    # the after-filter Postfix got the parameters from sendguard: it honours NOTIFY=SUCCESS at the
    # sink (which announces no DSN) with a "relayed" notice carrying ENVID and ORCPT (RFC 3461)
    wait_until(lambda: bool(_reports_for(before_queue_dsn, b"sg-bq-dsn-1")), 30, "the relayed notice")
    before_queue_dsn.settle()
    time.sleep(1)
    assert before_queue_dsn.sink.count([mid]) == {mid: 1}
    (notice,) = _reports_for(before_queue_dsn, b"sg-bq-dsn-1")
    decoded = _texts(notice.data)
    assert "Action: relayed" in decoded and "Original-Envelope-Id: sg-bq-dsn-1" in decoded
    assert "Client@example.org" in decoded  # ORCPT, case kept through sendguard


def test_before_queue_malformed_dsn_parameter_is_refused_before_data(before_queue_dsn: Stack) -> None:
    code, text = submit(
        before_queue_dsn.postfix.ports.front, make_message(CLEAN)[1], rcpt_options=["NOTIFY=SOMETIMES"]
    )
    assert 500 <= code < 600, (code, text)
