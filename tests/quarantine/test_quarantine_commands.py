"""`sendguard quarantine ...` through `commands.run` with a StringIO, on both backends."""

from __future__ import annotations

import argparse
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher

from scanner.model import Confidence, Finding, Group
from scanner.quarantine import commands
from scanner.quarantine.model import HeldStatus, Role
from scanner.quarantine.store import SqlQuarantineStore
from tests.fakes import FakeRelay
from tests.quarantine.fakes import BODY_MARKER, finding, held_message


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sendguard quarantine")
    commands.add_arguments(parser)
    return parser.parse_args(argv)


async def run(
    store: SqlQuarantineStore, *argv: str, relay: FakeRelay | None = None, stdin: str = ""
) -> tuple[int, str]:
    out = io.StringIO()
    code = await commands.run(parse(*argv), store, relay or FakeRelay(), out, stdin=io.StringIO(stdin))
    return code, out.getvalue()


async def test_list_prints_a_table_and_json_lines(store: SqlQuarantineStore) -> None:
    await store.hold(held_message("m1", rcpt_tos=("a@x.org", "b@x.org"), findings=(finding(), finding())))
    await store.hold(
        held_message("m2", mail_from="other@corp.example", findings=(finding("IBAN", Group.BANK_ACCOUNT),))
    )

    code, out = await run(store, "list")
    assert code == 0
    header, *rows, footer = out.splitlines()
    assert header.split() == ["ID", "RECEIVED", "SENDER", "RCPTS", "CATEGORIES", "STATUS"]
    m1 = next(r for r in rows if r.startswith("m1 "))
    assert "billing@shop.example" in m1 and " 2 " in m1 and "US_SSN:2" in m1 and m1.endswith("held")
    assert footer == "(2 shown of 2)"

    code, out = await run(store, "list", "--json", "--category", "IBAN")
    [line] = out.splitlines()
    obj = json.loads(line)
    assert (obj["id"], obj["mail_from"], obj["categories"], obj["status"]) == (
        "m2",
        "other@corp.example",
        {"IBAN": 1},
        "held",
    )
    code, out = await run(store, "list", "--json", "--status", "released")
    assert out == ""


async def test_show_prints_envelope_findings_and_headers_but_not_the_body(store: SqlQuarantineStore) -> None:
    subject_hit = finding(location="subject")
    await store.hold(held_message("s1", subject="SSN 123-45-6789 inside", findings=(finding(), subject_hit)))

    code, out = await run(store, "show", "s1", "--actor", "alice")

    assert code == 0
    assert "MAIL FROM: <billing@shop.example> SIZE=1000 BODY=8BITMIME" in out
    assert "RCPT TO:   <alice@example.org> NOTIFY=NEVER" in out
    assert "US_SSN" in out and "***-**-6789" in out
    assert "Message-ID: <s1@shop.example>" in out
    assert "Subject: [withheld" in out
    assert BODY_MARKER not in out and "123-45-6789" not in out
    [event] = await store.audit_log("s1")
    assert (event.actor, event.action, event.reason) == ("alice", "view", None)


async def test_show_reveal_needs_a_reason_and_is_audited(store: SqlQuarantineStore) -> None:
    await store.hold(held_message("s2"))

    code, out = await run(store, "show", "s2", "--reveal")
    assert code == 2 and BODY_MARKER not in out
    assert await store.audit_log("s2") == []

    code, out = await run(store, "show", "s2", "--reveal", "--reason", "ticket 42", "--actor", "bob")
    assert code == 0 and BODY_MARKER in out
    [event] = await store.audit_log("s2")
    assert (event.actor, event.action, event.reason) == ("bob", "reveal", "ticket 42")
    code, out = await run(store, "show", "missing")
    assert code == 1


async def test_release_command_relays_once(store: SqlQuarantineStore) -> None:
    message = held_message("r1")
    await store.hold(message)
    relay = FakeRelay()

    code, out = await run(store, "release", "r1", "--actor", "carol", relay=relay)
    assert (code, out.strip()) == (0, "released r1")
    code, out = await run(store, "release", "r1", relay=relay)
    assert code == 1 and "not held" in out
    assert relay.delivered == [(message.envelope, message.data)]

    code, out = await run(store, "show", "r1")
    assert "Status:    released (carol" in out and "(message bytes purged)" in out


async def test_reject_delete_and_purge(store: SqlQuarantineStore) -> None:
    await store.hold(held_message("j1"))
    await store.hold(held_message("d1"))
    await store.hold(held_message("old", received_at=datetime.now(UTC) - timedelta(days=31)))

    assert (await run(store, "reject", "j1", "--reason", "spam", "--actor", "x"))[0] == 0
    assert (await run(store, "reject", "j1"))[0] == 1
    assert (await run(store, "delete", "d1", "--actor", "x"))[0] == 0
    assert (await run(store, "delete", "d1"))[0] == 1
    code, out = await run(store, "purge", "--actor", "x")
    assert (code, out.strip()) == (0, "expired 1 message(s)")

    record = await store.get("old")
    assert record is not None and record.summary.status is HeldStatus.EXPIRED
    code, out = await run(store, "audit", "--json")
    actions = [json.loads(line)["action"] for line in out.splitlines()]
    assert actions == ["purge", "delete", "reject"]


async def test_add_user_hashes_the_password_from_stdin(store: SqlQuarantineStore) -> None:
    code, out = await run(store, "add-user", "dana", "--role", "reviewer", stdin="correct horse battery\n")
    assert (code, out.strip()) == (0, "account dana saved with role reviewer")

    account = await store.get_account("dana")
    assert account is not None and account.role is Role.REVIEWER
    assert "correct horse" not in account.password_hash
    assert PasswordHasher().verify(account.password_hash, "correct horse battery")

    code, _ = await run(store, "add-user", "eve", "--role", "admin", stdin="short\n")
    assert code == 2 and await store.get_account("eve") is None


async def test_rotate_keys_and_new_key(store: SqlQuarantineStore) -> None:
    await store.hold(held_message("k1"))
    code, out = await run(store, "rotate-keys")
    assert (code, out.strip()) == (0, "re-encrypted 2 token(s) with the newest key")
    code, out = await run(store, "new-key")
    assert code == 0 and len(out.strip()) == 44


async def test_requeue_only_moves_a_stuck_release_back_to_held(store: SqlQuarantineStore) -> None:
    await store.hold(held_message("q1"))
    code, out = await run(store, "requeue", "q1")
    assert code == 1

    await store.claim_release("q1", "crashed-console")
    code, out = await run(store, "requeue", "q1", "--actor", "admin")
    assert (code, out.strip()) == (0, "q1 is held again")
    record = await store.get("q1")
    assert record is not None and record.summary.status is HeldStatus.HELD
    [event] = await store.audit_log("q1")
    assert (event.action, event.actor, event.reason) == ("requeue", "admin", "was claimed by crashed-console")


async def test_show_withholds_flagged_header_fields_and_masks_the_envelope(store: SqlQuarantineStore) -> None:
    in_from = Finding(
        category="US_SSN",
        group=Group.GOVERNMENT_ID,
        location="envelope:mail-from",
        start=0,
        end=11,
        score=0.95,
        confidence=Confidence.HIGH,
        masked="***-**-6789",
    )
    in_header = replace(in_from, location="header:X-Note", start=4, end=15)
    message = held_message("e1", mail_from="123-45-6789@shop.example", findings=(in_from, in_header))
    data = message.data.replace(b"Subject:", b"X-Note: SSN 123-45-6789\r\nSubject:").replace(
        b"From: 123-45-6789@", b"From: billing@"
    )
    await store.hold(replace(message, data=data))

    code, out = await run(store, "show", "e1")
    assert code == 0
    assert "123-45-6789" not in out
    assert "MAIL FROM: <***-**-6789@shop.example>" in out
    assert "X-Note: [withheld" in out and "Subject: Your invoice" in out

    code, out = await run(store, "show", "e1", "--reveal", "--reason", "ticket 7")
    assert "MAIL FROM: <123-45-6789@shop.example>" in out and "X-Note: SSN 123-45-6789" in out
