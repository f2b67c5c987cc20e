"""The relay under faults: a full disk leaves no partial outbox file; a permanent upstream
refusal is counted and logged as `upstream_reject`, not as a temporary failure."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from scanner._errors import RelayPermanentError, RelayTemporaryError
from scanner.model import Envelope
from scanner.relay import OutboxRelay
from tests.fakes import FakeQuarantine, FakeRelay, FakeScanner, fake_gateway


async def test_a_full_outbox_answers_4xx_and_leaves_no_temp_files(tiny_fs: Path) -> None:
    relay = OutboxRelay(tiny_fs / "outbox")
    envelope = Envelope("a@example.com", ("b@example.org",))
    body = b"Subject: x\r\n\r\n" + b"y" * 20_000 + b"\r\n"
    accepted = 0
    with pytest.raises(RelayTemporaryError, match="outbox not writable"):
        for _ in range(100):  # 256 KiB fill up after ~12 messages
            await relay.deliver(envelope, body)
            accepted += 1
    files = sorted((tiny_fs / "outbox").iterdir())
    assert not [f for f in files if f.name.endswith(".tmp")]
    emls = [f for f in files if f.suffix == ".eml"]
    assert len(emls) == accepted > 0  # every acknowledged message is there, whole
    assert all(f.read_bytes().endswith(body) for f in emls)


async def test_a_permanent_upstream_refusal_is_counted_as_upstream_reject(
    caplog: pytest.LogCaptureFixture,
) -> None:
    relay = FakeRelay(fail_with=RelayPermanentError("upstream 552 5.3.4 too big", code=552, status="5.3.4"))
    gateway = fake_gateway(relay, FakeScanner(), FakeQuarantine())
    caplog.set_level(logging.INFO, "sendguard.gateway")
    outcome = await gateway.handle(Envelope("a@example.com", ("b@example.org",)), b"Subject: x\r\n\r\nhi\r\n")
    assert outcome.reply.startswith("552 5.3.4") and outcome.label == "upstream_reject"
    assert gateway.counters == {"upstream_reject": 1}
    assert "action=upstream_reject" in caplog.text and "action=tempfail" not in caplog.text
