"""One lifecycle, every store: the in-memory store of the console tests and the SQL stores
(SQLite, PostgreSQL) are run through every step from every status, against the one table
`scanner.quarantine.lifecycle.TRANSITIONS`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from scanner.ports import QuarantineStore
from scanner.quarantine.lifecycle import TRANSITIONS, Step, TransitionRefused, apply, can
from scanner.quarantine.model import HeldStatus
from tests.quarantine.fakes import held_message

# how to bring a fresh HELD message to each status
PATHS: dict[HeldStatus, tuple[Step, ...]] = {
    HeldStatus.HELD: (),
    HeldStatus.RELEASING: (Step.CLAIM,),
    HeldStatus.RELEASED: (Step.CLAIM, Step.DELIVERED),
    HeldStatus.UNCERTAIN: (Step.CLAIM, Step.UNCERTAIN),
    HeldStatus.REJECTED: (Step.REJECT,),
    HeldStatus.EXPIRED: (Step.EXPIRE,),
}


def test_every_status_is_reachable_and_the_table_is_closed() -> None:
    assert set(PATHS) == set(HeldStatus)
    for rule in TRANSITIONS.values():
        assert rule.sources <= set(HeldStatus) and rule.target in HeldStatus
    with pytest.raises(TransitionRefused):
        apply(Step.REJECT, HeldStatus.RELEASED)


def test_an_uncertain_release_never_goes_back_to_the_queue() -> None:
    # a reviewer releasing it again could deliver it twice: only admin steps leave UNCERTAIN
    leaving = [step for step, rule in TRANSITIONS.items() if HeldStatus.UNCERTAIN in rule.sources]
    assert leaving and all(
        TRANSITIONS[s].admin and TRANSITIONS[s].target is not HeldStatus.HELD for s in leaving
    )


async def _at(store: QuarantineStore, message_id: str, status: HeldStatus) -> None:
    await store.hold(held_message(message_id))
    for step in PATHS[status]:
        assert await store.transition(message_id, step, "setup")


async def test_every_step_from_every_status(any_store: QuarantineStore) -> None:
    for status in HeldStatus:
        for step in Step:
            message_id = f"{status.value}-{step.value}"
            await _at(any_store, message_id, status)
            allowed = can(step, status)
            assert await any_store.transition(message_id, step, "admin", "why") is allowed, message_id
            record = await any_store.get(message_id)
            assert record is not None
            rule = TRANSITIONS[step]
            if not allowed:
                assert record.summary.status is status, message_id
                continue
            assert record.summary.status is rule.target, message_id
            assert (record.data is None) is rule.purges, message_id
            if rule.target is HeldStatus.HELD:
                assert record.summary.decided_by is None, message_id


async def test_a_claim_is_won_once_and_returns_the_original(any_store: QuarantineStore) -> None:
    message = held_message("race")
    await any_store.hold(message)
    claims = await asyncio.gather(*(any_store.claim_release("race", f"r{i}") for i in range(10)))
    won = [c for c in claims if c is not None]
    assert len(won) == 1 and won[0].data == message.data
    assert won[0].summary.status is HeldStatus.RELEASING
    # an uncertain message is claimed only by an administrator's CLAIM_AGAIN
    assert await any_store.transition("race", Step.UNCERTAIN, "r0")
    assert await any_store.claim_release("race", "r1") is None
    assert await any_store.claim_release("race", "admin", Step.CLAIM_AGAIN) is not None


async def test_retention_expires_only_old_held_mail(any_store: QuarantineStore) -> None:
    old = datetime.now(UTC) - timedelta(days=40)
    for message_id in ("old-held", "old-uncertain"):
        await any_store.hold(held_message(message_id, received_at=old))
    await any_store.hold(held_message("new-held"))
    await any_store.claim_release("old-uncertain", "a")
    await any_store.transition("old-uncertain", Step.UNCERTAIN, "a")
    assert await any_store.purge_expired(datetime.now(UTC)) == 1
    statuses = {m: (await any_store.get(m)).summary.status for m in ("old-held", "old-uncertain", "new-held")}  # type: ignore[union-attr]
    assert statuses == {
        "old-held": HeldStatus.EXPIRED,
        "old-uncertain": HeldStatus.UNCERTAIN,
        "new-held": HeldStatus.HELD,
    }
