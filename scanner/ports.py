"""The seams of sendguard: one `typing.Protocol` per seam.

Concrete classes are chosen in exactly one place, `scanner.app`; tests use the in-memory
fakes in `tests/fakes.py`.

- `Detector`   pure and synchronous: segments in, findings out (runs in worker processes)
- `Scanner`    async front of extraction + detection as the proxy sees it (batched, bounded,
               may temp-fail)
- `Relay`      delivers bytes + envelope upstream (SMTP, or the local outbox)
- `Quarantine` durable store for held mail
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from scanner.model import Envelope, Finding, Scanned, Segment, Verdict


class Detector(Protocol):
    """Finds forbidden data. Pure: same segments, same findings; no I/O, no network."""

    def detect(self, segments: Sequence[Segment]) -> list[Finding]: ...

    def detect_batch(self, messages: Sequence[Sequence[Segment]]) -> list[list[Finding]]:
        """Several messages at once, so NLP can run as one `nlp.pipe` batch."""
        ...


class Scanner(Protocol):
    """What the SMTP layer awaits: the message as received in, findings and defects out.

    Extracting the text (MIME, charsets, HTML) is the scanner's job, so that it can run where
    detection runs (in the worker processes) instead of on the event loop. Raises
    `ScanUnavailable` / `Overloaded`; never passes a message unscanned.
    """

    async def scan(self, message: bytes) -> Scanned: ...

    async def close(self) -> None: ...


class Relay(Protocol):
    """Delivers one message upstream. Returns only once the upstream accepted it.

    Raises `RelayTemporaryError` (retry later) or `RelayPermanentError` (upstream said 5xx).
    """

    async def deliver(self, envelope: Envelope, data: bytes) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class HeldMessage:
    """A message the policy decided to hold, as handed to the quarantine."""

    id: str
    envelope: Envelope
    data: bytes
    verdict: Verdict
    received_at: datetime
    tenant: str | None = None


class Quarantine(Protocol):
    """The part of the quarantine store the proxy needs. `hold` returns once the message is durable."""

    async def hold(self, message: HeldMessage) -> None: ...

    async def close(self) -> None: ...


# --- the review side of the quarantine (store, console, CLI) -----------------------------------


class HeldStatus(enum.StrEnum):
    HELD = "held"
    RELEASING = "releasing"  # claimed by one reviewer, being relayed (never sent twice)
    RELEASED = "released"  # relayed; bytes purged, metadata kept
    REJECTED = "rejected"  # bytes purged, metadata kept
    EXPIRED = "expired"  # retention passed; bytes purged


class Role(enum.StrEnum):
    VIEWER = "viewer"  # sees the queue and masked findings
    REVIEWER = "reviewer"  # + reveal (with reason), release, reject
    ADMIN = "admin"  # + users, audit export, delete


@dataclass(frozen=True, slots=True)
class HeldSummary:
    """One row of the review queue: metadata only, nothing decrypted."""

    id: str
    received_at: datetime
    mail_from: str
    rcpt_tos: tuple[str, ...]
    tenant: str | None
    status: HeldStatus
    size: int
    # category -> count, e.g. {"FR_NIR": 1, "MEDICAL_RECORD": 2}
    categories: dict[str, int]
    decided_at: datetime | None = None
    decided_by: str | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready (ISO 8601 times), as `quarantine list --json` and the review API show it."""
        return {
            "id": self.id,
            "received_at": self.received_at.isoformat(),
            "mail_from": self.mail_from,
            "rcpt_tos": list(self.rcpt_tos),
            "tenant": self.tenant,
            "status": self.status.value,
            "size": self.size,
            "categories": self.categories,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "decided_by": self.decided_by,
        }


@dataclass(frozen=True, slots=True)
class HeldRecord:
    """A held message in full: summary, findings (masked) and the decrypted original bytes.

    `data` is None once the message was released, rejected or expired (bytes purged).
    """

    summary: HeldSummary
    envelope: Envelope
    findings: tuple[Finding, ...]
    data: bytes | None


@dataclass(frozen=True, slots=True)
class QueueFilter:
    sender: str | None = None  # substring of MAIL FROM
    tenant: str | None = None
    category: str | None = None
    status: HeldStatus | None = HeldStatus.HELD
    received_after: datetime | None = None
    received_before: datetime | None = None
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One line of the audit trail: who did what to which message, when and why."""

    at: datetime
    actor: str
    action: str  # view | reveal | release | reject | delete | login | purge | ...
    message_id: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready (ISO 8601 time), as `quarantine audit --json` and the review API show it."""
        return {
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "message_id": self.message_id,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    role: Role
    password_hash: str


class QuarantineStore(Quarantine, Protocol):
    """Everything the review console and `sendguard quarantine ...` need from the store."""

    async def list_held(self, flt: QueueFilter) -> tuple[list[HeldSummary], int]:
        """A page of the queue, newest first, and the total number matching `flt`."""
        ...

    async def category_counts(self, flt: QueueFilter) -> dict[str, int]: ...

    async def get(self, message_id: str) -> HeldRecord | None: ...

    async def claim_release(self, message_id: str, actor: str) -> HeldRecord | None:
        """Atomically move HELD -> RELEASING and return the record; None if it was not HELD.

        This is what makes release exactly-once: two reviewers, or a double submit, race on
        one conditional UPDATE and only one of them wins.
        """
        ...

    async def finish_release(self, message_id: str, actor: str) -> None:
        """RELEASING -> RELEASED; the message bytes are purged, metadata kept."""
        ...

    async def abort_release(self, message_id: str) -> None:
        """RELEASING -> HELD, after the upstream refused or was unreachable."""
        ...

    async def reject(self, message_id: str, actor: str, reason: str | None) -> bool:
        """HELD -> REJECTED, bytes purged. False if the message was not HELD."""
        ...

    async def delete(self, message_id: str) -> bool: ...

    async def purge_expired(self, now: datetime) -> int:
        """Expire held mail past retention (bytes deleted for real); returns how many."""
        ...

    async def record(self, event: AuditEvent) -> None: ...

    async def audit_log(self, message_id: str | None = None, limit: int = 1000) -> list[AuditEvent]: ...

    async def get_account(self, name: str) -> Account | None: ...

    async def put_account(self, account: Account) -> None: ...
