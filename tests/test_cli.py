"""`sendguard scan`: one JSON object per message, in the documented form; bad files don't stop it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def run_scan(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scanner.cli", "scan", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_scan_json_lines(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a-clean.eml").write_bytes(b"Subject: Shipped\r\n\r\nYour order 12345 has shipped.\r\n")
    (tmp_path / "sub" / "b-ssn.eml").write_bytes(b"Subject: File\r\n\r\nHere's my SSN: 536-22-8843\r\n")
    (tmp_path / "sub" / "c-big.eml").write_bytes(b"Subject: big\r\n\r\n" + b"x" * 5000)
    proc = run_scan("--json", str(tmp_path), env={"SENDGUARD_LISTEN__MAX_MESSAGE_SIZE": "4000"})
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [Path(r["path"]).name for r in rows] == ["a-clean.eml", "b-ssn.eml", "c-big.eml"]
    clean, ssn, big = rows
    assert (clean["verdict"], clean["findings"], clean["error"]) == ("pass", [], None)
    assert ssn["verdict"] == "reject" and ssn["error"] is None
    (f,) = ssn["findings"]
    assert f["category"] == "US_SSN" and f["group"] == "government_id" and f["location"] == "body[1]"
    assert f["masked"] == "***-**-8843" and 0 < f["score"] <= 1
    assert "536-22" not in proc.stdout
    assert big["verdict"] is None and "larger than 4000" in big["error"]
    assert proc.returncode == 2  # some file could not be processed


def test_scan_human_output_and_exit_status(tmp_path: Path) -> None:
    (tmp_path / "m.eml").write_bytes(
        b"Subject: Carte\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Ma carte bancaire : 4970 1012 3456 7893 (exp 12/29)\r\n"
    )
    proc = run_scan(str(tmp_path / "m.eml"))
    assert proc.returncode == 1, proc.stderr
    assert "REJECT" in proc.stdout and "PAYMENT_CARD" in proc.stdout and "7893" in proc.stdout
    assert "4970 1012" not in proc.stdout


def test_scan_reads_a_long_message_in_pieces_and_holds_a_flood_over_its_budget(tmp_path: Path) -> None:
    # as the proxy's workers do: text longer than one piece is detected piece by piece, each
    # piece under its share of the budget
    filler = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n" * 2000  # ~118 K chars
    (tmp_path / "a-long.eml").write_bytes(
        b"Subject: long\r\n\r\n" + filler + b"Here's my SSN: 536-22-8843\r\n"
    )
    (tmp_path / "b-flood.eml").write_bytes(b"Subject: dob\r\n\r\n" + b"DOB " * 500_000 + b"\r\n")
    proc = run_scan("--json", str(tmp_path), env={"SENDGUARD_SCAN__CPU_BUDGET": "1"})
    long, flood = [json.loads(line) for line in proc.stdout.splitlines()]
    (f,) = long["findings"]
    assert long["verdict"] == "reject" and f["category"] == "US_SSN" and f["location"] == "body[1]"
    assert flood["verdict"] == "hold" and [x["category"] for x in flood["findings"]] == ["UNSCANNED_BUDGET"]
