"""The seams of sendguard: one `typing.Protocol` per seam.

Concrete classes are chosen in exactly one place, `scanner.app`; tests use the in-memory
fakes in `tests/fakes.py`.

- `Detector`   pure and synchronous: segments in, findings out (runs in worker processes)
- `Scanner`    async front of extraction + detection as the proxy sees it (batched, bounded,
               may temp-fail)
- `Relay`      delivers bytes + envelope upstream (SMTP, or the local outbox)
- `Quarantine` durable store for held mail
- `EventJournal` rejections, events and reports, committed with the decision (`scanner.events`)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from scanner.model import Envelope, Finding, Scanned, Segment
from scanner.quarantine.lifecycle import Step
from scanner.quarantine.model import (
    Account,
    AuditEvent,
    HeldMessage,
    HeldRecord,
    HeldSummary,
    QueueFilter,
)
from scanner.quarantine.view import MessageView

if TYPE_CHECKING:
    from scanner.events.journal import Rejection
    from scanner.events.model import Event
    from scanner.reports.dsn import Report


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

    async def scan(self, message: bytes, envelope: Envelope | None = None) -> Scanned:
        """`envelope`, when given, is scanned too (its addresses reach the recipient)."""
        ...

    async def close(self) -> None: ...


class Relay(Protocol):
    """Delivers one message upstream. Returns only once the upstream accepted it.

    Raises `RelayTemporaryError` (retry later) or `RelayPermanentError` (upstream said 5xx).
    """

    async def deliver(self, envelope: Envelope, data: bytes) -> None: ...

    async def close(self) -> None: ...


class Quarantine(Protocol):
    """The part of the quarantine store the proxy needs. `hold` returns once the message is durable."""

    async def hold(self, message: HeldMessage) -> None: ...

    async def close(self) -> None: ...


class EventJournal(Protocol):
    """Records what a decision leaves behind; returns once it is committed (else `StoreError`)."""

    async def rejected(self, rejection: Rejection, report: Report | None) -> None: ...

    async def emit(self, event: Event) -> None: ...


# --- the review side of the quarantine (store, console, CLI) -----------------------------------


class QuarantineStore(Quarantine, Protocol):
    """Everything the review console and `sendguard quarantine ...` need from the store."""

    async def list_held(self, flt: QueueFilter) -> tuple[list[HeldSummary], int]:
        """A page of the queue, newest first, and the total number matching `flt`."""
        ...

    async def category_counts(self, flt: QueueFilter) -> dict[str, int]: ...

    async def get(self, message_id: str) -> HeldRecord | None: ...

    async def claim_release(self, message_id: str, actor: str, step: Step = Step.CLAIM) -> HeldRecord | None:
        """Atomically HELD -> RELEASING (or, `Step.CLAIM_AGAIN`, UNCERTAIN -> RELEASING) and return
        the record; None if the message was not in that state.

        This is what makes release exactly-once: two reviewers, or a double submit, race on
        one conditional UPDATE and only one of them wins.
        """
        ...

    async def transition(
        self,
        message_id: str,
        step: Step,
        actor: str,
        reason: str | None = None,
        *,
        audit_event: AuditEvent | None = None,
    ) -> bool:
        """Apply one step of `scanner.quarantine.lifecycle.TRANSITIONS`; False if the message's
        status does not allow it (or there is no such message). `audit_event` is recorded in the
        same transaction when the step applies (content is never purged without its record)."""
        ...

    async def get_view(self, message_id: str) -> MessageView | None:
        """What the console shows, computed at hold time; None if absent or the content is gone."""
        ...

    async def masked_envelopes(self, ids: list[str]) -> dict[str, tuple[str, tuple[str, ...]]]:
        """(MAIL FROM, RCPT TOs) with their findings masked, for those of `ids` that have any."""
        ...

    async def delete(self, message_id: str) -> bool: ...

    async def purge_expired(self, now: datetime) -> int:
        """Expire held mail past retention (bytes deleted for real); returns how many."""
        ...

    async def record(self, event: AuditEvent) -> None: ...

    async def audit_log(self, message_id: str | None = None, limit: int = 1000) -> list[AuditEvent]: ...

    async def get_account(self, name: str) -> Account | None: ...

    async def put_account(self, account: Account) -> None: ...
