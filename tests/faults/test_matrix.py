"""The fault matrix, under load, against a real `sendguard serve` (real engine, one worker,
SQLite quarantine) and an upstream whose behaviour each test switches (`upstream.py`).

Every scenario sends its own messages with retrying clients (4xx and broken connections are
retried, as an MTA does) and accounts for each one (`tests/loadclient.py`): every 250 is
delivered once or held once - twice only inside SMTP's inherent window (a connection broken
after the final dot, on either hop) - nothing with forbidden data ever reaches the upstream.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.faults.upstream import Upstream
from tests.loadclient import Delivery, check_accounting, run_load
from tests.postfix.conftest import CLEAN, MEDICAL, SSN, make_message, submit
from tests.postfix.harness import Sendguard, wait_until

pytestmark = pytest.mark.slow


class Rig:
    def __init__(self, sendguard: Sendguard, upstream: Upstream) -> None:
        self.sg, self.up = sendguard, upstream

    def load(
        self, bodies: list[str], *, concurrency: int = 6, during: object = None
    ) -> tuple[list[Delivery], list[str]]:
        """Send one message per body; `during(n)` runs after each final reply (fault injection)."""
        messages = [make_message(b) for b in bodies]
        deliveries = run_load(
            self.sg.port, messages, concurrency=concurrency, on_final=during or (lambda n: None)
        )
        return deliveries, [mid for mid, _ in messages]

    def account(self, deliveries: list[Delivery], held_ids: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        ids = [d.message_id for d in deliveries]
        time.sleep(0.5)  # a late duplicate would show up here
        delivered = self.up.count(ids)
        held = Counter(
            {
                d.message_id: 1
                for d in deliveries
                if d.message_id in held_ids and d.final and d.final[0] == 250
            }
        )
        problems = check_accounting(deliveries, delivered, held, self.up.unacknowledged)
        assert not problems, problems[:5]
        assert not (set(delivered) & held_ids), "held mail reached the upstream"

    def after_a_while(self, seconds: float, action: object) -> threading.Timer:
        timer = threading.Timer(seconds, action)  # type: ignore[arg-type]
        timer.start()
        return timer


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    upstream = Upstream()
    upstream.run_forever()
    sg = Sendguard(
        tmp_path_factory.mktemp("matrix"),
        {
            "SENDGUARD_RELAY__HOST": "127.0.0.1",
            "SENDGUARD_RELAY__PORT": upstream.port,
            "SENDGUARD_RELAY__TIMEOUT": 2,
            "SENDGUARD_QUARANTINE__HOLD_TIMEOUT": 2,
            "SENDGUARD_SCAN__NLP": "false",
            "SENDGUARD_SCAN__QUEUE_LIMIT": 3,
            "SENDGUARD_SCAN__TIMEOUT": 5,
            "SENDGUARD_ADMIN__ENABLED": "false",
        },
    )
    sg.start()
    try:
        yield Rig(sg, upstream)
    finally:
        if sg.proc is not None and sg.proc.poll() is None:
            sg.stop()
        upstream.shutdown()


@pytest.fixture(autouse=True)
def upstream_ok(rig: Rig) -> Iterator[None]:
    rig.up.mode = "ok"
    yield
    rig.up.mode = "ok"
    if rig.up._server is None:
        rig.up.start()


@pytest.mark.parametrize("mode", ["absent", "tempfail", "hang", "close_mid_data"])
def test_upstream_unavailable_then_back(rig: Rig, mode: str) -> None:
    """4xx to the client while the upstream is away, refuses, hangs or hangs up mid-DATA;
    every message arrives once when it is back."""
    if mode == "absent":
        rig.up.stop()
        back = rig.after_a_while(2.5, rig.up.start)
    else:
        rig.up.mode = mode
        back = rig.after_a_while(2.5, lambda: setattr(rig.up, "mode", "ok"))
    deliveries, _ = rig.load([f"{CLEAN} {mode} {i}" for i in range(12)])
    back.join()
    assert sum(d.tempfails for d in deliveries) > 0  # the fault was felt
    rig.account(deliveries)


def test_slow_upstream(rig: Rig) -> None:
    rig.up.mode, rig.up.delay = "slow", 0.3  # each upstream reply 0.3 s late, under relay.timeout
    deliveries, _ = rig.load([f"{CLEAN} slow {i}" for i in range(6)], concurrency=2)
    rig.account(deliveries)
    assert all(d.final and d.final[0] == 250 for d in deliveries)


def test_upstream_refusing_for_good_passes_the_5xx_on(rig: Rig) -> None:
    rig.up.mode = "reject"
    deliveries, ids = rig.load([f"{CLEAN} refused {i}" for i in range(3)])
    assert all(d.final and d.final[0] == 552 for d in deliveries)
    assert rig.up.count(ids) == {}


def test_upstream_killed_mid_load(rig: Rig) -> None:
    def kill_at(n: int) -> None:
        if n == 10:
            rig.up.stop()
            rig.after_a_while(1.0, rig.up.start)

    deliveries, _ = rig.load([f"{CLEAN} killed {i}" for i in range(40)], during=kill_at)
    rig.account(deliveries)


def test_workers_killed_repeatedly_nothing_passes_unscanned(rig: Rig) -> None:
    assert rig.sg.proc is not None
    parent = psutil.Process(rig.sg.proc.pid)
    kills = []

    def kill_workers(n: int) -> None:
        if n in (5, 15, 25):
            for child in parent.children(recursive=True):
                child.kill()
                kills.append(child.pid)

    bodies = [SSN if i % 4 == 0 else f"{CLEAN} workers {i}" for i in range(40)]
    deliveries, ids = rig.load(bodies, during=kill_workers)
    assert kills
    forbidden = {mid for mid, body in zip(ids, bodies, strict=True) if body == SSN}
    assert not (set(rig.up.count(ids)) & forbidden)  # no SSN ever passed
    assert all(d.final and d.final[0] == 550 for d in deliveries if d.message_id in forbidden)
    rig.account(deliveries)


def test_overload_beyond_the_scan_queue_limit(rig: Rig) -> None:
    deliveries, _ = rig.load([f"{CLEAN} overload {i}" for i in range(40)], concurrency=16)
    assert any("451" in a for d in deliveries for a in d.attempts)  # queue_limit 3: some were refused
    rig.account(deliveries)


def test_release_while_upstream_down_then_ambiguous_upstream(rig: Rig) -> None:
    mid, data = make_message(MEDICAL, subject="Compte rendu")
    code, text = submit(rig.sg.port, data)
    assert code == 250 and "held for review" in text
    ref = text.rsplit(" ", 1)[-1]
    rig.up.stop()
    down = rig.sg.cli("quarantine", "release", ref)
    assert down.returncode == 1 and "still held" in down.stdout
    rig.up.start()
    rig.up.mode = "store_then_close"  # the upstream takes it but its reply never comes
    ambiguous = rig.sg.cli("quarantine", "release", ref)
    assert ambiguous.returncode == 1 and "may have been" in ambiguous.stdout
    rig.up.mode = "ok"
    again = rig.sg.cli("quarantine", "release", ref)  # not held any more: never a silent second copy
    assert again.returncode == 1 and "not held" in again.stdout
    assert rig.up.count([mid]) == {mid: 1}
    listed = rig.sg.cli("quarantine", "list", "--status", "all", "--json")
    (row,) = [json.loads(line) for line in listed.stdout.splitlines() if ref in line]
    assert row["status"] == "uncertain"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_sendguard_stopped_mid_load_then_restarted(rig: Rig, sig: signal.Signals) -> None:
    """SIGTERM drains the messages in flight (exit 0); SIGKILL (with the workers) answers none
    of them, and their clients retry: both within the accounting above."""
    stopped: list[int] = []

    def stop_at(n: int) -> None:
        if n == 8 and not stopped:
            stopped.append(rig.sg.stop(sig))
            rig.sg.start()

    deliveries, _ = rig.load([f"{CLEAN} {sig.name} {i}" for i in range(30)], during=stop_at)
    assert stopped == [0] if sig == signal.SIGTERM else stopped == [-signal.SIGKILL]
    rig.account(deliveries)


def test_store_file_removed_under_the_proxy_answers_451(rig: Rig) -> None:
    """Last in the module: the quarantine is gone for the rest of this serve's life."""
    db = Path(rig.sg.env["SENDGUARD_QUARANTINE__URL"].split("///", 1)[1])
    for suffix in ("", "-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    code, text = submit(rig.sg.port, make_message(MEDICAL, subject="Compte rendu")[1])
    assert code == 451 and "4.3.0" in text, (code, text)
    clean_mid, clean = make_message(f"{CLEAN} after the store went")
    assert submit(rig.sg.port, clean)[0] == 250  # mail that needs no hold still flows
    wait_until(lambda: bool(rig.up.count([clean_mid])), 10, "the clean message upstream")
