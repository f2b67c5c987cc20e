"""The shipped Prometheus rules and Grafana dashboard use only series `sendguard serve` exports."""

from __future__ import annotations

import json
import re

import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from scanner.assets import config_dir
from scanner.metrics import Metrics

OBS = config_dir() / "observability"


def exported() -> set[str]:
    m = Metrics()
    m.messages.labels(action="pass").inc()
    m.groups.labels(action="pass", group="none").inc()
    m.relay_errors.labels(error_class="temporary").inc()
    m.store_errors.inc()
    m.loop_lag.observe(0.001)
    text = generate_latest(m.registry).decode()
    return {s.name for f in text_string_to_metric_families(text) for s in f.samples}


def used(text: str) -> set[str]:
    return set(re.findall(r"\bsendguard_[a-z_]+", text))


def test_alert_rules_parse_and_use_exported_series() -> None:
    text = (OBS / "alerts.yml").read_text()
    rules = yaml.safe_load(text)["groups"][0]["rules"]
    assert rules and all({"alert", "expr", "annotations"} <= r.keys() for r in rules)
    assert used(text) - {"sendguard_"} <= exported(), used(text) - exported()


def test_dashboard_parses_and_uses_exported_series() -> None:
    text = (OBS / "grafana-dashboard.json").read_text()
    dashboard = json.loads(text)
    assert dashboard["panels"] and all(p["targets"] for p in dashboard["panels"])
    assert used(text) <= exported(), used(text) - exported()
