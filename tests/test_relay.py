"""The embedded outbox relay: one durable .eml per message, envelope as trace headers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanner._errors import RelayTemporaryError
from scanner.model import Envelope
from scanner.relay import OutboxRelay


async def test_outbox_writes_one_eml_per_message(tmp_path: Path) -> None:
    relay = OutboxRelay(tmp_path / "out")
    env = Envelope("a@example.com", ("b@example.org", "c@example.org"))
    await relay.deliver(env, b"Subject: one\r\n\r\nbody\r\n")
    await relay.deliver(env, b"Subject: two\r\n\r\nbody\r\n")
    files = sorted((tmp_path / "out").iterdir())
    assert len(files) == 2 and all(f.suffix == ".eml" for f in files)
    data = files[0].read_bytes()
    assert data.startswith(
        b"Return-Path: <a@example.com>\r\nDelivered-To: b@example.org\r\nDelivered-To: c@example.org\r\n"
    )
    assert not any(f.name.startswith(".") for f in files)  # no temp files left behind


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
async def test_unwritable_outbox_is_a_temporary_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    relay = OutboxRelay(out)
    out.chmod(0o500)
    try:
        with pytest.raises(RelayTemporaryError):
            await relay.deliver(Envelope("a@b", ("c@d",)), b"x")
    finally:
        out.chmod(0o700)


async def test_outbox_replaced_by_a_file_is_a_temporary_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    relay = OutboxRelay(out)
    out.rmdir()
    out.write_text("not a directory")
    with pytest.raises(RelayTemporaryError):
        await relay.deliver(Envelope("a@b", ("c@d",)), b"x")
