"""What a reviewer can do to a held message: release it exactly once, or reject it.

`release` is `scanner.quarantine.release.release` (shared with the CLI; it writes its own
"release" / "release_failed" audit events).

Exactly-once rests on the store's conditional claim (`claim_release`: HELD -> RELEASING in one
conditional update), not on anything in this process: two reviewers on two proxy instances race
on the same row and only one wins.

The reject notice is a short DSN-like message to the original MAIL FROM with the reference id and
the *categories* that were found (counts only). It never contains a matched value, a masked value
or any of the original content (RFC 3464 style, sent with the null reverse-path per RFC 5321
§4.5.5 so it can never bounce back into a loop).
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from scanner._errors import RelayPermanentError, RelayTemporaryError
from scanner.envelope_check import address_problem, header_safe
from scanner.model import Envelope
from scanner.ports import QuarantineStore, Relay
from scanner.quarantine.model import AuditEvent

log = logging.getLogger("scanner.review")


class RejectOutcome(enum.StrEnum):
    REJECTED = "rejected"
    NOT_HELD = "not_held"
    NOT_FOUND = "not_found"


async def reject(
    store: QuarantineStore,
    relay: Relay,
    message_id: str,
    actor: str,
    reason: str | None,
    *,
    notify_sender: bool,
    hostname: str,
    now: datetime,
) -> tuple[RejectOutcome, bool]:
    """Reject a held message; optionally tell the sender. Returns (outcome, notice_sent).

    Validate, then act: the notice is built (and its recipient checked) before anything is
    deleted, and the content goes in the same transaction as its "reject" audit event, so a
    failure can never leave content deleted without a record. A sender address the SMTP edge
    would refuse (a CR, invalid UTF-8: held before the edge checked) gets no notice, and the
    reason is audited ("notice_skipped"); a notice the relay refuses is audited ("notice_failed").
    """
    record = await store.get(message_id)
    if record is None:
        return RejectOutcome.NOT_FOUND, False
    sender = record.envelope.mail_from
    notice: bytes | None = None
    skipped: str | None = None
    if notify_sender and sender:  # never notify the null sender (RFC 5321 §4.5.5)
        skipped = address_problem(sender, smtputf8=True, role="recipient")
        if skipped is None:
            notice = build_notice(message_id, record.summary.categories, sender, hostname, now)
    event = AuditEvent(now, actor, "reject", message_id, reason)
    if not await store.reject(message_id, actor, reason, audit_event=event):
        return RejectOutcome.NOT_HELD, False
    log.info("audit reject by %s on %s", actor, message_id)
    if skipped is not None:
        await store.record(AuditEvent(now, actor, "notice_skipped", message_id, skipped))
    if notice is None:
        return RejectOutcome.REJECTED, False
    try:
        await relay.deliver(Envelope(mail_from="", rcpt_tos=(sender,)), notice)
    except (RelayTemporaryError, RelayPermanentError, OSError) as exc:
        # the rejection stands; only the courtesy notice failed
        log.warning("reject %s: notice not sent (%s)", message_id, type(exc).__name__)
        await store.record(AuditEvent(now, actor, "notice_failed", message_id, type(exc).__name__))
        return RejectOutcome.REJECTED, False
    return RejectOutcome.REJECTED, True


def build_notice(
    message_id: str, categories: dict[str, int], sender: str, hostname: str, now: datetime
) -> bytes:
    """The sender notice for a rejected message. Pure; categories and counts only, by design."""
    lines = [
        "Your message was not delivered.",
        "",
        "It was held by the outbound data-protection filter because it contained data",
        "that this platform does not allow in email, and a reviewer rejected it.",
        "",
        f"Reference: {message_id}",
        "Found:",
        *(f"  - {category}: {count}" for category, count in sorted(categories.items())),
        "",
        "Remove the data (send it through a secure channel instead) and send the message again.",
        "Quote the reference above if you contact support.",
    ]
    msg = EmailMessage()
    msg["From"] = f"Mail Delivery System <postmaster@{hostname}>"
    msg["To"] = header_safe(sender)  # checked by the caller; never a line break in a header
    msg["Subject"] = "Undelivered message: rejected by data-protection review"
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=hostname)
    msg["Auto-Submitted"] = "auto-replied"  # RFC 3834 §5: no auto-reply loops
    msg.set_content("\n".join(lines))
    return msg.as_bytes()
