"""`sendguard serve` as a process: SIGHUP reloads the policy file between two messages of one
session, and a broken file sent with SIGHUP leaves the good policy in force."""

from __future__ import annotations

import signal
import smtplib
import time
from pathlib import Path

import pytest

from tests.events.test_serve_events import Sendguard
from tests.test_serve import SSN_MAIL

pytestmark = pytest.mark.slow

REJECT = '[groups.government_id]\nhigh = "reject"\nmedium = "reject"\n'
TAG = '[groups.government_id]\nhigh = "tag"\nmedium = "tag"\n'
BROKEN = '[groups.government_id]\nhigh = "tag"\nmedium = "shred"\n'


def _one(client: smtplib.SMTP) -> int:
    client.mail("shop@example.com")
    client.rcpt("c@example.org")
    return client.data(SSN_MAIL)[0]


def _hup(sg: Sendguard, path: Path, text: str) -> None:
    path.write_text(text)
    assert sg.proc is not None
    sg.proc.send_signal(signal.SIGHUP)
    time.sleep(1.5)  # the handler runs on the loop; the watcher would also catch it within 1 s


def test_sighup_reloads_without_dropping_the_session(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(REJECT)
    sg = Sendguard(tmp_path, SENDGUARD_POLICY_FILE=str(policy))
    sg.start()
    try:
        with smtplib.SMTP("127.0.0.1", sg.port, timeout=60) as client:
            client.ehlo("client.test")
            assert _one(client) == 550
            _hup(sg, policy, BROKEN)
            assert _one(client) == 550  # refused file: the good policy stays
            _hup(sg, policy, TAG)
            assert _one(client) == 250  # same session, new policy
    finally:
        sg.stop()
    assert "policy reload refused" in sg.log and "line 3: groups.government_id.medium" in sg.log
    assert "policy reloaded" in sg.log
