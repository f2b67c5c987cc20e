"""Settings: defaults, TOML file, SENDGUARD_* environment with __ nesting, in that precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.assets import config_dir
from scanner.settings import Settings, load_settings


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings()
    assert (s.listen.host, s.listen.port) == ("127.0.0.1", 2525)
    assert s.relay.host is None  # embedded default: outbox directory
    assert s.quarantine.url.startswith("sqlite+aiosqlite:")
    assert (s.review.host, s.review.port) == ("127.0.0.1", 8025)


def test_shipped_config_file_documents_the_defaults() -> None:
    assert load_settings(config_dir() / "sendguard.toml").model_dump() == Settings().model_dump()


def test_env_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "s.toml"
    f.write_text('[relay]\nhost = "mx.file"\nport = 2526\n[scan]\nworkers = 3\n')
    monkeypatch.setenv("SENDGUARD_RELAY__HOST", "mx.env")
    monkeypatch.setenv("SENDGUARD_RELAY__PASSWORD", "s3cret")
    s = load_settings(f)
    assert s.relay.host == "mx.env" and s.relay.port == 2526 and s.scan.workers == 3
    assert s.relay.password is not None and s.relay.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(s)


def test_unknown_keys_and_missing_file_are_errors(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text("[listen]\nprot = 25\n")
    with pytest.raises(ValueError):
        load_settings(f)
    with pytest.raises(FileNotFoundError):
        load_settings(tmp_path / "missing.toml")


@pytest.mark.parametrize("value", ["0", "-1"])
def test_a_hold_deadline_that_would_refuse_every_hold_and_rejection_is_an_error(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SENDGUARD_QUARANTINE__HOLD_TIMEOUT", value)
    with pytest.raises(ValueError, match="hold_timeout"):
        load_settings()
