"""Release a held message upstream exactly once (used by the CLI and the review console).

    claim_release (HELD -> RELEASING, one conditional UPDATE: only one caller wins)
      -> relay.deliver(envelope, original bytes)
      -> finish_release (RELEASED, bytes purged)      or, if the upstream refused or was
         abort_release  (back to HELD)                   unreachable, so it can be retried
      -> audit event

If the process dies between delivery and `finish_release`, the message stays RELEASING: we
cannot know whether the upstream took it, and sending twice is what this module exists to
prevent, so an administrator decides.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from scanner._errors import RelayPermanentError, RelayTemporaryError
from scanner.envelope_check import envelope_problem
from scanner.headers import strip_our_headers
from scanner.ports import QuarantineStore, Relay
from scanner.quarantine.model import AuditEvent

log = logging.getLogger(__name__)

# bound on the upstream's reply kept in the audit trail
_MAX_ERROR_TEXT = 300


class ReleaseOutcome(enum.StrEnum):
    RELEASED = "released"
    NOT_HELD = "not_held"  # already released, rejected, expired or being released by someone else
    NOT_FOUND = "not_found"
    RELAY_FAILED = "relay_failed"  # upstream refused or unreachable; the message is HELD again


@dataclass(frozen=True, slots=True)
class ReleaseResult:
    outcome: ReleaseOutcome
    # the upstream's SMTP reply on RELAY_FAILED (never message content)
    error: str | None = None


def _smtp_error_text(exc: RelayTemporaryError | RelayPermanentError) -> str:
    text = f"{exc.code} {exc.status} {exc.detail or exc.text}"
    return " ".join(text.split())[:_MAX_ERROR_TEXT]


async def release_message(store: QuarantineStore, relay: Relay, message_id: str, actor: str) -> ReleaseResult:
    """Release `message_id` and say how it went, with the upstream's error text on failure."""
    record = await store.claim_release(message_id, actor)
    if record is None:
        exists = await store.get(message_id) is not None
        return ReleaseResult(ReleaseOutcome.NOT_HELD if exists else ReleaseOutcome.NOT_FOUND)
    if record.data is None:  # cannot happen for a HELD message; keep the invariant explicit
        await store.abort_release(message_id)
        return ReleaseResult(ReleaseOutcome.NOT_HELD)
    try:
        problem = envelope_problem(record.envelope)
        if problem is not None:  # held before the edge checked it: never put a CR on the wire
            raise RelayPermanentError(f"refused locally: {problem}", code=550, status="5.1.0")
        # exactly like the pass path: a sender must not be able to forge our verdict headers
        await relay.deliver(record.envelope, strip_our_headers(record.data))
    except (RelayTemporaryError, RelayPermanentError) as exc:
        await store.abort_release(message_id)
        error = _smtp_error_text(exc)
        log.warning("release of %s by %s failed: %s %s", message_id, actor, exc.code, exc.status)
        await store.record(
            AuditEvent(
                at=datetime.now(UTC),
                actor=actor,
                action="release_failed",
                message_id=message_id,
                reason=error,
            )
        )
        return ReleaseResult(ReleaseOutcome.RELAY_FAILED, error)
    except BaseException:
        # anything else (cancellation, a bug): we do not know whether the upstream has the
        # message, so it stays RELEASING rather than risk a second delivery
        log.error("release of %s interrupted after claim; left RELEASING for an administrator", message_id)
        raise
    await store.finish_release(message_id, actor)
    await store.record(AuditEvent(at=datetime.now(UTC), actor=actor, action="release", message_id=message_id))
    log.info("released %s by %s", message_id, actor)
    return ReleaseResult(ReleaseOutcome.RELEASED)


async def release(store: QuarantineStore, relay: Relay, message_id: str, actor: str) -> ReleaseOutcome:
    """Release `message_id` exactly once; see `release_message` for the error text."""
    return (await release_message(store, relay, message_id, actor)).outcome
