"""The gateway decides and acts correctly for every verdict, and never loses mail."""

from __future__ import annotations

import pytest

from scanner.gateway import Gateway
from scanner.model import Action, Envelope
from tests.fakes import FakeQuarantine, FakeRelay, FakeScanner, fake_gateway

ENV = Envelope("sender@shop.example", ("a@example.org", "b@example.org"), helo="client.example")


def message(body: str, subject: str = "Hello") -> bytes:
    return f"From: sender@shop.example\r\nSubject: {subject}\r\n\r\n{body}\r\n".encode()


Parts = tuple[Gateway, FakeScanner, FakeRelay, FakeQuarantine]


@pytest.fixture
def parts() -> Parts:
    scanner, relay, quarantine = FakeScanner(), FakeRelay(), FakeQuarantine()
    return fake_gateway(relay, scanner, quarantine), scanner, relay, quarantine


async def test_clean_message_is_relayed_with_received_header(parts: Parts) -> None:
    gw, _, relay, quarantine = parts
    out = await gw.handle(ENV, message("nothing to see"))
    assert out.action is Action.PASS and out.reply.startswith("250 2.0.0")
    ((env, data),) = relay.delivered
    assert env == ENV
    assert data.startswith(b"Received: from client.example")
    assert data.endswith(message("nothing to see"))
    assert b"PII-Scan-" not in data and not quarantine.held


async def test_forged_scan_headers_are_stripped(parts: Parts) -> None:
    gw, _, relay, _ = parts
    forged = b"PII-Scan-Result: pass\r\nPII-Scan-Groups: none\r\n" + message("hi")
    await gw.handle(ENV, forged)
    assert b"PII-Scan-" not in relay.delivered[0][1]


async def test_reject_gives_550_with_masked_report_and_relays_nothing(parts: Parts) -> None:
    gw, _, relay, _ = parts
    out = await gw.handle(ENV, message("my number FAKE-SSN"))
    assert out.action is Action.REJECT
    lines = out.reply.split("\r\n")
    assert lines[0].startswith("550-5.7.1") and lines[-1].startswith("550 5.7.1 ")
    assert all(line[3] == "-" for line in lines[:-1])
    assert out.reference in lines[0]
    assert "US_SSN (government_id) in body[1]: ***-**-0000" in out.reply
    assert "FAKE-SSN" not in out.reply
    assert not relay.delivered


async def test_medical_is_held_not_relayed(parts: Parts) -> None:
    gw, _, relay, quarantine = parts
    raw = message("FAKE-MEDICAL note")
    out = await gw.handle(ENV, raw)
    assert out.action is Action.HOLD and out.reply.startswith("250 ")
    assert quarantine.held[0].id == out.reference and quarantine.held[0].data == raw
    assert not relay.delivered


async def test_low_confidence_is_tagged_and_relayed(parts: Parts) -> None:
    gw, _, relay, _ = parts
    out = await gw.handle(ENV, message("FAKE-WEAK"))
    assert out.action is Action.TAG
    data = relay.delivered[0][1]
    assert b"PII-Scan-Result: tag\r\n" in data
    assert b"PII-Scan-Categories: US_SSN=1\r\n" in data
    assert f"PII-Scan-Reference: {out.reference}".encode() in data


@pytest.mark.parametrize("broken", ["scanner", "relay", "quarantine"])
async def test_any_internal_failure_is_a_4xx(parts: Parts, broken: str) -> None:
    gw, scanner, relay, quarantine = parts
    fakes: dict[str, FakeScanner | FakeRelay | FakeQuarantine] = {
        "scanner": scanner,
        "relay": relay,
        "quarantine": quarantine,
    }
    fakes[broken].fail = True
    out = await gw.handle(ENV, message("FAKE-MEDICAL" if broken == "quarantine" else "hi"))
    assert out.action is None
    assert out.reply.startswith("451 4.")
    assert not quarantine.held and not relay.delivered


async def test_unexpected_exception_is_a_4xx_not_a_pass(
    parts: Parts, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    gw, scanner, relay, _ = parts

    async def explode(data: bytes, envelope: object = None) -> object:
        raise RuntimeError(f"cannot parse {data!r}")  # an exception message carrying content

    scanner.scan = explode  # type: ignore[method-assign]
    with caplog.at_level(logging.DEBUG):
        out = await gw.handle(ENV, message("SSN 536-22-8843"))
    assert out.reply.startswith("451 4.3.0") and not relay.delivered
    logged = caplog.text
    assert "RuntimeError at " in logged and "test_gateway.py" in logged  # where, for debugging
    assert "536-22-8843" not in logged and "cannot parse" not in logged  # never what


async def test_scanning_off_relays_everything(parts: Parts) -> None:
    _, _, relay, quarantine = parts
    gw = fake_gateway(relay, None, quarantine)
    out = await gw.handle(ENV, message("FAKE-SSN"))
    assert out.action is Action.PASS and len(relay.delivered) == 1


async def test_drain_waits_for_messages_in_flight(parts: Parts) -> None:
    import asyncio

    gw, _, relay, _ = parts
    gate, entered = asyncio.Event(), asyncio.Event()
    original = relay.deliver

    async def slow_deliver(envelope: Envelope, data: bytes) -> None:
        entered.set()
        await gate.wait()
        await original(envelope, data)

    relay.deliver = slow_deliver  # type: ignore[method-assign]
    task = asyncio.create_task(gw.handle(ENV, message("hi")))
    await entered.wait()
    assert await gw.drain(within=0.05) is False  # still in flight
    gate.set()
    assert await gw.drain(within=5) is True
    assert (await task).action is Action.PASS and len(relay.delivered) == 1


async def test_one_info_line_per_message_with_counts_and_no_content(
    parts: Parts,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    gw, _, _, _ = parts
    with caplog.at_level(logging.INFO, logger="sendguard.gateway"):
        out = await gw.handle(ENV, message("FAKE-SSN and FAKE-SSN", subject="Secret subject"))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "sendguard.gateway"]
    assert f"msg={out.reference}" in line and "action=reject" in line and "findings=US_SSN:2" in line
    assert "FAKE" not in line and "Secret" not in line and "sender@" not in line


def test_describe_names_type_and_place_never_the_message() -> None:
    from scanner._errors import describe

    try:
        raise ValueError("SSN 536-22-8843 is invalid")
    except ValueError as exc:
        text = describe(exc)
    assert text.startswith("ValueError at ") and "test_gateway.py:" in text
    assert "536" not in text


async def test_clock_and_reference_are_seams() -> None:
    from datetime import UTC, datetime

    from scanner.policy import Policy

    quarantine, relay = FakeQuarantine(), FakeRelay()
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    refs = iter(["REF1", "REF2"])
    gw = Gateway(
        scanner=FakeScanner(),
        policy=Policy.default(),
        relay=relay,
        quarantine=quarantine,
        hostname="sendguard.test",
        tenant_header="X-Tenant",
        now=lambda: at,
        new_reference=lambda: next(refs),
    )
    held = await gw.handle(
        ENV, b"X-Tenant:  acme\r\n  corp \r\nSubject: \xff\xfe odd\r\n\r\nFAKE-MEDICAL\r\n"
    )
    assert held.reference == "REF1" and held.reply.endswith("as REF1")
    assert quarantine.held[0].received_at == at and quarantine.held[0].tenant == "acme corp"
    passed = await gw.handle(ENV, message("hello"))
    assert passed.reference == "REF2"
    assert b"with ESMTP id REF2;\r\n\tFri, 02 Jan 2026 03:04:05 +0000\r\n" in relay.delivered[0][1]
