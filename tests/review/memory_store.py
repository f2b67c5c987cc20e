"""An in-memory `QuarantineStore` for the console tests: the whole Protocol, same semantics.

`claim_release` is the conditional HELD -> RELEASING transition; it completes without yielding to
the event loop between the check and the update, so two concurrent requests in one loop race
exactly like two conditional UPDATEs on one row: one wins, the other gets None.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from scanner.model import Envelope, Finding
from scanner.quarantine.model import (
    Account,
    AuditEvent,
    HeldMessage,
    HeldRecord,
    HeldStatus,
    HeldSummary,
    QueueFilter,
)
from scanner.quarantine.view import MessageView, build_view
from scanner.review.sessions import LiveSession


class MemoryStore:
    def __init__(self, *, retention: timedelta = timedelta(days=30)) -> None:
        self.summaries: dict[str, HeldSummary] = {}
        self.envelopes: dict[str, Envelope] = {}
        self.findings: dict[str, tuple[Finding, ...]] = {}
        self.data: dict[str, bytes] = {}
        self.views: dict[str, MessageView] = {}
        self.events: list[AuditEvent] = []
        self.accounts: dict[str, Account] = {}
        self.retention = retention
        self.claims = 0  # successful claim_release calls, for tests

    # --- Quarantine -----------------------------------------------------------------------

    async def hold(self, message: HeldMessage) -> None:
        counts: dict[str, int] = {}
        for f in message.verdict.findings:
            counts[f.category] = counts.get(f.category, 0) + 1
        self.summaries[message.id] = HeldSummary(
            id=message.id,
            received_at=message.received_at,
            mail_from=message.envelope.mail_from,
            rcpt_tos=message.envelope.rcpt_tos,
            tenant=message.tenant,
            status=HeldStatus.HELD,
            size=len(message.data),
            categories=counts,
        )
        self.envelopes[message.id] = message.envelope
        self.findings[message.id] = message.verdict.findings
        self.data[message.id] = message.data
        self.views[message.id] = build_view(message.data, message.verdict.findings, message.envelope)

    async def close(self) -> None:
        pass

    # --- queue ----------------------------------------------------------------------------

    def _matching(self, flt: QueueFilter) -> list[HeldSummary]:
        out = []
        for s in self.summaries.values():
            if flt.sender and flt.sender.lower() not in s.mail_from.lower():
                continue
            if flt.tenant and s.tenant != flt.tenant:
                continue
            if flt.category and flt.category not in s.categories:
                continue
            if flt.status and s.status is not flt.status:
                continue
            if flt.received_after and s.received_at < flt.received_after:
                continue
            if flt.received_before and s.received_at >= flt.received_before:
                continue
            out.append(s)
        return sorted(out, key=lambda s: (s.received_at, s.id), reverse=True)

    async def list_held(self, flt: QueueFilter) -> tuple[list[HeldSummary], int]:
        rows = self._matching(flt)
        return rows[flt.offset : flt.offset + flt.limit], len(rows)

    async def category_counts(self, flt: QueueFilter) -> dict[str, int]:
        """Messages per category among those matching `flt` (paging ignored)."""
        counts: dict[str, int] = {}
        for s in self._matching(flt):
            for c in s.categories:
                counts[c] = counts.get(c, 0) + 1
        return counts

    async def get(self, message_id: str) -> HeldRecord | None:
        s = self.summaries.get(message_id)
        if s is None:
            return None
        return HeldRecord(s, self.envelopes[message_id], self.findings[message_id], self.data.get(message_id))

    # --- decisions ------------------------------------------------------------------------

    async def claim_release(self, message_id: str, actor: str) -> HeldRecord | None:
        s = self.summaries.get(message_id)
        if s is None or s.status is not HeldStatus.HELD:
            return None
        self.summaries[message_id] = replace(s, status=HeldStatus.RELEASING, decided_by=actor)
        self.claims += 1
        return await self.get(message_id)

    async def finish_release(self, message_id: str, actor: str) -> None:
        s = self.summaries[message_id]
        assert s.status is HeldStatus.RELEASING
        self.summaries[message_id] = replace(
            s, status=HeldStatus.RELEASED, decided_by=actor, decided_at=datetime.now(s.received_at.tzinfo)
        )
        self.data.pop(message_id, None)

    async def abort_release(self, message_id: str) -> None:
        s = self.summaries[message_id]
        if s.status is HeldStatus.RELEASING:
            self.summaries[message_id] = replace(s, status=HeldStatus.HELD, decided_by=None)

    async def get_view(self, message_id: str) -> MessageView | None:
        return self.views.get(message_id) if message_id in self.data else None

    async def reject(
        self, message_id: str, actor: str, reason: str | None, *, audit_event: AuditEvent | None = None
    ) -> bool:
        s = self.summaries.get(message_id)
        if s is None or s.status is not HeldStatus.HELD:
            return False
        if audit_event is not None:
            self.events.append(audit_event)
        self.summaries[message_id] = replace(
            s, status=HeldStatus.REJECTED, decided_by=actor, decided_at=datetime.now(s.received_at.tzinfo)
        )
        self.data.pop(message_id, None)
        return True

    async def delete(self, message_id: str) -> bool:
        existed = self.summaries.pop(message_id, None) is not None
        for d in (self.envelopes, self.findings, self.data):
            d.pop(message_id, None)
        return existed

    async def purge_expired(self, now: datetime) -> int:
        n = 0
        for mid, s in list(self.summaries.items()):
            if s.status is HeldStatus.HELD and s.received_at < now - self.retention:
                self.summaries[mid] = replace(s, status=HeldStatus.EXPIRED, decided_at=now)
                self.data.pop(mid, None)
                n += 1
        return n

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
