"""What a person decides about held mail, in one place: the CLI (`sendguard quarantine ...`), the
JSON API and the HTML views of the review console all call `Decisions`.

    release          claim (one conditional UPDATE: one caller wins) -> relay upstream ->
                     RELEASED, or HELD again if the upstream refused or was unreachable, or
                     UNCERTAIN if the data went and its final reply never came
    release(again=)  an administrator sends an UNCERTAIN message once more, knowingly
    mark_delivered   an administrator checked the upstream: an UNCERTAIN message did arrive
    requeue          an administrator puts a release interrupted by a crash back in the queue
    reject           REJECTED, bytes purged; optionally a notice to the sender
    delete, purge    the message gone entirely; retention expiry now

Every decision writes its audit event here, so every way in is audited the same way. The
states and what may follow what are `scanner.quarantine.lifecycle`; exactly-once rests on the
store's conditional updates, not on anything in this process (two reviewers on two proxy
instances race on the same row).

The reject notice is a short DSN-like message to the original MAIL FROM with the reference and
the *categories* that were found (counts only). It never contains a matched value, a masked
value or any of the original content (RFC 3464 style, sent with the null reverse-path per RFC
5321 §4.5.5 so it can never bounce back into a loop).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from scanner._errors import RelayAmbiguousError, RelayPermanentError, RelayTemporaryError
from scanner.envelope_check import address_problem, envelope_problem, header_safe
from scanner.events.decisions import decided
from scanner.events.model import EventType
from scanner.headers import strip_our_headers
from scanner.model import Envelope
from scanner.ports import EventJournal, QuarantineStore, Relay
from scanner.quarantine.lifecycle import Step
from scanner.quarantine.model import AuditEvent

log = logging.getLogger("sendguard.quarantine")

# bound on the upstream's reply kept in the audit trail
_MAX_ERROR_TEXT = 300


class ReleaseOutcome(enum.StrEnum):
    RELEASED = "released"
    NOT_HELD = "not_held"  # already released, rejected, expired or being released by someone else
    NOT_FOUND = "not_found"
    RELAY_FAILED = "relay_failed"  # upstream refused or unreachable; the message is HELD again
    UNCERTAIN = "uncertain"  # sent, no final reply: the upstream may have it; an admin decides


@dataclass(frozen=True, slots=True)
class ReleaseResult:
    outcome: ReleaseOutcome
    # the upstream's SMTP reply on RELAY_FAILED / UNCERTAIN (never message content)
    error: str | None = None


class RejectOutcome(enum.StrEnum):
    REJECTED = "rejected"
    NOT_HELD = "not_held"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class RejectResult:
    outcome: RejectOutcome
    notified: bool = False


def _smtp_error_text(exc: RelayTemporaryError | RelayPermanentError) -> str:
    text = f"{exc.code} {exc.status} {exc.detail or exc.text}"
    return " ".join(text.split())[:_MAX_ERROR_TEXT]


class Decisions:
    """Release, reject, delete... one held message, audited. Cheap: build one per request."""

    def __init__(
        self,
        store: QuarantineStore,
        relay: Relay,
        *,
        hostname: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        journal: EventJournal | None = None,
    ) -> None:
        self.store = store
        self.relay = relay
        self.hostname = hostname
        self.clock = clock
        # releases and rejections become webhook events through it (`scanner.events.decisions`)
        self.journal = journal

    async def audit(
        self, actor: str, action: str, message_id: str | None = None, reason: str | None = None
    ) -> None:
        await self.store.record(AuditEvent(self.clock(), actor, action, message_id, reason))
        # the reason is free text a person typed: it goes to the audit trail, not the log
        log.info("audit %s by %s on %s", action, actor, message_id or "-")

    async def release(self, message_id: str, actor: str, *, again: bool = False) -> ReleaseResult:
        """Release `message_id` exactly once (`again`: an UNCERTAIN one, by an administrator)."""
        record = await self.store.claim_release(message_id, actor, Step.CLAIM_AGAIN if again else Step.CLAIM)
        if record is None:
            exists = await self.store.get(message_id) is not None
            return ReleaseResult(ReleaseOutcome.NOT_HELD if exists else ReleaseOutcome.NOT_FOUND)
        if record.data is None:  # cannot happen before a release; keep the invariant explicit
            await self.store.transition(message_id, Step.UNCERTAIN, actor)
            return ReleaseResult(ReleaseOutcome.NOT_HELD)
        try:
            problem = envelope_problem(record.envelope)
            if problem is not None:  # held before the SMTP edge checked it: never a CR on the wire
                raise RelayPermanentError(f"refused locally: {problem}", code=550, status="5.1.0")
            # exactly like the pass path: a sender must not be able to forge our verdict headers
            await self.relay.deliver(record.envelope, strip_our_headers(record.data))
        except RelayAmbiguousError as exc:
            await self.store.transition(message_id, Step.UNCERTAIN, actor)
            error = _smtp_error_text(exc)
            log.warning("release of %s by %s: no final reply upstream; left uncertain", message_id, actor)
            await self.audit(actor, "release_uncertain", message_id, error)
            return ReleaseResult(ReleaseOutcome.UNCERTAIN, error)
        except (RelayTemporaryError, RelayPermanentError) as exc:
            await self.store.transition(message_id, Step.REFUSED, actor)
            error = _smtp_error_text(exc)
            log.warning("release of %s by %s failed upstream: %s %s", message_id, actor, exc.code, exc.status)
            await self.audit(actor, "release_failed", message_id, error)
            return ReleaseResult(ReleaseOutcome.RELAY_FAILED, error)
        except BaseException:
            # anything else (cancellation, a bug): we do not know whether the upstream has the
            # message, so it stays RELEASING rather than risk a second delivery
            log.error(
                "release of %s interrupted after claim; left RELEASING for an administrator", message_id
            )
            raise
        await self.store.transition(message_id, Step.DELIVERED, actor)
        await self.audit(actor, "release_again" if again else "release", message_id)
        log.info("released %s by %s", message_id, actor)
        await decided(self.journal, EventType.RELEASED, record, actor)
        return ReleaseResult(ReleaseOutcome.RELEASED)

    async def mark_delivered(self, message_id: str, actor: str, reason: str | None = None) -> bool:
        """An administrator checked the upstream: the UNCERTAIN message did arrive."""
        if not await self.store.transition(message_id, Step.MARK_DELIVERED, actor, reason):
            return False
        await self.audit(actor, "mark_delivered", message_id, reason)
        return True

    async def requeue(self, message_id: str, actor: str) -> bool:
        """A release interrupted by a crash (RELEASING) goes back to the queue (administrator)."""
        before = await self.store.get(message_id)
        if before is None or not await self.store.transition(message_id, Step.REQUEUE, actor):
            return False
        await self.audit(actor, "requeue", message_id, f"was claimed by {before.summary.decided_by}")
        return True

    async def reject(
        self, message_id: str, actor: str, reason: str | None, *, notify_sender: bool = False
    ) -> RejectResult:
        """Reject a held message (bytes purged); optionally tell the sender (categories only).

        Validate, then act: the notice is built (and its recipient checked) before anything is
        deleted, and the content goes in the same transaction as its "reject" audit event, so a
        failure can never leave content deleted without a record. A sender address the SMTP edge
        would refuse (a CR, invalid UTF-8: held before the edge checked) gets no notice, audited
        as "notice_skipped"; a notice the relay refuses is audited as "notice_failed".
        """
        record = await self.store.get(message_id)
        if record is None:
            return RejectResult(RejectOutcome.NOT_FOUND)
        now = self.clock()
        sender = record.envelope.mail_from
        notice: bytes | None = None
        skipped: str | None = None
        if notify_sender and sender:  # never notify the null sender (RFC 5321 §4.5.5)
            skipped = address_problem(sender, smtputf8=True, role="recipient")
            if skipped is None:
                notice = build_notice(message_id, record.summary.categories, sender, self.hostname, now)
        event = AuditEvent(now, actor, "reject", message_id, reason)
        if not await self.store.transition(message_id, Step.REJECT, actor, reason, audit_event=event):
            return RejectResult(RejectOutcome.NOT_HELD)
        log.info("audit reject by %s on %s", actor, message_id)
        await decided(self.journal, EventType.REJECTED_BY_REVIEWER, record, actor)
        if skipped is not None:
            await self.audit(actor, "notice_skipped", message_id, skipped)
        if notice is None:
            return RejectResult(RejectOutcome.REJECTED)
        try:
            await self.relay.deliver(Envelope(mail_from="", rcpt_tos=(sender,)), notice)
        except (RelayTemporaryError, RelayPermanentError, OSError) as exc:
            # the rejection stands; only the courtesy notice failed
            log.warning("reject %s: notice not sent (%s)", message_id, type(exc).__name__)
            await self.audit(actor, "notice_failed", message_id, type(exc).__name__)
            return RejectResult(RejectOutcome.REJECTED)
        return RejectResult(RejectOutcome.REJECTED, notified=True)

    async def delete(self, message_id: str, actor: str) -> bool:
        """The message and its findings removed for good (the audit trail stays)."""
        if not await self.store.delete(message_id):
            return False
        await self.audit(actor, "delete", message_id)
        return True

    async def purge(self, actor: str) -> int:
        """Expire held mail past retention now; returns how many."""
        count = await self.store.purge_expired(self.clock())
        await self.audit(actor, "purge", None, f"{count} expired")
        return count


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
