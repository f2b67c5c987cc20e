"""The quarantine's domain: what is held, its lifecycle states, reviewers and the audit trail.

Frozen dataclasses and enums, no I/O. The store (`scanner.quarantine.store`), the review console
and `sendguard quarantine ...` all speak these types; the seams that move them are in
`scanner.ports` (`Quarantine` for the proxy, `QuarantineStore` for the review side).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from scanner.model import Envelope, Finding, Verdict


@dataclass(frozen=True, slots=True)
class HeldMessage:
    """A message the policy decided to hold, as handed to the quarantine."""

    id: str
    envelope: Envelope
    data: bytes
    verdict: Verdict
    received_at: datetime
    tenant: str | None = None


class HeldStatus(enum.StrEnum):
    HELD = "held"
    RELEASING = "releasing"  # claimed by one reviewer, being relayed (never sent twice)
    RELEASED = "released"  # relayed; bytes purged, metadata kept
    # relayed but the upstream's final reply never came: it may have the message. Never held
    # again (a second release could deliver twice); an administrator resolves it
    UNCERTAIN = "uncertain"
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
