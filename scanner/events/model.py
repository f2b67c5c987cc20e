"""Event types and payloads: what a webhook receiver gets. Pure; masked forms only.

A payload follows the Standard Webhooks shape ``{"type", "timestamp", "data"}``; ``data`` holds the
reference, tenant, categories and per finding its category, group, confidence, location and
masked form. Never a value, a subject, a body, or a reviewer's free-text reason.
"""

from __future__ import annotations

import enum
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from scanner.model import Finding, count_categories


class EventType(enum.StrEnum):
    REJECTED = "message.rejected"
    HELD = "message.held"
    RELEASED = "message.released"
    REJECTED_BY_REVIEWER = "message.rejected_by_reviewer"
    TAGGED = "message.tagged"


def new_event_id() -> str:
    """``msg_`` + 26 random base32 characters: the webhook-id (the receiver's idempotency key)."""
    return "msg_" + secrets.token_hex(13)


def masked_findings(findings: Iterable[Finding]) -> list[dict[str, str]]:
    return [
        {
            "category": f.category,
            "group": f.group.value,
            "confidence": f.confidence.label,
            "location": f.location,
            "masked": f.masked,
        }
        for f in findings
    ]


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    type: EventType
    tenant: str | None
    reference: str
    at: datetime
    findings: tuple[Finding, ...] = ()
    # for reviewer decisions: who decided (an account name, never the reason they typed)
    actor: str | None = None

    def payload(self) -> bytes:
        """The JSON body sent to the endpoint (compact, UTF-8)."""
        data: dict[str, object] = {
            "reference": self.reference,
            "tenant": self.tenant,
            "categories": count_categories(self.findings),
            "findings": masked_findings(self.findings),
        }
        if self.actor is not None:
            data["actor"] = self.actor
        body = {"type": self.type.value, "timestamp": self.at.isoformat(), "data": data}
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def event(
    kind: EventType,
    reference: str,
    tenant: str | None,
    at: datetime,
    findings: Iterable[Finding] = (),
    actor: str | None = None,
) -> Event:
    return Event(new_event_id(), kind, tenant, reference, at, tuple(findings), actor)
