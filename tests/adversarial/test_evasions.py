"""Every evasion of issue 10 (and more), through the real extraction, engine and policy, and
through `sendguard scan --json`: each message is stopped and its value never appears raw."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.cli import scan_command
from scanner.detect import build_engine
from scanner.detect.engine import DetectionEngine
from scanner.extract import extract
from scanner.model import Action
from scanner.policy import Policy, decide
from scanner.report import rejection_reply, tag_headers
from scanner.settings import Settings
from tests.adversarial.cases import Case, generate

CASES = generate(rounds=2)
# known misses, said in the report: the value sits in a form the detectors do not take yet
KNOWN_MISSES: set[str] = set()


@pytest.fixture(scope="module")
def engine() -> DetectionEngine:
    return build_engine(nlp=False)


def _verdict(engine: DetectionEngine, case: Case) -> tuple[Action, str]:
    ex = extract(case.data, envelope=case.envelope)
    verdict = decide(Policy.default(), [*engine.detect(ex.segments), *ex.unscanned], ex.defects)
    shown = rejection_reply(verdict, "REF") + repr(tag_headers(verdict, "REF"))
    shown += json.dumps([f.as_dict() for f in verdict.findings]) + json.dumps(list(verdict.defects))
    return verdict.action, shown


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_evasion_is_stopped_and_nothing_raw_is_shown(engine: DetectionEngine, case: Case) -> None:
    if case.name.split("#")[0] in KNOWN_MISSES:
        pytest.xfail("known miss")
    action, shown = _verdict(engine, case)
    if case.positive:
        assert action in (Action.REJECT, Action.HOLD)
        digits = "".join(ch for ch in case.value if ch.isalnum())
        assert case.value not in shown and digits not in "".join(ch for ch in shown if ch.isalnum())
    else:
        assert action is Action.PASS


def test_limits_fail_closed(engine: DetectionEngine) -> None:
    """Text past the limits is not read, and that alone holds the message."""
    big = ("x" * 1000 + "\n") * 1200 + "SSN 536-22-8843"
    nested = b"Content-Type: message/rfc822\r\n\r\n" * 12 + b"\r\nSSN 536-22-8843\r\n"
    many = b"".join(b"--b\r\n\r\n.\r\n" for _ in range(10_001)) + b"--b\r\n\r\nSSN 536-22-8843\r\n--b--\r\n"
    for data, kind in (
        (f"Subject: a\r\n\r\n{big}".encode(), "UNSCANNED_TEXT_LIMIT"),
        (nested, "UNSCANNED_NESTING_LIMIT"),
        (b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + many, "UNSCANNED_PART_LIMIT"),
    ):
        ex = extract(data, max_text_bytes=1_000_000)
        verdict = decide(Policy.default(), [*engine.detect(ex.segments), *ex.unscanned])
        assert verdict.action is Action.HOLD
        assert kind in verdict.category_counts()
        assert all(f.masked.startswith("not read:") for f in verdict.reasons)


def test_scan_json_stops_a_representative_subset(tmp_path: Path) -> None:
    chosen = [c for c in CASES if c.positive and c.envelope is None and c.name.endswith("#0")]
    chosen = [c for c in chosen if c.name.split("#")[0] not in KNOWN_MISSES][:12]
    (tmp_path / "in").mkdir()
    for i, case in enumerate(chosen):
        (tmp_path / "in" / f"{i:02d}.eml").write_bytes(case.data)
    out = tmp_path / "out.jsonl"
    with out.open("w") as fh:
        status = scan_command(Settings(), [tmp_path / "in"], True, False, fh)
    assert status == 1
    text = out.read_text()
    records = [json.loads(line) for line in text.splitlines()]
    assert len(records) == len(chosen)
    assert all(r["verdict"] in ("reject", "hold") for r in records)
    for case in chosen:
        assert case.value not in text
