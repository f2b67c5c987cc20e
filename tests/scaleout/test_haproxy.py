"""HAProxy (PROXY protocol v2) in front of two sendguard instances sharing one PostgreSQL.

One instance is SIGKILLed (with its workers) in the middle of the load; the client retries
4xx and broken connections like an MTA. Every message that got 250 is delivered once (twice at
most where an attempt broke after its final dot: SMTP's inherent window) or held once in the
shared quarantine; the client's own address survives through HAProxy into Received.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
from collections import Counter
from pathlib import Path

import pytest

from scanner.assets import config_dir
from scanner.quarantine.crypto import generate_key
from tests.loadclient import check_accounting, run_load
from tests.pgdatabase import fresh_database
from tests.postfix.conftest import CLEAN, MEDICAL, make_message
from tests.postfix.harness import Sendguard, free_port, running_sink, wait_for_port

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
REQUIRE_HAPROXY = os.environ.get("SENDGUARD_REQUIRE_HAPROXY") == "1"
__all__ = ["fresh_database"]
CLIENT_ADDRESS = "127.0.0.2"  # HAProxy itself connects from 127.0.0.1


def render_haproxy(front: int, servers: list[tuple[int, int]]) -> str:
    """The shipped config with the frontend on `front` and one server line per (smtp, admin) port."""
    text = (config_dir() / "deploy" / "haproxy.cfg").read_text()
    text = text.replace("    bind :25\n", f"    bind 127.0.0.1:{front}\n")
    text = re.sub(r"(?m)^    server .*\n", "", text)
    lines = "".join(
        f"    server sendguard-{i} 127.0.0.1:{smtp} check port {admin}\n"
        for i, (smtp, admin) in enumerate(servers, 1)
    )
    return text.rstrip("\n") + "\n" + lines


def test_two_instances_behind_haproxy_one_killed_mid_load(tmp_path: Path, fresh_database: str) -> None:
    if shutil.which("haproxy") is None:
        if REQUIRE_HAPROXY:
            pytest.fail("haproxy is not installed (SENDGUARD_REQUIRE_HAPROXY=1)")
        pytest.skip("haproxy is not installed")
    key = generate_key()
    with running_sink() as (sink, sink_port):
        instances = []
        for i in (1, 2):
            root = tmp_path / f"sg{i}"
            root.mkdir()
            instances.append(
                Sendguard(
                    root,
                    {
                        "SENDGUARD_RELAY__HOST": "127.0.0.1",
                        "SENDGUARD_RELAY__PORT": sink_port,
                        "SENDGUARD_QUARANTINE__URL": fresh_database,
                        "SENDGUARD_QUARANTINE__KEYS": json.dumps([key]),
                        "SENDGUARD_LISTEN__PROXY_PROTOCOL": 5,
                        "SENDGUARD_SCAN__NLP": "false",
                        "SENDGUARD_ADMIN__PORT": free_port(),
                    },
                )
            )
        front = free_port()
        cfg = tmp_path / "haproxy.cfg"
        cfg.write_text(
            render_haproxy(front, [(sg.port, int(sg.env["SENDGUARD_ADMIN__PORT"])) for sg in instances])
        )
        haproxy = None
        try:
            for sg in instances:  # one after the other: the first one migrates the new database
                sg.start()
            haproxy = subprocess.Popen(
                ["haproxy", "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            wait_for_port(front, 10, alive=lambda: haproxy.poll() is None)

            messages = [make_message(MEDICAL if i % 10 == 0 else f"{CLEAN} #{i}") for i in range(200)]
            medical = {mid for i, (mid, _) in enumerate(messages) if i % 10 == 0}
            killed = threading.Event()

            def kill_one(done: int) -> None:
                if done >= 60 and not killed.is_set():
                    killed.set()
                    instances[0].stop(signal.SIGKILL)

            deliveries = run_load(front, messages, concurrency=8, source=CLIENT_ADDRESS, on_final=kill_one)
            assert killed.is_set()

            listed = instances[1].cli("quarantine", "list", "--json", "--limit", "1000")
            assert listed.returncode == 0, listed.stderr
            held_rows = [line for line in listed.stdout.splitlines() if line.strip()]
            # the quarantine lists its own references, not Message-IDs: count held mail as a whole
            acknowledged_medical = [
                d for d in deliveries if d.message_id in medical and d.final and d.final[0] == 250
            ]
            ambiguous_medical = sum(d.broken_after_data_end for d in acknowledged_medical)
            assert (
                len(acknowledged_medical) <= len(held_rows) <= len(acknowledged_medical) + ambiguous_medical
            )
            held = Counter({d.message_id: 1 for d in acknowledged_medical})
            delivered = sink.count([mid for mid, _ in messages])
            assert not (set(delivered) & medical)  # held mail never reached the upstream
            problems = check_accounting(deliveries, delivered, held)
            assert not problems, problems[:10]
            assert all(d.final is not None and d.final[0] == 250 for d in deliveries)
            # the PROXY protocol header carried the client's address to sendguard
            assert all(f"[{CLIENT_ADDRESS}]".encode() in r.data for r in sink.snapshot() if r.mail_from)
            print(
                f"scale-out: {len(deliveries)} messages, {len(held_rows)} held, "
                f"{sum(delivered.values())} delivered, retries after 4xx {sum(d.tempfails for d in deliveries)}, "
                f"broken before/after the final dot {sum(d.broken_before_data_end for d in deliveries)}"
                f"/{sum(d.broken_after_data_end for d in deliveries)}"
            )
        finally:
            if haproxy is not None:
                haproxy.terminate()
                try:
                    haproxy.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    haproxy.kill()
                    haproxy.wait()
            for sg in instances:
                if sg.proc is not None and sg.proc.poll() is None:
                    sg.stop()
