"""The console as its own process: `sendguard review` serves the same store `sendguard serve`
holds mail in, and `serve` with `review.embedded = false` leaves the console port alone."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from scanner.quarantine.model import Account, Role
from scanner.quarantine.store import open_store
from scanner.review import hash_password
from scanner.settings import QuarantineSettings
from tests.review.conftest import PASSWORD, csrf_from
from tests.review.fakes import SSN, SSN_MASKED, held, make_mail
from tests.review.sink import free_port

pytestmark = pytest.mark.slow


def _wait_for(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"exited early: {proc.stderr.read() if proc.stderr else ''}")
            time.sleep(0.1)
    pytest.fail(f"nothing listening on {port}")


@contextmanager
def _sendguard(command: str, env: dict[str, str], port: int) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "scanner.cli", command], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_for(port, proc)
        yield proc
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.wait()


async def test_console_runs_as_its_own_process(tmp_path: Path) -> None:
    qs = QuarantineSettings(url=f"sqlite+aiosqlite:///{tmp_path}/q.db", key_file=tmp_path / "q.key")
    store = await open_store(qs)
    await store.put_account(Account("dana", Role.VIEWER, hash_password(PASSWORD)))
    await store.hold(held("sep-1", make_mail("s", f"SSN {SSN} here"), datetime.now(UTC)))
    await store.close()
    smtp_port, console_port = free_port(), free_port()
    env = dict(os.environ)
    env.update(
        SENDGUARD_LISTEN__PORT=str(smtp_port),
        SENDGUARD_REVIEW__PORT=str(console_port),
        SENDGUARD_ADMIN__PORT=str(free_port()),
        SENDGUARD_REVIEW__EMBEDDED="false",
        SENDGUARD_SCAN__ENABLED="false",
        SENDGUARD_RELAY__OUTBOX_DIR=str(tmp_path / "outbox"),
        SENDGUARD_QUARANTINE__URL=qs.url,
        SENDGUARD_QUARANTINE__KEY_FILE=str(qs.key_file),
    )
    with _sendguard("serve", env, smtp_port) as proxy:
        with pytest.raises(OSError):  # not embedded: the proxy does not serve the console
            socket.create_connection(("127.0.0.1", console_port), timeout=1).close()
        with _sendguard("review", env, console_port) as console:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{console_port}") as c:
                page = await c.get("/login")
                await c.post(
                    "/login",
                    data={"username": "dana", "password": PASSWORD, "csrf_token": csrf_from(page.text)},
                )
                r = await c.get("/messages/sep-1")
                assert r.status_code == 200 and SSN_MASKED in r.text and SSN not in r.text
            assert console.pid != proxy.pid
