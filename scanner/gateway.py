"""The gateway: what happens to one message between DATA and the final reply.

    bytes -> scan (extract + detect) -> decide -> reject | hold | tag/pass + relay -> SMTP reply

No mail is ever lost: the reply is 250 only after the relay accepted the message or the
quarantine durably held it; every failure of ours is a 4xx (the client keeps the message and
retries), never a silent pass. Nothing here does socket I/O itself: the scanner, relay and
quarantine are the seams in `scanner.ports`.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from scanner._errors import RelayPermanentError, SendguardError, describe
from scanner.extract.headers import first_header
from scanner.headers import prepend, received_header
from scanner.model import Action, Envelope, Scanned, Verdict
from scanner.offload import off_loop_if_large
from scanner.policy import Policy, decide
from scanner.policy_watch import PolicyHolder
from scanner.ports import Quarantine, Relay, Scanner
from scanner.quarantine.model import HeldMessage
from scanner.report import held_reply, rejection_reply, tag_headers
from scanner.reports.reporter import Reporter
from scanner.tenants import decide_for

log = logging.getLogger("sendguard.gateway")


def new_reference() -> str:
    """A short random reference (16 base32 characters) shown to senders and reviewers."""
    return base64.b32encode(secrets.token_bytes(10)).decode("ascii")


@dataclass(frozen=True, slots=True)
class Outcome:
    reply: str
    action: Action | None  # None: no verdict was carried out (see `failure`)
    reference: str
    verdict: Verdict | None = None
    # without an action: "tempfail" (4xx, ours or the upstream's) or "upstream_reject" (the
    # upstream refused the message for good; its 5xx is passed on, the client will not retry)
    failure: str = "tempfail"

    @property
    def label(self) -> str:
        """What happened, for the log line and the counters: an action or a failure kind."""
        return self.action.value if self.action else self.failure


class Gateway:
    def __init__(
        self,
        *,
        scanner: Scanner | None,
        policy: Policy,
        relay: Relay,
        quarantine: Quarantine,
        hostname: str,
        tenant_header: str | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_reference: Callable[[], str] = new_reference,
        reporter: Reporter | None = None,
        policies: PolicyHolder | None = None,
    ) -> None:
        # the clock and the reference maker are seams: tests pin what the Received header and
        # the held record say, and which reference a reply names
        self._now = now
        self._new_reference = new_reference
        self._scanner = scanner  # None: scanning off (relay only, for comparison)
        self._policy = policy
        self._relay = relay
        self._quarantine = quarantine
        self._hostname = hostname
        self._tenant_header = tenant_header
        self._reporter = reporter  # None: 550 reply only, nothing recorded (unit tests)
        self._policies = policies  # per-tenant policy, hot-reloaded; None: `policy` for everyone
        self.counters: dict[str, int] = {}
        # (stage, seconds) for the metrics; the other stages are timed around their seams
        self.stage_observer: Callable[[str, float], None] | None = None
        self._inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def handle(self, envelope: Envelope, data: bytes) -> Outcome:
        ref = self._new_reference()
        started = time.perf_counter()
        self._inflight += 1
        self._idle.clear()
        try:
            outcome = await self._handle(envelope, data, ref)
        except SendguardError as exc:
            # detail may name the upstream or the failing component, never content
            failure = "upstream_reject" if isinstance(exc, RelayPermanentError) else "tempfail"
            log.warning("msg=%s action=%s error=%s detail=%s", ref, failure, type(exc).__name__, exc.detail)
            outcome = Outcome(exc.smtp_reply, None, ref, failure=failure)
        except Exception as exc:  # any internal failure: temp-fail, never pass, never drop
            log.error("msg=%s action=tempfail error=%s", ref, describe(exc))
            outcome = Outcome("451 4.3.0 Local error in processing, try again later", None, ref)
        finally:
            self._inflight -= 1
            if not self._inflight:
                self._idle.set()
        self._count(outcome)
        v = outcome.verdict
        log.info(
            "msg=%s size=%d rcpts=%d action=%s findings=%s defects=%d ms=%.1f",
            ref,
            len(data),
            len(envelope.rcpt_tos),
            outcome.label,
            (",".join(f"{c}:{n}" for c, n in v.category_counts().items()) or "none") if v else "-",
            len(v.defects) if v else 0,
            (time.perf_counter() - started) * 1000,
        )
        return outcome

    async def _handle(self, envelope: Envelope, data: bytes, ref: str) -> Outcome:
        tenant = self._tenant_of(envelope, data)
        if self._scanner is None:
            verdict = Verdict(Action.PASS)
        else:
            scanned = await self._scanner.scan(data, envelope)
            decided = time.perf_counter()
            verdict = self._decide(scanned, envelope, tenant)
            if self.stage_observer is not None:
                self.stage_observer("decide", time.perf_counter() - decided)

        if verdict.action is Action.REJECT:
            if self._reporter is None:
                return Outcome(rejection_reply(verdict, ref), Action.REJECT, ref, verdict)
            reply = await self._reporter.rejected(envelope, data, verdict, ref, tenant)
            return Outcome(reply, Action.REJECT, ref, verdict)

        if verdict.action is Action.HOLD:
            held = HeldMessage(
                id=ref,
                envelope=envelope,
                data=data,
                verdict=verdict,
                received_at=self._now(),
                tenant=tenant,
            )
            await self._quarantine.hold(held)  # raises StoreError -> 451: nothing held, nothing lost
            return Outcome(held_reply(verdict, ref), Action.HOLD, ref, verdict)

        received = received_header(
            helo=envelope.helo,
            client_address=envelope.client_address,
            by=self._hostname,
            reference=ref,
            now=self._now(),
        )
        fields = tag_headers(verdict, ref) if verdict.action is Action.TAG else []
        relayed = await off_loop_if_large(len(data), prepend, data, fields, received)
        await self._relay.deliver(envelope, relayed)
        if verdict.action is Action.TAG and self._reporter is not None:
            await self._reporter.tagged(verdict, ref, tenant)
        return Outcome(f"250 2.0.0 Ok: queued as {ref}", verdict.action, ref, verdict)

    async def drain(self, within: float) -> bool:
        """Wait until no message is being processed (graceful shutdown); False on timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), within)
        except TimeoutError:
            return False
        return True

    def _decide(self, scanned: Scanned, envelope: Envelope, tenant: str | None) -> Verdict:
        if self._policies is None:
            return decide(self._policy, scanned.findings, scanned.defects)
        verdict, _ = decide_for(self._policies.current, tenant, envelope, scanned.findings, scanned.defects)
        return verdict

    def _tenant_of(self, envelope: Envelope, data: bytes) -> str | None:
        """The header's tenant; with per-tenant policies, else the sender domain's tenant."""
        header = self._tenant(data)
        if self._policies is None:
            return header
        return self._policies.current.tenant_of(header, envelope.mail_from)

    def _tenant(self, data: bytes) -> str | None:
        """The customer, from a header the sending platform sets (e.g. X-Tenant-ID)."""
        if not self._tenant_header:
            return None
        # one C-level search, not a header parse: this runs on the event loop for every message
        value = first_header(data, self._tenant_header)
        return value[:200] or None if value is not None else None

    def _count(self, outcome: Outcome) -> None:
        self.counters[outcome.label] = self.counters.get(outcome.label, 0) + 1
