"""The lifecycle of a held message: every state change, in ONE table. Pure: no I/O.

    HELD ──claim──────────> RELEASING ──delivered────> RELEASED    (bytes purged)
     │                        │ ├──────refused───────> HELD        (upstream said no, or was
     │                        │ │                                   unreachable before DATA)
     │                        │ └──────uncertain─────> UNCERTAIN   (the DATA terminator was sent,
     │                        │                                    no final reply came: the
     │                        │                                    upstream may have the message)
     │                        └────────requeue───────> HELD        (admin, after a crash mid-release)
     │                                                 UNCERTAIN ──mark_delivered──> RELEASED
     │                                                 UNCERTAIN ──claim_again────> RELEASING
     ├──reject──> REJECTED   (bytes purged)
     └──expire──> EXPIRED    (retention passed; bytes purged)

An UNCERTAIN message never goes back to HELD: a reviewer releasing it again could deliver it
twice. Only an administrator resolves it, knowingly (`mark_delivered`, or `claim_again` to send
it once more).

The SQL store turns each `Step` into one conditional UPDATE (``WHERE status IN sources``), so
that concurrent reviewers, proxy instances or double submits cannot both win; the in-memory
store of the tests applies the same table with `apply`. Nothing else changes a status.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from types import MappingProxyType

from scanner.quarantine.model import HeldStatus

S = HeldStatus


class Step(enum.StrEnum):
    CLAIM = "claim"  # a reviewer starts a release: exactly one caller wins
    DELIVERED = "delivered"  # the upstream accepted it
    REFUSED = "refused"  # the upstream refused it or was unreachable: held again, retry later
    UNCERTAIN = "uncertain"  # the data may have reached the upstream: an admin decides
    REQUEUE = "requeue"  # admin: a release interrupted by a crash goes back to the queue
    MARK_DELIVERED = "mark_delivered"  # admin: the upstream did take an uncertain release
    CLAIM_AGAIN = "claim_again"  # admin: release an uncertain message once more, knowingly
    REJECT = "reject"
    EXPIRE = "expire"


class Decision(enum.Enum):
    """What a step does to `decided_at` / `decided_by`."""

    SET = "set"  # who decided, and when
    CLEAR = "clear"  # back in the queue: nobody has decided
    KEEP = "keep"


@dataclass(frozen=True, slots=True)
class Rule:
    sources: frozenset[HeldStatus]
    target: HeldStatus
    purges: bool  # the encrypted bytes are deleted (metadata kept)
    decision: Decision
    admin: bool = False  # only an administrator may ask for it


def _rule(
    sources: set[HeldStatus], target: HeldStatus, *, purges: bool, decision: Decision, admin: bool = False
) -> Rule:
    return Rule(frozenset(sources), target, purges, decision, admin)


TRANSITIONS: MappingProxyType[Step, Rule] = MappingProxyType(
    {
        Step.CLAIM: _rule({S.HELD}, S.RELEASING, purges=False, decision=Decision.SET),
        Step.DELIVERED: _rule({S.RELEASING}, S.RELEASED, purges=True, decision=Decision.SET),
        Step.REFUSED: _rule({S.RELEASING}, S.HELD, purges=False, decision=Decision.CLEAR),
        Step.UNCERTAIN: _rule({S.RELEASING}, S.UNCERTAIN, purges=False, decision=Decision.KEEP),
        Step.REQUEUE: _rule({S.RELEASING}, S.HELD, purges=False, decision=Decision.CLEAR, admin=True),
        Step.MARK_DELIVERED: _rule({S.UNCERTAIN}, S.RELEASED, purges=True, decision=Decision.SET, admin=True),
        Step.CLAIM_AGAIN: _rule({S.UNCERTAIN}, S.RELEASING, purges=False, decision=Decision.SET, admin=True),
        Step.REJECT: _rule({S.HELD}, S.REJECTED, purges=True, decision=Decision.SET),
        Step.EXPIRE: _rule({S.HELD}, S.EXPIRED, purges=True, decision=Decision.SET),
    }
)


class TransitionRefused(Exception):
    """A step asked of a message whose status does not allow it."""


def apply(step: Step, status: HeldStatus) -> Rule:
    """The rule for `step` from `status`; `TransitionRefused` if `status` is not a source."""
    rule = TRANSITIONS[step]
    if status not in rule.sources:
        raise TransitionRefused(f"{step.value} from {status.value}")
    return rule


def can(step: Step, status: HeldStatus) -> bool:
    return status in TRANSITIONS[step].sources
