"""Report modes through the gateway on loopback SMTP: reply (550) and dsn (250 + our report)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from scanner._errors import StoreError
from scanner.events.journal import Rejection
from scanner.events.model import Event
from scanner.gateway import Gateway
from scanner.policy import Policy
from scanner.reports.dsn import Report
from scanner.reports.reporter import Reporter
from scanner.settings import ListenSettings, ReportSettings
from scanner.smtp import start_smtp_server
from tests.fakes import FakeQuarantine, FakeRelay, FakeScanner
from tests.smtp.test_proxy import msg, send


class FakeJournal:
    def __init__(self) -> None:
        self.rejections: list[tuple[Rejection, Report | None]] = []
        self.events: list[Event] = []
        self.fail = False

    async def rejected(self, rejection: Rejection, report: Report | None) -> None:
        if self.fail:
            raise StoreError("fake store down")
        self.rejections.append((rejection, report))

    async def emit(self, event: Event) -> None:
        self.events.append(event)


async def _serve(mode: str, journal: FakeJournal, relay: FakeRelay) -> AsyncIterator[int]:
    reporter = Reporter(
        journal, ReportSettings(mode=mode), hostname="sg.test", language_of=lambda t: "fr" if t else None
    )  # type: ignore[arg-type]
    gateway = Gateway(
        scanner=FakeScanner(),
        policy=Policy.default(),
        relay=relay,
        quarantine=FakeQuarantine(),
        hostname="sg.test",
        tenant_header="X-Tenant",
        reporter=reporter,
    )
    server = await start_smtp_server(gateway, ListenSettings(host="127.0.0.1", port=0, timeout=10))
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


@pytest.fixture
def journal() -> FakeJournal:
    return FakeJournal()


@pytest.fixture
def relay() -> FakeRelay:
    return FakeRelay()


@pytest.fixture
async def reply_port(journal: FakeJournal, relay: FakeRelay) -> AsyncIterator[int]:
    async for port in _serve("reply", journal, relay):
        yield port


@pytest.fixture
async def dsn_port(journal: FakeJournal, relay: FakeRelay) -> AsyncIterator[int]:
    async for port in _serve("dsn", journal, relay):
        yield port


async def test_reply_mode_records_then_answers_550(reply_port: int, journal: FakeJournal) -> None:
    code, text = await asyncio.to_thread(send, reply_port, msg("SSN FAKE-SSN"))
    assert code == 550 and "5.7.1" in text
    ((rejection, report),) = journal.rejections
    assert report is None and rejection.mode == "reply" and rejection.reference in text


async def test_dsn_mode_answers_250_and_queues_a_report(
    dsn_port: int, journal: FakeJournal, relay: FakeRelay
) -> None:
    code, text = await asyncio.to_thread(send, dsn_port, msg("SSN FAKE-SSN"), rcpt_options=["NOTIFY=FAILURE"])
    assert code == 250 and "not delivered" in text and "report sent" in text
    ((_, report),) = journal.rejections
    assert (
        report is not None
        and report.envelope.mail_from == ""
        and report.envelope.rcpt_tos == ("shop@example.com",)
    )
    assert b"FAKE-SSN" not in report.data and relay.delivered == []  # content discarded


async def test_dsn_mode_notify_never_means_no_report(dsn_port: int, journal: FakeJournal) -> None:
    code, text = await asyncio.to_thread(send, dsn_port, msg("FAKE-SSN"), rcpt_options=["NOTIFY=NEVER"])
    assert code == 250 and "no report" in text
    ((_, report),) = journal.rejections
    assert report is None


async def test_tenant_language(dsn_port: int, journal: FakeJournal) -> None:
    data = b"X-Tenant: acme\r\n" + msg("FAKE-SSN")
    code, _ = await asyncio.to_thread(send, dsn_port, data)
    ((rejection, report),) = journal.rejections
    assert (
        code == 250
        and rejection.tenant == "acme"
        and report is not None
        and b"R=C3=A9f=C3=A9rence" in report.data
    )


@pytest.mark.parametrize("mode", ["reply", "dsn"])
async def test_journal_failure_is_451_in_both_modes(
    mode: str, journal: FakeJournal, relay: FakeRelay
) -> None:
    journal.fail = True
    async for port in _serve(mode, journal, relay):
        code, _ = await asyncio.to_thread(send, port, msg("FAKE-SSN"))
        assert code == 451


async def test_tagged_mail_emits_an_event_after_relay(
    reply_port: int, journal: FakeJournal, relay: FakeRelay
) -> None:
    code, _ = await asyncio.to_thread(send, reply_port, msg("FAKE-WEAK"))
    assert code == 250 and len(relay.delivered) == 1
    (ev,) = journal.events
    assert ev.type.value == "message.tagged"
