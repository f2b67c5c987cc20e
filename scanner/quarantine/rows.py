"""Translation between the domain dataclasses and table rows. Pure: no I/O.

Sealing (encryption) happens here so the store module only moves rows; `Sealer` is passed in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from scanner.model import Confidence, Envelope, Finding, Group
from scanner.quarantine.crypto import Sealer
from scanner.quarantine.lifecycle import Decision, Rule
from scanner.quarantine.model import HeldMessage, HeldStatus, HeldSummary, QueueFilter
from scanner.quarantine.tables import envelope_masks, findings, messages

# Everything a queue row needs; never the (large, encrypted) `data` column.
SUMMARY_COLUMNS: tuple[sa.Column[Any], ...] = (
    messages.c.id,
    messages.c.received_at,
    messages.c.mail_from,
    messages.c.rcpt_tos,
    messages.c.tenant,
    messages.c.status,
    messages.c.size,
    messages.c.decided_at,
    messages.c.decided_by,
)

ENVELOPE_COLUMNS: tuple[sa.Column[Any], ...] = (
    messages.c.mail_options,
    messages.c.rcpt_options,
    messages.c.client_address,
    messages.c.helo,
)


def message_values(message: HeldMessage, sealed_data: bytes) -> dict[str, Any]:
    env = message.envelope
    return {
        "id": message.id,
        "received_at": message.received_at,
        "tenant": message.tenant,
        "status": HeldStatus.HELD.value,
        "mail_from": env.mail_from,
        "rcpt_tos": list(env.rcpt_tos),
        "mail_options": list(env.mail_options),
        "rcpt_options": [list(opts) for opts in env.rcpt_options],
        "client_address": env.client_address,
        "helo": env.helo,
        "action": message.verdict.action.value,
        "defects": list(message.verdict.defects),
        "size": len(message.data),
        "data": sealed_data,
    }


def finding_values(message: HeldMessage, sealer: Sealer) -> list[dict[str, Any]]:
    reasons = set(message.verdict.reasons)
    rows = []
    for seq, f in enumerate(message.verdict.findings):
        detail = {"location": f.location, "start": f.start, "end": f.end, "masked": f.masked}
        rows.append(
            {
                "message_id": message.id,
                "seq": seq,
                "category": f.category,
                "group": f.group.value,
                "score": f.score,
                "confidence": int(f.confidence),
                "is_reason": f in reasons,
                "sealed": sealer.seal(json.dumps(detail, separators=(",", ":")).encode("utf-8")),
            }
        )
    return rows


def finding_from_row(row: sa.RowMapping, sealer: Sealer) -> Finding:
    detail = json.loads(sealer.open(row["sealed"], what="a stored finding"))
    return Finding(
        category=row["category"],
        group=Group(row["group"]),
        location=detail["location"],
        start=detail["start"],
        end=detail["end"],
        score=row["score"],
        confidence=Confidence(row["confidence"]),
        masked=detail["masked"],
    )


def summary_from_row(row: sa.RowMapping, categories: Mapping[str, int]) -> HeldSummary:
    return HeldSummary(
        id=row["id"],
        received_at=row["received_at"],
        mail_from=row["mail_from"],
        rcpt_tos=tuple(row["rcpt_tos"]),
        tenant=row["tenant"],
        status=HeldStatus(row["status"]),
        size=row["size"],
        categories=dict(categories),
        decided_at=row["decided_at"],
        decided_by=row["decided_by"],
    )


def envelope_from_row(row: sa.RowMapping) -> Envelope:
    return Envelope(
        mail_from=row["mail_from"],
        rcpt_tos=tuple(row["rcpt_tos"]),
        mail_options=tuple(row["mail_options"]),
        rcpt_options=tuple(tuple(opts) for opts in row["rcpt_options"]),
        client_address=row["client_address"],
        helo=row["helo"],
    )


def filter_conditions(flt: QueueFilter, *, with_category: bool = True) -> list[sa.ColumnElement[bool]]:
    """SQL conditions on `messages` for a queue filter (paging is applied by the caller)."""
    conds: list[sa.ColumnElement[bool]] = []
    if flt.status is not None:
        conds.append(messages.c.status == flt.status.value)
    if flt.sender:
        conds.append(messages.c.mail_from.icontains(flt.sender, autoescape=True))
        # a sender address holding a finding is shown masked: matching its clear text would let
        # a viewer guess the value digit by digit, unaudited. Such mail is found by other filters.
        conds.append(~sa.exists().where(envelope_masks.c.message_id == messages.c.id))
    if flt.tenant is not None:
        conds.append(messages.c.tenant == flt.tenant)
    if flt.received_after is not None:
        conds.append(messages.c.received_at >= flt.received_after)
    if flt.received_before is not None:
        conds.append(messages.c.received_at < flt.received_before)
    if with_category and flt.category:
        conds.append(
            sa.exists().where(findings.c.message_id == messages.c.id, findings.c.category == flt.category)
        )
    return conds


def group_categories(rows: Iterable[Sequence[Any]]) -> dict[str, dict[str, int]]:
    """(message_id, category, count) rows -> {message_id: {category: count}}."""
    out: dict[str, dict[str, int]] = {}
    for message_id, category, count in rows:
        out.setdefault(message_id, {})[category] = int(count)
    return out


def transition_where(rule: Rule) -> sa.ColumnElement[bool]:
    """The condition that makes a step one conditional UPDATE: only from its source states."""
    return messages.c.status.in_(sorted(s.value for s in rule.sources))


def transition_values(rule: Rule, actor: str, now: datetime, reason: str | None) -> dict[str, Any]:
    """The columns a step sets (`scanner.quarantine.lifecycle.TRANSITIONS`)."""
    values: dict[str, Any] = {"status": rule.target.value}
    if rule.purges:
        values["data"] = None
    if rule.decision is Decision.SET:
        values.update(decided_at=now, decided_by=actor, decision_reason=reason)
    elif rule.decision is Decision.CLEAR:
        values.update(decided_at=None, decided_by=None, decision_reason=None)
    return values
