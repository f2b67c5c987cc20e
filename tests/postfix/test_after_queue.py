"""sendguard as Postfix's after-queue content filter, exactly as `config/postfix/after-queue/` ships it.

Every test counts its messages at the final hop by Message-ID: each is delivered exactly once,
held, or bounced to its sender - never lost, never twice.
"""

from __future__ import annotations

import email
import time
from email.policy import default

import pytest

from tests.postfix.conftest import CLEAN, MEDICAL, MESSAGE_SIZE_LIMIT, SSN, Stack, make_message, submit
from tests.postfix.harness import Ports, free_port, postfix_instance, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postfix]


def test_clean_mail_goes_through_sendguard_and_arrives_once(after_queue: Stack) -> None:
    ids = after_queue.send_all([f"{CLEAN} ({i})" for i in range(5)])
    after_queue.assert_each_delivered_once(ids)
    for r in after_queue.sink.snapshot():
        if r.message_id in ids:
            # the path: Postfix (front) -> sendguard -> Postfix (re-injection) -> sink
            assert b"by sendguard.localhost" in r.data and r.rcpt_tos == ("client@example.org",)


def test_rejected_mail_is_bounced_to_its_sender_with_the_masked_report(after_queue: Stack) -> None:
    mid, data = make_message(SSN)
    assert submit(after_queue.postfix.ports.front, data)[0] == 250  # Postfix queued it
    wait_until(lambda: any(mid.encode() in b.data for b in after_queue.sink.bounces()), 30, "the bounce")
    after_queue.settle()
    assert after_queue.sink.count([mid]) == {}  # never delivered to the recipient
    (bounce,) = [b for b in after_queue.sink.bounces() if mid.encode() in b.data]
    assert bounce.rcpt_tos == ("shop@example.com",)
    report = email.message_from_bytes(bounce.data, policy=default)
    status = next(p for p in report.walk() if p.get_content_type() == "message/delivery-status")
    text = status.as_string()
    assert "5.7.1" in text and "US_SSN" in text and "***-**-8843" in text
    assert "536-22-8843" not in text


def test_held_mail_is_delivered_once_when_released(after_queue: Stack) -> None:
    mid, data = make_message(MEDICAL, subject="Compte rendu")
    assert submit(after_queue.postfix.ports.front, data)[0] == 250
    after_queue.settle()
    (held,) = [ref for ref in after_queue.held()]
    assert after_queue.sink.count([mid]) == {}

    first = after_queue.sendguard.cli("quarantine", "release", held)
    assert first.returncode == 0, first.stdout + first.stderr
    second = after_queue.sendguard.cli("quarantine", "release", held)
    assert second.returncode == 1 and "not held" in second.stdout
    after_queue.wait_delivered([mid])
    after_queue.settle()
    time.sleep(1)
    assert after_queue.sink.count([mid]) == {mid: 1}


def test_sendguard_down_mail_waits_in_postfix_and_postqueue_f_delivers_it_once(after_queue: Stack) -> None:
    pf, sg = after_queue.postfix, after_queue.sendguard
    assert sg.stop() == 0
    try:
        sent = [make_message(f"{CLEAN} outage {i}") for i in range(3)]
        for _, data in sent:
            assert submit(pf.ports.front, data)[0] == 250
        ids = [mid for mid, _ in sent]
        wait_until(lambda: "status=deferred" in pf.log(), 20, "Postfix to defer")
        assert pf.queued() == 3
        assert after_queue.sink.count(ids) == {}  # kept in Postfix, nothing went around us
    finally:
        sg.start()
    # (not "still nothing delivered" here: this Postfix retries deferred mail every 1-2 s on its
    # own, so some may already be through while sendguard starts; once each is what matters)
    pf.flush()  # `postqueue -f`
    after_queue.assert_each_delivered_once(ids)


def test_message_just_under_postfix_limit_survives_the_extra_headers(after_queue: Stack) -> None:
    """Each hop adds a Received header; the dedicated cleanup keeps re-injection from bouncing it.

    Without `cleanup_service_name=sendguard-cleanup` (the old recipe) the re-injection refuses
    it: see the next test.
    """
    pad = "Lorem ipsum dolor sit amet, order 12345 shipped.\r\n"
    mid, data = make_message(pad * ((MESSAGE_SIZE_LIMIT - 1200) // len(pad)))
    assert MESSAGE_SIZE_LIMIT - 1300 < len(data) < MESSAGE_SIZE_LIMIT - 800
    code, text = submit(after_queue.postfix.ports.front, data)
    assert code == 250, text
    after_queue.wait_delivered([mid])
    after_queue.settle()
    assert after_queue.sink.count([mid]) == {mid: 1}
    assert not [b for b in after_queue.sink.bounces() if mid.encode() in b.data]
    (got,) = [r for r in after_queue.sink.snapshot() if r.message_id == mid]
    assert len(got.data) > MESSAGE_SIZE_LIMIT - 800  # it really grew on the way


def test_8bitmime_and_smtputf8_pass_through_unchanged(after_queue: Stack) -> None:
    mid, data = make_message(
        "Grüße aus Köln, Ihre Bestellung 12345 ist unterwegs.", sender="bötchen@exämple.com"
    )
    code, text = submit(
        after_queue.postfix.ports.front,
        data,
        sender="bötchen@exämple.com",
        rcpts=["jürgen@exämple.org"],
        mail_options=["BODY=8BITMIME", "SMTPUTF8"],
    )
    assert code == 250, text
    after_queue.wait_delivered([mid])
    (got,) = [r for r in after_queue.sink.snapshot() if r.message_id == mid]
    assert got.mail_from == "bötchen@exämple.com" and got.rcpt_tos == ("jürgen@exämple.org",)
    assert "SMTPUTF8" in got.mail_options and "BODY=8BITMIME" in got.mail_options
    assert got.data.endswith(data)  # 8-bit body byte for byte, no MIME down-conversion


def test_dsn_parameters_are_honoured_by_postfix_and_the_message_arrives_once(after_queue: Stack) -> None:
    """sendguard announces DSN and passes the parameters on: the re-injection Postfix answers a
    NOTIFY=SUCCESS at the sink (no DSN there) with one "relayed" notice (RFC 3461 §6.2.2), and the
    message arrives once."""
    mid, data = make_message(f"{CLEAN} dsn")
    code, text = submit(
        after_queue.postfix.ports.front,
        data,
        mail_options=["RET=HDRS", "ENVID=sg-dsn-1"],
        rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;client@example.org"],
    )
    assert code == 250, text
    after_queue.wait_delivered([mid])
    wait_until(lambda: any(b"sg-dsn-1" in b.data for b in after_queue.sink.bounces()), 30, "the DSN")
    after_queue.settle()
    time.sleep(1)
    assert after_queue.sink.count([mid]) == {mid: 1}
    (notice,) = [b for b in after_queue.sink.bounces() if b"sg-dsn-1" in b.data]
    assert notice.rcpt_tos == ("shop@example.com",)
    assert b"Action: relayed" in notice.data


def test_reinjection_takes_a_grown_message_only_with_the_dedicated_cleanup(after_queue: Stack) -> None:
    """The control for the size edge: `-o message_size_limit=0` on the re-injection smtpd alone
    (the old recipe) still refuses a message a little over main.cf's limit, because the shared
    cleanup enforces it; the shipped dedicated cleanup takes it."""
    pad = "Lorem ipsum dolor sit amet, order 12345 shipped.\r\n"
    mid, data = make_message(pad * ((MESSAGE_SIZE_LIMIT + 300) // len(pad)))
    assert MESSAGE_SIZE_LIMIT < len(data) < MESSAGE_SIZE_LIMIT + 600
    old = after_queue.postfix.ports
    ports = Ports(front=free_port(), sendguard=old.sendguard, reinject=free_port(), relayhost=old.relayhost)
    old_recipe = postfix_instance(
        "after-queue",
        ports,
        message_size_limit=MESSAGE_SIZE_LIMIT,
        edit_master=lambda text: text.replace("    -o cleanup_service_name=sendguard-cleanup\n", ""),
    )
    with old_recipe:
        code, text = submit(ports.reinject, data)
    assert code == 552 and "too big" in text, (code, text)
    code, text = submit(old.reinject, data)  # the shipped recipe
    assert code == 250, text
    after_queue.wait_delivered([mid])
    assert after_queue.sink.count([mid]) == {mid: 1}
