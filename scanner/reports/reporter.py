"""`Reporter`: what the gateway does with a rejected (or tagged) message beyond the SMTP reply.

``report.mode = reply``: the record and the ``message.rejected`` event are committed, then the
client gets ``550 5.7.1`` with the masked findings (before-queue: the client reports to its user).

``report.mode = dsn``: the record, the event and our own RFC 3464 report to the envelope sender
are committed in one transaction, then the client gets ``250``: the content is discarded, so an
after-queue MTA never bounces the original (with its values) back to the sender. No report for
the null sender or when no recipient's NOTIFY asks for failures (RFC 3461 §4.1).

Either way a commit failure is a 451: the client retries, nothing is half-recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from scanner.events.model import EventType, event
from scanner.model import Envelope, Verdict
from scanner.ports import EventJournal
from scanner.report import rejection_reply
from scanner.reports.dsn import build_report
from scanner.settings import ReportSettings

log = logging.getLogger("sendguard.reports")


class Reporter:
    def __init__(
        self,
        journal: EventJournal,
        settings: ReportSettings,
        *,
        hostname: str,
        language_of: Callable[[str | None], str | None] = lambda tenant: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._journal = journal
        self._settings = settings
        self._hostname = hostname
        self._language_of = language_of  # the tenant policy's report language, if it names one
        self._clock = clock

    @property
    def mode(self) -> str:
        return self._settings.mode

    async def rejected(
        self, envelope: Envelope, data: bytes, verdict: Verdict, reference: str, tenant: str | None
    ) -> str:
        """Commit what a rejection leaves behind; return the SMTP reply for the client."""
        from scanner.events.journal import Rejection

        now = self._clock()
        report = None
        if self._settings.mode == "dsn":
            language = self._language_of(tenant) or self._settings.language
            report = build_report(
                envelope,
                data,
                verdict,
                reference,
                hostname=self._hostname,
                language=language,
                arrived=now,
                now=now,
            )
        await self._journal.rejected(
            Rejection(reference, tenant, envelope, now, verdict, self._settings.mode), report
        )
        if self._settings.mode == "reply":
            return rejection_reply(verdict, reference)
        told = "report sent to the sender" if report is not None else "no report requested"
        return f"250 2.0.0 Ok: not delivered, refused as {reference} ({told})"

    async def tagged(self, verdict: Verdict, reference: str, tenant: str | None) -> None:
        """The ``message.tagged`` event, after the relay took the message.

        Best effort: the message is already upstream, so a failure here cannot become a 451
        (the client would send it twice); it is logged instead.
        """
        try:
            await self._journal.emit(
                event(EventType.TAGGED, reference, tenant, self._clock(), verdict.findings)
            )
        except Exception as exc:
            log.warning("msg=%s tagged event not queued: %s", reference, type(exc).__name__)
