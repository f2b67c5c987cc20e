"""SqlQuarantineStore on SQLite and PostgreSQL: storage, filters, transitions, retention."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from scanner._errors import StoreError
from scanner.model import Group
from scanner.quarantine.lifecycle import Step
from scanner.quarantine.migrate import alembic_config
from scanner.quarantine.model import Account, AuditEvent, HeldStatus, QueueFilter, Role
from scanner.quarantine.store import SqlQuarantineStore
from scanner.quarantine.tables import VERSION_TABLE, metadata
from tests.quarantine.fakes import BODY_MARKER, finding, held_message
from tests.stores import Backend

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def _raw(store: SqlQuarantineStore, sql: str, **params: object) -> list[Any]:
    async with store.engine.connect() as conn:
        return list((await conn.execute(sa.text(sql), params)).all())


async def test_hold_then_get_returns_identical_bytes_envelope_and_findings(store: SqlQuarantineStore) -> None:
    found = (finding(), finding("IBAN", Group.BANK_ACCOUNT, "attachment[2:statement.txt]"))
    message = held_message("m1", findings=found, tenant="acme", rcpt_tos=("a@x.org", "b@y.org"))
    await store.hold(message)

    record = await store.get("m1")

    assert record is not None
    assert record.data == message.data
    assert record.envelope == message.envelope
    assert record.findings == found
    assert record.summary.status is HeldStatus.HELD
    assert record.summary.tenant == "acme"
    assert record.summary.size == len(message.data)
    assert record.summary.categories == {"US_SSN": 1, "IBAN": 1}
    assert record.summary.received_at == message.received_at
    assert await store.get("missing") is None


async def test_hold_of_a_duplicate_id_raises_store_error(store: SqlQuarantineStore) -> None:
    await store.hold(held_message("dup"))
    with pytest.raises(StoreError):
        await store.hold(held_message("dup"))


async def test_message_bytes_and_finding_details_are_encrypted_at_rest(store: SqlQuarantineStore) -> None:
    await store.hold(held_message("enc", findings=(finding(location="attachment[2:secret-name.txt]"),)))

    [(data,)] = await _raw(store, "SELECT data FROM quarantine_messages WHERE id = 'enc'")
    sealed = [bytes(r[0]) for r in await _raw(store, "SELECT sealed FROM quarantine_findings")]

    assert BODY_MARKER.encode() not in bytes(data)
    assert b"Subject" not in bytes(data)
    for token in sealed:
        assert b"6789" not in token
        assert b"secret-name" not in token
    # the envelope is metadata, kept in clear for filtering
    [(mail_from,)] = await _raw(store, "SELECT mail_from FROM quarantine_messages")
    assert mail_from == "billing@shop.example"


async def test_list_filters_paging_and_category_counts(store: SqlQuarantineStore) -> None:
    ssn, iban, med = finding(), finding("IBAN", Group.BANK_ACCOUNT), finding("MEDICAL_RECORD", Group.MEDICAL)
    await store.hold(held_message("a", received_at=T0, mail_from="News@Shop.example", findings=(ssn, ssn)))
    await store.hold(held_message("b", received_at=T0 + timedelta(hours=1), tenant="t2", findings=(iban,)))
    await store.hold(held_message("c", received_at=T0 + timedelta(hours=2), tenant="t2", findings=(ssn, med)))
    await store.hold(held_message("d", received_at=T0 + timedelta(hours=3), mail_from="x_y@other.example"))
    await store.transition("d", Step.REJECT, "rev", None)

    page, total = await store.list_held(QueueFilter())
    assert [s.id for s in page] == ["c", "b", "a"]  # held only, newest first
    assert total == 3
    assert page[2].categories == {"US_SSN": 2}

    page, total = await store.list_held(QueueFilter(limit=2, offset=1))
    assert [s.id for s in page] == ["b", "a"] and total == 3
    page, total = await store.list_held(QueueFilter(sender="news@shop"))
    assert [s.id for s in page] == ["a"] and total == 1
    # LIKE wildcards in the filter are literal
    page, _ = await store.list_held(QueueFilter(sender="x_y", status=None))
    assert [s.id for s in page] == ["d"]
    page, _ = await store.list_held(QueueFilter(sender="%"))
    assert page == []
    page, _ = await store.list_held(QueueFilter(tenant="t2"))
    assert [s.id for s in page] == ["c", "b"]
    page, total = await store.list_held(QueueFilter(category="US_SSN"))
    assert [s.id for s in page] == ["c", "a"] and total == 2
    page, _ = await store.list_held(
        QueueFilter(received_after=T0 + timedelta(minutes=30), received_before=T0 + timedelta(hours=2))
    )
    assert [s.id for s in page] == ["b"]
    page, total = await store.list_held(QueueFilter(status=None))
    assert total == 4
    page, _ = await store.list_held(QueueFilter(status=HeldStatus.REJECTED))
    assert [(s.id, s.status, s.decided_by) for s in page] == [("d", HeldStatus.REJECTED, "rev")]

    assert await store.category_counts(QueueFilter()) == {"US_SSN": 2, "IBAN": 1, "MEDICAL_RECORD": 1}
    assert await store.category_counts(QueueFilter(tenant="t2")) == {
        "US_SSN": 1,
        "IBAN": 1,
        "MEDICAL_RECORD": 1,
    }
    assert await store.category_counts(QueueFilter(status=None)) == {
        "US_SSN": 3,
        "IBAN": 1,
        "MEDICAL_RECORD": 1,
    }


async def test_concurrent_claims_have_exactly_one_winner(
    store: SqlQuarantineStore, backend: Backend, key: str
) -> None:
    await store.hold(held_message("race"))
    # a second instance on the same database (own engine, own pool, own in-process write
    # queue), as with two proxies or two console workers: the database must arbitrate
    other = await backend.open([key])
    try:
        results = await asyncio.gather(
            *((store, other)[i % 2].claim_release("race", f"reviewer{i}") for i in range(10))
        )
    finally:
        await other.close()

    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert winners[0].data is not None
    record = await store.get("race")
    assert record is not None and record.summary.status is HeldStatus.RELEASING


async def test_finish_release_purges_bytes_and_keeps_metadata(store: SqlQuarantineStore) -> None:
    await store.hold(held_message("r"))
    assert await store.claim_release("r", "alice") is not None

    await store.transition("r", Step.DELIVERED, "alice")

    record = await store.get("r")
    assert record is not None
    assert record.data is None
    assert record.summary.status is HeldStatus.RELEASED
    assert record.summary.decided_by == "alice"
    assert record.findings == (finding(),)
    assert await _raw(store, "SELECT data FROM quarantine_messages WHERE id = 'r'") == [(None,)]
    assert await store.claim_release("r", "bob") is None
    assert await store.transition("r", Step.REJECT, "bob", None) is False


async def test_abort_release_puts_the_message_back(store: SqlQuarantineStore) -> None:
    message = held_message("ab")
    await store.hold(message)
    await store.claim_release("ab", "alice")

    await store.transition("ab", Step.REFUSED, "test")

    record = await store.get("ab")
    assert record is not None and record.summary.status is HeldStatus.HELD and record.data == message.data
    assert await store.claim_release("ab", "bob") is not None


async def test_reject_purges_bytes_only_when_held(store: SqlQuarantineStore) -> None:
    await store.hold(held_message("rj"))
    await store.hold(held_message("busy"))
    await store.claim_release("busy", "alice")

    assert await store.transition("rj", Step.REJECT, "bob", "phishing") is True
    assert await store.transition("rj", Step.REJECT, "bob", "again") is False
    assert await store.transition("busy", Step.REJECT, "bob", None) is False
    assert await store.transition("nope", Step.REJECT, "bob", None) is False

    record = await store.get("rj")
    assert record is not None and record.summary.status is HeldStatus.REJECTED and record.data is None
    assert await _raw(store, "SELECT data, decision_reason FROM quarantine_messages WHERE id = 'rj'") == [
        (None, "phishing")
    ]


async def test_purge_expired_expires_only_old_held_mail(backend: Backend, key: str) -> None:
    store = await backend.open([key], retention_days=7)
    try:
        now = T0 + timedelta(days=30)
        await store.hold(held_message("old", received_at=now - timedelta(days=8)))
        await store.hold(held_message("young", received_at=now - timedelta(days=6)))
        await store.hold(held_message("old-released", received_at=now - timedelta(days=9)))
        await store.claim_release("old-released", "a")
        await store.transition("old-released", Step.DELIVERED, "a")

        assert await store.purge_expired(now) == 1
        assert await store.purge_expired(now) == 0

        statuses = dict(await _raw(store, "SELECT id, status FROM quarantine_messages"))
        assert statuses == {"old": "expired", "young": "held", "old-released": "released"}
        assert await _raw(store, "SELECT data FROM quarantine_messages WHERE id = 'old'") == [(None,)]
        young = await store.get("young")
        assert young is not None and young.data is not None
    finally:
        await store.close()


async def test_delete_removes_message_and_findings_but_not_the_audit_trail(store: SqlQuarantineStore) -> None:
    await store.hold(held_message("del"))
    await store.record(AuditEvent(at=T0, actor="admin", action="view", message_id="del"))

    assert await store.delete("del") is True
    assert await store.delete("del") is False

    assert await store.get("del") is None
    assert await _raw(store, "SELECT count(*) FROM quarantine_findings") == [(0,)]
    assert [e.action for e in await store.audit_log("del")] == ["view"]


async def test_audit_log_is_newest_first_and_filters_by_message(store: SqlQuarantineStore) -> None:
    for i, action in enumerate(["view", "reveal", "release"]):
        await store.record(
            AuditEvent(
                at=T0 + timedelta(minutes=i), actor="alice", action=action, message_id="m", reason=f"r{i}"
            )
        )
    await store.record(AuditEvent(at=T0, actor="root", action="login"))

    events = await store.audit_log("m")
    assert [e.action for e in events] == ["release", "reveal", "view"]
    assert events[0] == AuditEvent(
        at=T0 + timedelta(minutes=2), actor="alice", action="release", message_id="m", reason="r2"
    )
    assert len(await store.audit_log()) == 4
    assert [e.action for e in await store.audit_log(limit=1)] == ["login"]


async def test_accounts_are_created_and_replaced(store: SqlQuarantineStore) -> None:
    assert await store.get_account("alice") is None
    await store.put_account(Account("alice", Role.VIEWER, "$argon2id$one"))
    await store.put_account(Account("alice", Role.REVIEWER, "$argon2id$two"))
    assert await store.get_account("alice") == Account("alice", Role.REVIEWER, "$argon2id$two")


async def test_naive_datetimes_are_refused(store: SqlQuarantineStore) -> None:
    with pytest.raises(ValueError, match="naive"):
        await store.purge_expired(datetime(2026, 1, 1))


async def test_migrated_schema_matches_the_models(store: SqlQuarantineStore) -> None:
    def diff(conn: Connection) -> list[object]:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        return list(compare_metadata(context, metadata))

    async with store.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_reopening_is_idempotent_and_keeps_data(backend: Backend, key: str) -> None:
    first = await backend.open([key])
    await first.hold(held_message("keep"))
    await first.close()
    second = await backend.open([key])
    try:
        record = await second.get("keep")
        assert record is not None and record.data == held_message("keep").data
        [(version,)] = await _raw(second, f"SELECT version_num FROM {VERSION_TABLE}")
        assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()
    finally:
        await second.close()


async def test_instances_opening_a_fresh_database_at_once_all_succeed(backend: Backend, key: str) -> None:
    # several proxy instances starting together: one migrates, the others wait for it (on a
    # fresh SQLite file, two of them switching it to WAL at once deadlock: one is retried)
    opened = await asyncio.gather(*(backend.open([key]) for _ in range(4)), return_exceptions=True)
    stores = [s for s in opened if isinstance(s, SqlQuarantineStore)]
    try:
        assert len(stores) == 4, opened
        await stores[0].hold(held_message("from-first"))
        assert all([await s.get("from-first") is not None for s in stores[1:]])
    finally:
        for s in stores:
            await s.close()
