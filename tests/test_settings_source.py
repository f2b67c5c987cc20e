"""One settings source for every command: --config anywhere, SENDGUARD_CONFIG, the system file;
paths resolved; a quarantine command that finds no store says so instead of creating one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scanner.cli import split_config
from scanner.relay import OutboxRelay
from scanner.settings import config_source, load_settings, resolve_paths


def test_config_is_taken_before_or_after_the_subcommand() -> None:
    assert split_config(["--config", "a.toml", "serve"]) == (Path("a.toml"), ["serve"])
    assert split_config(["serve", "--config", "a.toml"]) == (Path("a.toml"), ["serve"])
    assert split_config(["quarantine", "list", "--config=b.toml", "--json"]) == (
        Path("b.toml"),
        ["quarantine", "list", "--json"],
    )


def test_config_source_precedence(tmp_path: Path) -> None:
    assert config_source(Path("cli.toml"), {"SENDGUARD_CONFIG": "env.toml"}) == Path("cli.toml")
    assert config_source(None, {"SENDGUARD_CONFIG": "env.toml"}) == Path("env.toml")


def test_relative_paths_are_resolved_against_the_working_directory(tmp_path: Path) -> None:
    s = resolve_paths(load_settings(), tmp_path)
    assert s.relay.outbox_dir == tmp_path / "var/outbox"
    assert s.quarantine.key_file == tmp_path / "var/quarantine.key"
    assert s.quarantine.url == f"sqlite+aiosqlite:///{tmp_path}/var/quarantine.db"
    assert s.policy_file.is_absolute()


def _cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    full = {k: v for k, v in os.environ.items() if not k.startswith("SENDGUARD_")}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "scanner.cli", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_quarantine_without_a_store_says_so_and_creates_nothing(tmp_path: Path) -> None:
    result = _cli(tmp_path, "quarantine", "list")
    assert result.returncode == 1
    assert f"no quarantine database at {tmp_path}/var/quarantine.db" in result.stderr
    assert not (tmp_path / "var").exists()


def test_release_refuses_an_outbox_no_serve_delivers_to(tmp_path: Path) -> None:
    toml = tmp_path / "s.toml"
    toml.write_text(
        f'[quarantine]\nurl = "sqlite+aiosqlite:///{tmp_path}/q.db"\nkey_file = "{tmp_path}/q.key"\n'
    )
    created = _cli(tmp_path, "--config", str(toml), "quarantine", "new-key")
    assert created.returncode == 0
    (tmp_path / "q.key").write_text(created.stdout)
    (tmp_path / "q.db").touch()
    refused = _cli(tmp_path, "quarantine", "release", "NOPE", env={"SENDGUARD_CONFIG": str(toml)})
    assert refused.returncode == 1 and "refusing to release there" in refused.stderr
    # once a serve with this quarantine delivers to that outbox, the CLI may release into it
    OutboxRelay(tmp_path / "var/outbox").mark_served(f"sqlite+aiosqlite:///{tmp_path}/q.db")
    allowed = _cli(tmp_path, "quarantine", "release", "NOPE", "--config", str(toml))
    assert allowed.returncode == 1 and "no message NOPE" in allowed.stdout, allowed.stderr
    assert f"quarantine sqlite+aiosqlite:///{tmp_path}/q.db" in allowed.stderr  # paths printed


@pytest.mark.parametrize("where", ["before", "after"])
def test_serve_accepts_config_on_either_side(tmp_path: Path, where: str) -> None:
    toml = tmp_path / "s.toml"
    toml.write_text('[listen]\nport = "not a port"\n')  # invalid on purpose: proves the file was read
    args = ["--config", str(toml), "serve"] if where == "before" else ["serve", "--config", str(toml)]
    result = _cli(tmp_path, *args)
    assert result.returncode == 2 and "bad settings" in result.stderr and "listen.port" in result.stderr
