"""What a reviewer can do to a held message: release it exactly once, or reject it.

`release` here is a stand-in with the same contract as `scanner.quarantine.release.release`
(being written alongside), audit events included; once that lands, `ReleaseOutcome` and
`release` below are replaced by ``from scanner.quarantine.release import ReleaseOutcome, release``.

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
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from scanner._errors import RelayPermanentError, RelayTemporaryError
from scanner.model import Envelope
from scanner.ports import AuditEvent, QuarantineStore, Relay

log = logging.getLogger("scanner.review")


class ReleaseOutcome(enum.StrEnum):
    RELEASED = "released"
    NOT_HELD = "not_held"  # already released, rejected, expired or being released by someone else
    NOT_FOUND = "not_found"
    RELAY_FAILED = "relay_failed"  # upstream refused or unreachable; the message is HELD again


async def release(store: QuarantineStore, relay: Relay, message_id: str, actor: str) -> ReleaseOutcome:
    """Relay the original bytes upstream once and audit it ("release" / "release_failed").

    See the module docstring for why only once. Anything other than a relay error (a bug,
    cancellation) leaves the message RELEASING: we cannot know whether the upstream has it, and
    sending twice is worse than asking an administrator.
    """
    record = await store.claim_release(message_id, actor)
    if record is None:
        return ReleaseOutcome.NOT_FOUND if await store.get(message_id) is None else ReleaseOutcome.NOT_HELD
    if record.data is None:  # cannot happen for a HELD message; never send an empty body
        await store.abort_release(message_id)
        return ReleaseOutcome.NOT_HELD
    try:
        await relay.deliver(record.envelope, record.data)
    except (RelayTemporaryError, RelayPermanentError) as exc:
        log.warning("release %s: upstream failed (%s %s); held again", message_id, exc.code, exc.status)
        await store.abort_release(message_id)
        await store.record(
            AuditEvent(datetime.now(UTC), actor, "release_failed", message_id, f"{exc.code} {exc.status}")
        )
        return ReleaseOutcome.RELAY_FAILED
    await store.finish_release(message_id, actor)
    await store.record(AuditEvent(datetime.now(UTC), actor, "release", message_id))
    return ReleaseOutcome.RELEASED


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
    """Reject a held message; optionally tell the sender. Returns (outcome, notice_sent)."""
    record = await store.get(message_id)
    if record is None:
        return RejectOutcome.NOT_FOUND, False
    if not await store.reject(message_id, actor, reason):
        return RejectOutcome.NOT_HELD, False
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
