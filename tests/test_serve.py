"""`sendguard serve` end to end, as a new user runs it: the real engine, worker processes,
the embedded outbox and the encrypted SQLite quarantine, driven over real sockets."""

from __future__ import annotations

import json
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SSN_MAIL = b"From: shop@example.com\r\nTo: c@example.org\r\nSubject: Your file\r\n\r\nDear client, your SSN 536-22-8843 is on file.\r\n"
CLEAN_MAIL = b"From: shop@example.com\r\nTo: c@example.org\r\nSubject: Shipped\r\n\r\nYour order 12345 has shipped.\r\n"
MEDICAL_MAIL = (
    "From: clinic@example.com\r\nTo: c@example.org\r\nSubject: Compte rendu\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    "Compte rendu de consultation. Mme Jeanne Martin, née le 12/03/1961. La patiente présente un diabète "
    "de type 2 mal équilibré (HbA1c 8,9 %) et une hypertension artérielle. Traitement : metformine 1000 mg "
    "deux fois par jour, ramipril 5 mg. Diagnostic CIM-10 E11.9.\r\n"
).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = dict(os.environ)
    env.update(
        SENDGUARD_LISTEN__PORT=str(port),
        SENDGUARD_REVIEW__PORT=str(free_port()),
        SENDGUARD_ADMIN__PORT=str(free_port()),
        SENDGUARD_RELAY__OUTBOX_DIR=str(tmp / "outbox"),
        SENDGUARD_QUARANTINE__URL=f"sqlite+aiosqlite:///{tmp}/q.db",
        SENDGUARD_QUARANTINE__KEY_FILE=str(tmp / "q.key"),
        SENDGUARD_SCAN__WORKERS="1",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "scanner.cli", "serve"], env=env, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"sendguard serve exited: {proc.stderr.read() if proc.stderr else ''}")
            time.sleep(0.2)
    yield port, tmp, env
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
    log = proc.stderr.read() if proc.stderr else ""
    # the log carries counts and references, never a value or a body
    # (the value in any grouping; not its last four alone: the masked form keeps them, and a
    # port or pid in the log may contain them)
    assert not re.search(r"536\D{0,2}22\D{0,2}8843", log)
    assert "Jeanne" not in log and "metformine" not in log


def send(port: int, data: bytes) -> tuple[int, str]:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as c:
        c.ehlo("client.test")
        c.mail("shop@example.com")
        c.rcpt("c@example.org")
        code, text = c.data(data)
        return code, text.decode()


def test_clean_mail_lands_in_the_outbox(served: tuple[int, Path, dict[str, str]]) -> None:
    port, tmp, _ = served
    code, text = send(port, CLEAN_MAIL)
    assert code == 250, text
    files = list((tmp / "outbox").glob("*.eml"))
    assert len(files) == 1 and files[0].read_bytes().endswith(CLEAN_MAIL)


def test_ssn_is_rejected_with_a_masked_report(served: tuple[int, Path, dict[str, str]]) -> None:
    port, _, _ = served
    code, text = send(port, SSN_MAIL)
    assert code == 550 and text.startswith("5.7.1"), text
    assert "US_SSN" in text and "8843" in text and "536-22" not in text


def test_clinical_note_is_held_encrypted_and_listed(served: tuple[int, Path, dict[str, str]]) -> None:
    port, tmp, env = served
    code, text = send(port, MEDICAL_MAIL)
    assert code == 250 and "held for review" in text, text
    ref = text.rsplit(" ", 1)[-1]
    for f in tmp.glob("q.db*"):  # the database and its WAL: encrypted at rest
        assert b"metformine" not in f.read_bytes() and b"Jeanne" not in f.read_bytes()
    out = subprocess.run(
        [sys.executable, "-m", "scanner.cli", "quarantine", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert [r["id"] for r in rows] == [ref]
