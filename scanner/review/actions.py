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
from scanner.events.decisions import decided
from scanner.events.model import EventType
from scanner.model import Envelope
from scanner.ports import EventJournal, QuarantineStore, Relay

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
    journal: EventJournal | None = None,
) -> tuple[RejectOutcome, bool]:
    """Reject a held message; optionally tell the sender. Returns (outcome, notice_sent)."""
    record = await store.get(message_id)
    if record is None:
        return RejectOutcome.NOT_FOUND, False
    if not await store.reject(message_id, actor, reason):
        return RejectOutcome.NOT_HELD, False
    await decided(journal, EventType.REJECTED_BY_REVIEWER, record, actor)
    sender = record.envelope.mail_from
    if not notify_sender or not sender:  # never notify the null sender (RFC 5321 §4.5.5)
        return RejectOutcome.REJECTED, False
    notice = build_notice(message_id, record.summary.categories, sender, hostname, now)
    try:
        await relay.deliver(Envelope(mail_from="", rcpt_tos=(sender,)), notice)
    except (RelayTemporaryError, RelayPermanentError, OSError) as exc:
        # the rejection stands; only the courtesy notice failed
        log.warning("reject %s: notice not sent (%s)", message_id, type(exc).__name__)
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
    msg["To"] = sender
    msg["Subject"] = "Undelivered message: rejected by data-protection review"
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=hostname)
    msg["Auto-Submitted"] = "auto-replied"  # RFC 3834 §5: no auto-reply loops
    msg.set_content("\n".join(lines))
    return msg.as_bytes()
