"""Seed data for the console tests (the relay fake is `tests.fakes.FakeRelay`)."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

from scanner.extract import extract
from scanner.model import Action, Confidence, Envelope, Finding, Group, Verdict
from scanner.ports import QuarantineStore
from scanner.quarantine.model import AuditEvent, HeldMessage, HeldStatus

SSN = "536-22-8741"
SSN_MASKED = "***-**-8741"
CARD = "4539 1488 0343 6467"
CARD_MASKED = "**** **** **** 6467"


def make_mail(
    subject: str, body: str, *, attachment: bytes | None = None, sender: str = "billing@shop.test"
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "client@example.org"
    msg["Subject"] = subject
    msg["Date"] = "Fri, 27 Nov 2026 11:00:00 +0000"
    msg["Message-ID"] = "<m1@shop.test>"
    msg["X-Customer-Ref"] = "internal"
    msg.set_content(body)
    if attachment is not None:
        msg.add_attachment(attachment, maintype="application", subtype="pdf", filename="statement.pdf")
    return msg.as_bytes()


OTHER_SSN = "536-22-8843"
_SPECS = {
    SSN: ("US_SSN", Group.GOVERNMENT_ID, SSN_MASKED),
    OTHER_SSN: ("US_SSN", Group.GOVERNMENT_ID, "***-**-8843"),
    CARD: ("PAYMENT_CARD", Group.PAYMENT_CARD, CARD_MASKED),
}


def findings_for(data: bytes, values: tuple[str, ...] = (SSN, CARD)) -> tuple[Finding, ...]:
    """Findings at the real offsets of `values` in the message's segments (as a detector would)."""
    out = []
    for seg in extract(data).segments:
        for value in values:
            start = seg.text.find(value)
            while start >= 0:
                category, group, masked = _SPECS[value]
                out.append(
                    Finding(
                        category,
                        group,
                        seg.location,
                        start,
                        start + len(value),
                        0.95,
                        Confidence.HIGH,
                        masked,
                    )
                )
                start = seg.text.find(value, start + 1)
    return tuple(out)


def held(
    message_id: str,
    data: bytes,
    received_at: datetime,
    *,
    tenant: str | None = "acme",
    sender: str = "billing@shop.test",
    findings: tuple[Finding, ...] | None = None,
) -> HeldMessage:
    fs = findings_for(data) if findings is None else findings
    return HeldMessage(
        id=message_id,
        envelope=Envelope(mail_from=sender, rcpt_tos=("client@example.org",), client_address="10.0.0.7"),
        data=data,
        verdict=Verdict(Action.HOLD, fs, fs),
        received_at=received_at,
        tenant=tenant,
    )


# --- reading a store through the Protocol only, so these tests run on any QuarantineStore --------


async def status_of(store: QuarantineStore, message_id: str) -> HeldStatus:
    record = await store.get(message_id)
    assert record is not None
    return record.summary.status


async def data_of(store: QuarantineStore, message_id: str) -> bytes | None:
    record = await store.get(message_id)
    assert record is not None
    return record.data


async def events_of(store: QuarantineStore) -> list[AuditEvent]:
    """The audit trail, oldest first."""
    return list(reversed(await store.audit_log()))
