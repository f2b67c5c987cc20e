"""An in-memory `QuarantineStore` for the console tests: the whole Protocol, same semantics.

Status changes go through `scanner.quarantine.lifecycle` (the table the SQL store's conditional
UPDATEs come from); `tests/quarantine/test_lifecycle_contract.py` runs both through the same
lifecycle. A step completes without yielding to the event loop between the check and the
update, so two concurrent requests in one loop race exactly like two conditional UPDATEs on one
row: one wins, the other loses.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from scanner.model import Envelope, Finding, count_categories
from scanner.quarantine.lifecycle import TRANSITIONS, Decision, Step, can
from scanner.quarantine.model import (
    Account,
    AuditEvent,
    HeldMessage,
    HeldRecord,
    HeldStatus,
    HeldSummary,
    QueueFilter,
)
from scanner.quarantine.view import MessageView, build_view, masked_envelope
from scanner.review.sessions import LiveSession


@dataclass
class _Held:
    summary: HeldSummary
    envelope: Envelope
    findings: tuple[Finding, ...]
    data: bytes | None
    view: MessageView | None = None


class MemoryStore:
    def __init__(self, *, retention: timedelta = timedelta(days=30)) -> None:
        self.held: dict[str, _Held] = {}
        self.events: list[AuditEvent] = []
        self.accounts: dict[str, Account] = {}
        self.retention = retention
        self.claims = 0  # successful claims, for tests

    async def hold(self, message: HeldMessage) -> None:
        env = message.envelope
        summary = HeldSummary(
            message.id, message.received_at, env.mail_from, env.rcpt_tos, message.tenant,
            HeldStatus.HELD, len(message.data), count_categories(message.verdict.findings),
        )  # fmt: skip
        view = build_view(message.data, message.verdict.findings, env)
        self.held[message.id] = _Held(summary, env, message.verdict.findings, message.data, view)

    async def close(self) -> None:
        pass

    # --- queue ----------------------------------------------------------------------------

    def _matching(self, flt: QueueFilter) -> list[HeldSummary]:
        def keep(s: HeldSummary) -> bool:
            return (
                (not flt.sender or flt.sender.lower() in s.mail_from.lower())
                and (not flt.tenant or s.tenant == flt.tenant)
                and (not flt.category or flt.category in s.categories)
                and (not flt.status or s.status is flt.status)
                and (not flt.received_after or s.received_at >= flt.received_after)
                and (not flt.received_before or s.received_at < flt.received_before)
            )

        out = [h.summary for h in self.held.values() if keep(h.summary)]
        return sorted(out, key=lambda s: (s.received_at, s.id), reverse=True)

    async def list_held(self, flt: QueueFilter) -> tuple[list[HeldSummary], int]:
        rows = self._matching(flt)
        return rows[flt.offset : flt.offset + flt.limit], len(rows)

    async def category_counts(self, flt: QueueFilter) -> dict[str, int]:
        """Messages per category among those matching `flt` (paging ignored)."""
        return dict(sorted(Counter(c for s in self._matching(flt) for c in s.categories).items()))

    async def get(self, message_id: str) -> HeldRecord | None:
        h = self.held.get(message_id)
        return None if h is None else HeldRecord(h.summary, h.envelope, h.findings, h.data)

    async def masked_envelopes(self, ids: list[str]) -> dict[str, tuple[str, tuple[str, ...]]]:
        masks = {
            i: masked_envelope(self.held[i].envelope, self.held[i].findings) for i in ids if i in self.held
        }
        return {i: m for i, m in masks.items() if m is not None}

    async def get_view(self, message_id: str) -> MessageView | None:
        h = self.held.get(message_id)
        return None if h is None or h.data is None else h.view

    # --- the lifecycle --------------------------------------------------------------------

    async def claim_release(self, message_id: str, actor: str, step: Step = Step.CLAIM) -> HeldRecord | None:
        if not self._step(message_id, step, actor, None, datetime.now(UTC)):
            return None
        self.claims += 1
        return await self.get(message_id)

    async def transition(
        self,
        message_id: str,
        step: Step,
        actor: str,
        reason: str | None = None,
        *,
        audit_event: AuditEvent | None = None,
    ) -> bool:
        done = self._step(message_id, step, actor, reason, datetime.now(UTC))
        if done and audit_event is not None:
            self.events.append(audit_event)
        return done

    async def purge_expired(self, now: datetime) -> int:
        old = [i for i, h in self.held.items() if h.summary.received_at < now - self.retention]
        return sum(self._step(i, Step.EXPIRE, "retention", None, now) for i in old)

    def _step(self, message_id: str, step: Step, actor: str, reason: str | None, now: datetime) -> bool:
        h = self.held.get(message_id)
        if h is None or not can(step, h.summary.status):
            return False
        rule = TRANSITIONS[step]
        decided = {
            Decision.SET: {"decided_at": now, "decided_by": actor},
            Decision.CLEAR: {"decided_at": None, "decided_by": None},
            Decision.KEEP: {},
        }[rule.decision]
        h.summary = replace(h.summary, status=rule.target, **decided)  # type: ignore[arg-type]
        if rule.purges:
            h.data = h.view = None
        return True

    async def delete(self, message_id: str) -> bool:
        return self.held.pop(message_id, None) is not None

    # --- audit and accounts ---------------------------------------------------------------

    async def record(self, event: AuditEvent) -> None:
        self.events.append(event)

    async def audit_log(self, message_id: str | None = None, limit: int = 1000) -> list[AuditEvent]:
        rows = [e for e in self.events if message_id is None or e.message_id == message_id]
        return list(reversed(rows))[:limit]

    async def get_account(self, name: str) -> Account | None:
        return self.accounts.get(name)

    async def put_account(self, account: Account) -> None:
        self.accounts[account.name] = account


class MemorySessions:
    """`scanner.review.sessions.SessionStore` in a dict (for apps over a `MemoryStore`)."""

    def __init__(self) -> None:
        self.live: dict[str, LiveSession] = {}

    async def create(self, account: str, now: datetime) -> tuple[str, LiveSession]:
        token = secrets.token_urlsafe(32)
        self.live[token] = LiveSession(account, secrets.token_urlsafe(32))
        return token, self.live[token]

    async def lookup(self, token: str, now: datetime) -> LiveSession | None:
        return self.live.get(token)

    async def end(self, token: str) -> None:
        self.live.pop(token, None)
