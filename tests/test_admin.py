"""The admin port of `sendguard serve`: Prometheus /metrics, /healthz, /readyz; JSON logs.

A real `sendguard serve` (real engine, one worker) in front of a loopback sink."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from scanner.metrics import OTHER_TENANT, Metrics
from tests.postfix.conftest import CLEAN, SSN, make_message, submit
from tests.postfix.harness import Sendguard, Sink, free_port, running_sink, wait_until

pytestmark = pytest.mark.slow


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sendguard, Sink, int]]:
    with running_sink() as (sink, sink_port):
        admin = free_port()
        sg = Sendguard(
            tmp_path_factory.mktemp("admin"),
            {
                "SENDGUARD_RELAY__HOST": "127.0.0.1",
                "SENDGUARD_RELAY__PORT": sink_port,
                "SENDGUARD_ADMIN__PORT": admin,
                "SENDGUARD_LOG_FORMAT": "json",
                "SENDGUARD_SCAN__NLP": "false",
            },
        )
        sg.start()
        yield sg, sink, admin
        assert sg.stop() == 0


def test_metrics_count_outcomes_by_action_and_group_without_values(
    served: tuple[Sendguard, Sink, int],
) -> None:
    sg, _sink, admin = served
    assert submit(sg.port, make_message(CLEAN)[1])[0] == 250
    assert submit(sg.port, make_message(SSN)[1])[0] == 550
    status, text = get(admin, "/metrics")
    assert status == 200
    got = samples(text)
    assert got[("sendguard_messages_total", (("action", "pass"),))] == 1
    assert got[("sendguard_messages_total", (("action", "reject"),))] == 1
    assert got[("sendguard_message_groups_total", (("action", "reject"), ("group", "government_id")))] == 1
    assert got[("sendguard_stage_seconds_count", (("stage", "scan"),))] == 2
    assert got[("sendguard_stage_seconds_count", (("stage", "relay"),))] == 1
    assert got[("sendguard_stage_seconds_count", (("stage", "decide"),))] == 2
    assert got[("sendguard_workers_ready", ())] == 1
    assert got[("sendguard_webhook_backlog", ())] == 0  # refreshed from the durable outbox: nothing queued
    assert ("sendguard_quarantine_held", ()) in got and ("sendguard_loop_lag_seconds_count", ()) in got
    for needle in ("8843", "536-22", "example.org", "shop@"):  # no value or address in any label
        assert needle not in text


def test_health_and_readiness_follow_the_upstream(served: tuple[Sendguard, Sink, int]) -> None:
    _sg, _, admin = served
    assert get(admin, "/healthz") == (200, "ok\n")
    status, body = get(admin, "/readyz")
    assert status == 200 and json.loads(body) == {
        "ready": True,
        "checks": {"workers": True, "store": True, "upstream": True},
    }


def test_not_ready_without_upstream(tmp_path: Path) -> None:
    admin = free_port()
    sg = Sendguard(
        tmp_path,
        {
            "SENDGUARD_RELAY__HOST": "127.0.0.1",
            "SENDGUARD_RELAY__PORT": free_port(),
            "SENDGUARD_ADMIN__PORT": admin,
            "SENDGUARD_SCAN__NLP": "false",
        },
    )
    sg.start()
    try:
        wait_until(lambda: get(admin, "/readyz")[0] == 503, 10, "not ready")
        assert json.loads(get(admin, "/readyz")[1])["checks"]["upstream"] is False
    finally:
        sg.stop()


def test_json_logs_are_one_object_per_line(served: tuple[Sendguard, Sink, int]) -> None:
    sg, _, _ = served
    lines = [line for line in sg.log().splitlines() if line.startswith("{")]
    assert any(json.loads(line)["msg"].startswith("msg=") for line in lines)
    assert all({"ts", "level", "logger", "msg"} <= json.loads(line).keys() for line in lines)


def test_tenant_label_is_opt_in_and_capped() -> None:
    assert Metrics().tenant_label is False
    m = Metrics(tenant_label=True, tenant_limit=2)
    assert [m.tenant(t) for t in ("a", "b", "c", "a", None)] == ["a", "b", OTHER_TENANT, "a", "none"]
