"""`sendguard serve` as a process: events counted exactly as sent through a restart of sendguard
and an endpoint outage; dsn mode writes its report to the embedded outbox, with no raw value."""

from __future__ import annotations

import asyncio
import email
import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from email.policy import default
from pathlib import Path

import pytest

from tests.events.conftest import SECRET, Receiver
from tests.test_serve import SSN_MAIL, free_port

pytestmark = pytest.mark.slow


class Sendguard:
    def __init__(self, tmp: Path, **extra: str) -> None:
        self.port = free_port()
        self.env = dict(os.environ)
        self.env.update(
            SENDGUARD_LISTEN__PORT=str(self.port),
            SENDGUARD_REVIEW__ENABLED="false",
            SENDGUARD_ADMIN__ENABLED="false",
            SENDGUARD_RELAY__OUTBOX_DIR=str(tmp / "outbox"),
            SENDGUARD_QUARANTINE__URL=f"sqlite+aiosqlite:///{tmp}/q.db",
            SENDGUARD_QUARANTINE__KEY_FILE=str(tmp / "q.key"),
            SENDGUARD_SCAN__WORKERS="1",
            SENDGUARD_SCAN__NLP="false",
            SENDGUARD_WEBHOOKS__MIN_BACKOFF="0.1",
            SENDGUARD_WEBHOOKS__MAX_BACKOFF="0.5",
            SENDGUARD_WEBHOOKS__LEASE_SECONDS="2",
            SENDGUARD_WEBHOOKS__POLL_INTERVAL="0.2",
            **extra,
        )
        self.proc: subprocess.Popen[str] | None = None
        self.log = ""

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "scanner.cli", "serve"], env=self.env, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    pytest.fail(
                        f"sendguard serve exited: {self.proc.stderr.read() if self.proc.stderr else ''}"
                    )
                time.sleep(0.2)
        pytest.fail("sendguard did not start")

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            assert self.proc.wait(timeout=30) == 0
        finally:
            self.proc.kill()
        self.log += self.proc.stderr.read() if self.proc.stderr else ""

    def send(self, data: bytes, rcpt_options: tuple[str, ...] = ()) -> tuple[int, str]:
        with smtplib.SMTP("127.0.0.1", self.port, timeout=60) as c:
            c.ehlo("client.test")
            c.mail("shop@example.com", ["RET=HDRS", "ENVID=T1"])
            c.rcpt("c@example.org", list(rcpt_options))
            code, text = c.data(data)
            return code, text.decode()


def _ref(text: str) -> str:
    return text.split("(ref ")[1].split(")")[0]


async def test_events_survive_a_restart_and_an_endpoint_outage(tmp_path: Path, receiver: Receiver) -> None:
    sg = Sendguard(tmp_path, SENDGUARD_WEBHOOKS__URL=receiver.url, SENDGUARD_WEBHOOKS__SECRET=SECRET)
    refs: list[str] = []
    await asyncio.to_thread(sg.start)
    try:
        for _ in range(3):
            code, text = await asyncio.to_thread(sg.send, SSN_MAIL)
            assert code == 550, text
            refs.append(_ref(text))
        await receiver.wait_for(3)
        await receiver.down()  # the endpoint is down: events pile up, SMTP goes on
        for _ in range(3):
            code, text = await asyncio.to_thread(sg.send, SSN_MAIL)
            assert code == 550, text
            refs.append(_ref(text))
        await asyncio.sleep(1)  # a few failed attempts
    finally:
        await asyncio.to_thread(sg.stop)
    assert len(receiver.events) == 3
    await receiver.up()  # endpoint back while sendguard is down; then sendguard restarts
    await asyncio.to_thread(sg.start)
    try:
        await receiver.wait_for(6, within=60)
        await asyncio.sleep(1)  # nothing more arrives
    finally:
        await asyncio.to_thread(sg.stop)
    got = sorted(str(b["data"]["reference"]) for b in receiver.events.values())  # type: ignore[index]
    assert got == sorted(refs) and receiver.bad_signatures == 0
    assert {b["type"] for b in receiver.events.values()} == {"message.rejected"}
    assert "536-22-8843" not in sg.log


def _first_eml(outbox: Path, within: float) -> Path:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = list(outbox.glob("*.eml"))
        if found:
            return found[0]
        time.sleep(0.1)
    pytest.fail("no report in the outbox")


def _check_report(tmp: Path) -> None:
    (eml,) = (tmp / "outbox").glob("*.eml")
    raw = eml.read_bytes()
    assert raw.startswith(b"Return-Path: <>\r\nDelivered-To: shop@example.com\r\n")
    assert b"536-22-8843" not in raw and b"536228843" not in raw
    msg = email.message_from_bytes(raw, policy=default)
    assert msg.get_content_type() == "multipart/report"
    text = msg.get_payload()[0].get_content()  # type: ignore[index,union-attr]
    assert "***-**-8843" in text and "536-22" not in text
    status = msg.get_payload()[1].get_payload()  # type: ignore[index,union-attr]
    assert status[0]["Original-Envelope-Id"] == "T1"
    assert status[1]["Original-Recipient"] == "rfc822; C@example.org"
    for f in tmp.glob("q.db*"):  # masked forms only in the record; the queued report is sealed
        assert b"536-22" not in f.read_bytes() and b"Your file" not in f.read_bytes()


async def test_dsn_mode_report_lands_in_the_embedded_outbox_without_raw_values(tmp_path: Path) -> None:
    sg = Sendguard(tmp_path, SENDGUARD_REPORT__MODE="dsn")
    await asyncio.to_thread(sg.start)
    try:
        code, text = await asyncio.to_thread(
            sg.send, SSN_MAIL, ("NOTIFY=FAILURE", "ORCPT=rfc822;C@example.org")
        )
        assert code == 250 and "report sent" in text, text
        await asyncio.to_thread(_first_eml, tmp_path / "outbox", 30)
    finally:
        await asyncio.to_thread(sg.stop)
    await asyncio.to_thread(_check_report, tmp_path)
