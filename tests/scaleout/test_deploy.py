"""The shipped deployment files are valid: Kubernetes manifests against the API schemas
(kubernetes-validate, offline), the systemd unit with systemd-analyze, HAProxy's config with
`haproxy -c`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from scanner.assets import config_dir

DEPLOY = config_dir() / "deploy"
K8S_VERSION = "1.30.0"


def manifests() -> list[dict[str, object]]:
    return [d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / "sendguard.yaml").read_text()) if d]


def test_kubernetes_manifests_validate_against_the_api_schemas() -> None:
    docs = manifests()
    assert {d["kind"] for d in docs} == {"ConfigMap", "Deployment", "Service", "PodDisruptionBudget"}
    for doc in docs:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)  # raises on any error


def test_kubernetes_validation_is_not_a_rubber_stamp() -> None:
    deployment = next(d for d in manifests() if d["kind"] == "Deployment")
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["port"] = []
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_deployment_probes_and_config_match_sendguard() -> None:
    deployment = next(d for d in manifests() if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]  # type: ignore[index]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    config = next(d for d in manifests() if d["kind"] == "ConfigMap")["data"]["sendguard.toml"]  # type: ignore[index]
    import tomllib

    from scanner.settings import Settings

    Settings.model_validate(tomllib.loads(config))  # every key is a real setting


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_unit_verifies(tmp_path: Path) -> None:
    unit = (DEPLOY / "systemd" / "sendguard.service").read_text()
    sendguard = Path(sys.executable).with_name("sendguard")
    (tmp_path / "sendguard.service").write_text(unit.replace("/usr/local/bin/sendguard", str(sendguard)))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "sendguard.service")], capture_output=True, text=True
    )
    problems = [line for line in result.stderr.splitlines() if "sendguard.service" in line]
    assert result.returncode == 0 and not problems, result.stderr


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy not installed")
def test_haproxy_config_is_valid() -> None:
    result = subprocess.run(
        ["haproxy", "-c", "-f", str(DEPLOY / "haproxy.cfg")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
