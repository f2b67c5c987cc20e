"""sendguard as Postfix's before-queue filter (smtpd_proxy_filter), as `config/postfix/before-queue/` ships it.

The client hears sendguard's verdict at DATA: 250 only once the message is queued after the
filter, 550 5.7.1 with the report (no bounce), 4xx while sendguard is down (nothing queued).
"""

from __future__ import annotations

import smtplib

import pytest

from tests.postfix.conftest import CLEAN, MEDICAL, SSN, Stack, make_message, submit

pytestmark = [pytest.mark.slow, pytest.mark.postfix]


def test_clean_mail_arrives_once(before_queue: Stack) -> None:
    before_queue.assert_each_delivered_once(before_queue.send_all([f"{CLEAN} bq {i}" for i in range(3)]))


def test_rejection_reaches_the_client_at_data_and_nothing_is_bounced(before_queue: Stack) -> None:
    mid, data = make_message(SSN)
    bounces = len(before_queue.sink.bounces())
    code, text = submit(before_queue.postfix.ports.front, data)
    assert code == 550 and "5.7.1" in text and "***-**-8843" in text and "536-22-8843" not in text
    before_queue.settle()
    assert before_queue.sink.count([mid]) == {} and len(before_queue.sink.bounces()) == bounces


def test_held_mail_is_accepted_and_delivered_once_on_release(before_queue: Stack) -> None:
    mid, data = make_message(MEDICAL, subject="Compte rendu")
    code, text = submit(before_queue.postfix.ports.front, data)
    assert code == 250 and "held for review" in text, text
    (ref,) = before_queue.held()
    assert before_queue.sendguard.cli("quarantine", "release", ref).returncode == 0
    before_queue.wait_delivered([mid])
    before_queue.settle()
    assert before_queue.sink.count([mid]) == {mid: 1}


def test_sendguard_down_means_4xx_to_the_client_and_nothing_queued(before_queue: Stack) -> None:
    pf, sg = before_queue.postfix, before_queue.sendguard
    assert sg.stop() == 0
    try:
        mid, data = make_message(f"{CLEAN} outage")
        code, text = submit(pf.ports.front, data)
        assert 400 <= code < 500, (code, text)
        before_queue.settle()  # (Postfix may notify its postmaster of the proxy error)
        assert before_queue.sink.count([mid]) == {}
    finally:
        sg.start()
    code, text = submit(pf.ports.front, data)  # the client's retry
    assert code == 250, text
    before_queue.wait_delivered([mid])
    before_queue.settle()
    assert before_queue.sink.count([mid]) == {mid: 1}


def test_dsn_parameters_from_the_client_pass_through_sendguard(before_queue: Stack) -> None:
    """Postfix's smtpd replays the client's DSN parameters to sendguard, which announces DSN
    (RFC 3461) and accepts them: the message is queued once and arrives once."""
    with smtplib.SMTP("127.0.0.1", before_queue.postfix.ports.front, timeout=30) as client:
        client.ehlo("client.test")
        assert "dsn" in client.esmtp_features
    mid, data = make_message(f"{CLEAN} bq dsn")
    code, text = submit(
        before_queue.postfix.ports.front,
        data,
        mail_options=["RET=HDRS", "ENVID=sg-bq-dsn"],
        rcpt_options=["NOTIFY=FAILURE", "ORCPT=rfc822;client@example.org"],
    )
    assert code == 250, (code, text)
    before_queue.assert_each_delivered_once([mid])
