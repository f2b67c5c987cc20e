"""PostgreSQL gone in the middle of holds (its connections cut, the port closed): holds answer
451 within `quarantine.hold_timeout`, clean mail still flows, holds resume when it is back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.faults.upstream import Upstream
from tests.pgdatabase import Forwarder, fresh_database
from tests.postfix.conftest import CLEAN, MEDICAL, make_message, submit
from tests.postfix.harness import Sendguard, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
__all__ = ["fresh_database"]


@pytest.fixture
def forwarder() -> Iterator[Forwarder]:
    fwd = Forwarder()
    yield fwd
    fwd.close()


def test_postgres_gone_mid_hold(tmp_path: Path, fresh_database: str, forwarder: Forwarder) -> None:
    upstream = Upstream()
    upstream.run_forever()
    url = make_url(fresh_database).set(host="127.0.0.1", port=forwarder.port)
    sg = Sendguard(
        tmp_path,
        {
            "SENDGUARD_RELAY__HOST": "127.0.0.1",
            "SENDGUARD_RELAY__PORT": upstream.port,
            "SENDGUARD_QUARANTINE__URL": url.render_as_string(hide_password=False),
            "SENDGUARD_QUARANTINE__HOLD_TIMEOUT": 2,
            "SENDGUARD_SCAN__NLP": "false",
            "SENDGUARD_ADMIN__ENABLED": "false",
        },
    )
    sg.start()
    try:
        assert submit(sg.port, make_message(MEDICAL, subject="Compte rendu")[1])[0] == 250
        forwarder.cut()
        started = time.monotonic()
        code, text = submit(sg.port, make_message(MEDICAL, subject="Compte rendu")[1])
        assert code == 451 and "4.3.0" in text, (code, text)
        assert time.monotonic() - started < 10  # bounded by hold_timeout, not a TCP timeout
        clean_mid, clean = make_message(f"{CLEAN} while the database is gone")
        assert submit(sg.port, clean)[0] == 250  # mail that needs no hold flows
        forwarder.restore()
        wait_until(
            lambda: submit(sg.port, make_message(MEDICAL, subject="Compte rendu")[1])[0] == 250,
            20,
            "holds again",
        )
        listed = sg.cli("quarantine", "list", "--json")
        assert listed.returncode == 0 and len([x for x in listed.stdout.splitlines() if x.strip()]) == 2
        assert upstream.count([clean_mid]) == {clean_mid: 1}
    finally:
        sg.stop()
        upstream.shutdown()
