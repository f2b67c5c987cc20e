"""Reviewer decisions as events: ``message.released`` and ``message.rejected_by_reviewer``.

Emitted after the store committed the decision, best effort: the decision stands whatever
happens to its event, so a failure to queue it is logged (by type) rather than undoing a release
that already went upstream. The actor is the account name; the reason a reviewer typed is free
text and stays in the audit trail, never in an event.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from scanner.events.model import EventType, event
from scanner.ports import EventJournal
from scanner.quarantine.model import HeldRecord

log = logging.getLogger("sendguard.events")


async def decided(journal: EventJournal | None, kind: EventType, record: HeldRecord, actor: str) -> None:
    if journal is None:
        return
    ev = event(kind, record.summary.id, record.summary.tenant, datetime.now(UTC), record.findings, actor)
    try:
        await journal.emit(ev)
    except Exception as exc:
        log.warning("%s event for %s not queued: %s", kind.value, record.summary.id, type(exc).__name__)
