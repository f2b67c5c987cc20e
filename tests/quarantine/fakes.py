"""Builders for the quarantine tests (the relay fake is `tests.fakes.FakeRelay`)."""

from __future__ import annotations

from datetime import UTC, datetime

from scanner.model import Action, Confidence, Envelope, Finding, Group, Verdict
from scanner.quarantine.model import HeldMessage

# a marker that must never appear in the database in clear
BODY_MARKER = "PLAINTEXT-MARKER-7f3a9c"


def finding(
    category: str = "US_SSN", group: Group = Group.GOVERNMENT_ID, location: str = "body[1]"
) -> Finding:
    return Finding(
        category=category,
        group=group,
        location=location,
        start=10,
        end=21,
        score=0.95,
        confidence=Confidence.HIGH,
        masked="***-**-6789",
    )


def held_message(
    message_id: str = "msg-1",
    *,
    mail_from: str = "billing@shop.example",
    rcpt_tos: tuple[str, ...] = ("alice@example.org",),
    findings: tuple[Finding, ...] | None = None,
    received_at: datetime | None = None,
    tenant: str | None = None,
    subject: str = "Your invoice",
    body: str = f"Hello, your SSN is 123-45-6789. {BODY_MARKER}",
) -> HeldMessage:
    found = (finding(),) if findings is None else findings
    data = (
        f"From: {mail_from}\r\nTo: {', '.join(rcpt_tos)}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{message_id}@shop.example>\r\n\r\n{body}\r\n"
    ).encode()
    return HeldMessage(
        id=message_id,
        envelope=Envelope(
            mail_from=mail_from,
            rcpt_tos=rcpt_tos,
            mail_options=("SIZE=1000", "BODY=8BITMIME"),
            rcpt_options=tuple(("NOTIFY=NEVER",) for _ in rcpt_tos),
            client_address="127.0.0.1",
            helo="app.shop.example",
        ),
        data=data,
        verdict=Verdict(action=Action.HOLD, findings=found, reasons=found[:1]),
        received_at=received_at or datetime.now(UTC),
        tenant=tenant,
    )
