"""Hot reload: a good file replaces the policy between two messages of one SMTP session; a broken
file never replaces a good one; `sendguard policy check/explain` from the command line."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import smtplib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.gateway import Gateway
from scanner.policy_watch import PolicyHolder
from scanner.settings import ListenSettings
from scanner.smtp import start_smtp_server
from tests.fakes import FakeQuarantine, FakeRelay, FakeScanner
from tests.smtp.test_proxy import msg

REJECT = '[groups.government_id]\nhigh = "reject"\n'
TAG = '[groups.government_id]\nhigh = "tag"\n'
BROKEN = '[groups.government_id]\nhigh = "tag"\nlow = "explode"\n'


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    p = tmp_path / "policy.toml"
    p.write_text(REJECT)
    return p


@pytest.fixture
async def served(policy_file: Path) -> AsyncIterator[tuple[int, PolicyHolder, FakeRelay]]:
    holder = PolicyHolder(policy_file)
    relay = FakeRelay()
    gateway = Gateway(
        scanner=FakeScanner(),
        policy=holder.current.default,
        policies=holder,
        relay=relay,
        quarantine=FakeQuarantine(),
        hostname="sg.test",
    )
    server = await start_smtp_server(gateway, ListenSettings(host="127.0.0.1", port=0, timeout=10))
    yield server.sockets[0].getsockname()[1], holder, relay
    server.close()
    await server.wait_closed()


def _rewrite(path: Path, text: str) -> None:
    path.write_text(text)
    st = path.stat()  # make the change visible to the watcher even within one mtime tick
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


async def test_reload_between_two_messages_of_one_session(
    served: tuple[int, PolicyHolder, FakeRelay], policy_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port, holder, relay = served
    client = await asyncio.to_thread(smtplib.SMTP, "127.0.0.1", port, timeout=10)
    try:
        await asyncio.to_thread(client.ehlo, "c")

        def one() -> int:
            client.mail("shop@example.com")
            client.rcpt("c@example.org")
            return client.data(msg("FAKE-SSN"))[0]

        assert await asyncio.to_thread(one) == 550
        _rewrite(policy_file, BROKEN)
        with caplog.at_level(logging.ERROR, logger="sendguard.policy"):
            assert not holder.reload()
        assert "line 3: groups.government_id.low" in caplog.text
        assert await asyncio.to_thread(one) == 550  # the good policy stayed
        _rewrite(policy_file, TAG)
        assert holder.reload()
        assert await asyncio.to_thread(one) == 250  # same session, new policy
        assert b"PII-Scan-Result: tag" in relay.delivered[0][1]
    finally:
        await asyncio.to_thread(client.quit)


async def test_watcher_reloads_on_file_change(
    served: tuple[int, PolicyHolder, FakeRelay], policy_file: Path
) -> None:
    _, holder, _ = served
    task = asyncio.create_task(holder.watch(every=0.05))
    try:
        _rewrite(policy_file, BROKEN)
        for _ in range(100):
            if holder.refused:
                break
            await asyncio.sleep(0.02)
        assert holder.refused == 1 and holder.reloads == 0
        _rewrite(policy_file, TAG)
        for _ in range(100):
            if holder.reloads:
                break
            await asyncio.sleep(0.02)
        assert holder.reloads == 1
    finally:
        task.cancel()


def test_policy_check_command(policy_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check", str(policy_file)]) == 0
    assert "ok:" in capsys.readouterr().out
    policy_file.write_text(BROKEN)
    assert main(["policy", "check", str(policy_file)]) == 1
    assert "line 3: groups.government_id.low" in capsys.readouterr().out


def test_policy_explain_names_the_rule_masked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text(
        '[tenants.acme]\ndomains = ["acme.example"]\n[tenants.acme.groups.government_id]\nhigh = "hold"\n'
    )
    mail = tmp_path / "m.eml"
    mail.write_bytes(
        b"From: a@acme.example\r\nTo: c@example.org\r\nSubject: x\r\n\r\nMy SSN is 536-22-8843, see you.\r\n"
    )
    assert main(["policy", "explain", str(mail), "--policy", str(policy), "--no-nlp"]) == 0
    out = capsys.readouterr().out
    assert "tenant: acme (sender domain)" in out and "verdict: HOLD" in out
    assert "decided by: tenants.acme.groups.government_id.high" in out
    assert "536-22" not in out and "8843" in out
    assert (
        main(["policy", "explain", str(mail), "--policy", str(policy), "--tenant", "other", "--no-nlp"]) == 0
    )
    out = capsys.readouterr().out
    assert "verdict: REJECT" in out and "decided by: groups.government_id.high" in out


def test_policy_digest_reads_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from scanner.digest import value_digest

    monkeypatch.setenv("SENDGUARD_TENANTS__DIGEST_KEY", "k1")
    monkeypatch.setattr("sys.stdin", io.StringIO("fr76 3000 6000 0112 3456 7890 189\n"))
    assert main(["policy", "digest"]) == 0
    assert capsys.readouterr().out.strip() == value_digest(b"k1", "FR7630006000011234567890189")
