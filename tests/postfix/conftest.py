"""Fixtures: a real Postfix (Debian's package) with a real `sendguard serve` as its filter.

`after_queue` / `before_queue` each start, once per module, a sink (the final relayhost), a
`sendguard serve` subprocess (real engine, one worker) and a private Postfix rendered from the
shipped `config/postfix/<mode>/` files (see `harness.py`). Tests submit over SMTP to Postfix and
count every message at the sink by Message-ID. Without Postfix installed they skip, unless
SENDGUARD_REQUIRE_POSTFIX=1 (CI: `.ci/run` installs it), where they fail.
"""

from __future__ import annotations

import itertools
import os
import secrets
import smtplib
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.postfix.harness import (
    Ports,
    Postfix,
    Sendguard,
    Sink,
    free_port,
    postfix_installed,
    postfix_instance,
    running_sink,
    wait_until,
)

REQUIRE_POSTFIX = os.environ.get("SENDGUARD_REQUIRE_POSTFIX") == "1"
MESSAGE_SIZE_LIMIT = 200_000  # Postfix's main.cf limit in these tests (the size-edge test's edge)
_serial = itertools.count(1)
_NO_DIGITS = str.maketrans("0123456789", "ghijklmnop")


def _letters(n: int) -> str:
    return str(n).translate(_NO_DIGITS)


CLEAN = "Your order 12345 has shipped and will arrive on Tuesday."
SSN = "Dear client, your SSN 536-22-8843 is on file."
MEDICAL = (
    "Compte rendu de consultation. Mme Jeanne Martin, née le 12/03/1961. La patiente présente un diabète "
    "de type 2 mal équilibré (HbA1c 8,9 %) et une hypertension artérielle. Traitement : metformine 1000 mg "
    "deux fois par jour, ramipril 5 mg. Diagnostic CIM-10 E11.9."
)


def require_postfix() -> None:
    if postfix_installed():
        return
    if REQUIRE_POSTFIX:
        pytest.fail("Postfix is not installed (SENDGUARD_REQUIRE_POSTFIX=1); .ci/run installs it")
    pytest.skip("Postfix is not installed (apt-get install postfix; .ci/run does it)")


def make_message(
    body: str, *, subject: str = "Order update", sender: str = "shop@example.com"
) -> tuple[str, bytes]:
    """A message with a unique Message-ID (returned) so every copy can be counted."""
    # letters only: a long digit run in a header may be read as a card number (headers are scanned)
    mid = f"<{_letters(next(_serial))}.{secrets.token_hex(8).translate(_NO_DIGITS)}@sendguard.test>"
    data = (
        f"From: {sender}\r\nTo: client@example.org\r\nSubject: {subject}\r\nMessage-ID: {mid}\r\n"
        "Date: Mon, 30 Nov 2026 08:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
        f"\r\n{body}\r\n"
    ).encode()
    return mid, data


def submit(
    port: int,
    data: bytes,
    *,
    sender: str = "shop@example.com",
    rcpts: Sequence[str] = ("client@example.org",),
    mail_options: Sequence[str] = (),
    rcpt_options: Sequence[str] = (),
) -> tuple[int, str]:
    """One SMTP transaction; the final reply (code, text). Refusals are returned, not raised."""
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        client.ehlo("client.test")
        code, text = client.mail(sender, list(mail_options))
        if code != 250:
            return code, text.decode()
        for rcpt in rcpts:
            code, text = client.rcpt(rcpt, list(rcpt_options))
            if code >= 400:
                return code, text.decode()
        code, text = client.data(data)
        return code, text.decode()


@dataclass
class Stack:
    postfix: Postfix
    sendguard: Sendguard
    sink: Sink

    def settle(self, timeout: float = 30) -> None:
        """Wait until Postfix's queue is empty (everything delivered, bounced or deferred away)."""
        wait_until(lambda: self.postfix.queued() == 0, timeout, "Postfix's queue to drain")

    def wait_delivered(self, ids: Sequence[str], timeout: float = 30) -> None:
        wait_until(
            lambda: set(self.sink.count(ids)) == set(ids), timeout, f"{len(ids)} message(s) at the sink"
        )

    def send_all(self, bodies: Sequence[str]) -> list[str]:
        """Submit one message per body to the front smtpd (each must get 250); their Message-IDs."""
        ids = []
        for body in bodies:
            mid, data = make_message(body)
            code, text = submit(self.postfix.ports.front, data)
            assert code == 250, text
            ids.append(mid)
        return ids

    def assert_each_delivered_once(self, ids: Sequence[str]) -> None:
        """Every id arrives, the queue drains, and no second copy follows within a retry period."""
        self.wait_delivered(ids)
        self.settle()
        time.sleep(1)  # a duplicate would arrive within Postfix's 1 s retry here
        assert self.sink.count(ids) == dict.fromkeys(ids, 1)

    def held(self) -> list[str]:
        import json

        result = self.sendguard.cli("quarantine", "list", "--json")
        assert result.returncode == 0, result.stderr
        return [json.loads(line)["id"] for line in result.stdout.splitlines() if line.strip()]


def _stack(mode: str, root: Path, settings: Mapping[str, str | int | bool] | None = None) -> Iterator[Stack]:
    """`settings`: more SENDGUARD_* for this stack (e.g. ``SENDGUARD_REPORT__MODE``)."""
    require_postfix()
    with running_sink() as (sink, sink_port):
        ports = Ports(front=free_port(), sendguard=free_port(), reinject=free_port(), relayhost=sink_port)
        sendguard = Sendguard(
            root,
            {
                "SENDGUARD_RELAY__HOST": "127.0.0.1",
                "SENDGUARD_RELAY__PORT": ports.reinject,
                "SENDGUARD_RELAY__TIMEOUT": 20,
                "SENDGUARD_SCAN__NLP": "false",  # starts in half the time; these messages need no NER
                **(settings or {}),
            },
            port=ports.sendguard,
        )
        sendguard.start()
        try:
            with postfix_instance(mode, ports, message_size_limit=MESSAGE_SIZE_LIMIT) as postfix:
                yield Stack(postfix, sendguard, sink)
        finally:
            if sendguard.proc is not None and sendguard.proc.poll() is None:
                sendguard.stop()


@pytest.fixture(scope="module")
def after_queue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from _stack("after-queue", tmp_path_factory.mktemp("after-queue"))


@pytest.fixture(scope="module")
def before_queue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from _stack("before-queue", tmp_path_factory.mktemp("before-queue"))
