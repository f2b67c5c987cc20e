"""`sendguard quarantine ...`: the command line on the quarantine store.

    list [--status S|all] [--sender TEXT] [--tenant T] [--category C] [--limit N] [--offset N] [--json]
    show ID [--reveal --reason TEXT]     envelope, masked findings, headers; body only when revealed
    release ID [--again]                 relays the original upstream, exactly once (--again:
                                         an 'uncertain' one, knowing it may arrive twice)
    mark-delivered ID                    'uncertain' -> released: the upstream did take it
    requeue ID                           RELEASING -> HELD after a crash mid-release (check the
                                         upstream first: the message may have been delivered)
    reject ID [--reason TEXT]            bytes purged, metadata kept
    delete ID                            the message and its findings removed (audit trail kept)
    purge                                expire held mail past retention
    rotate-keys                          re-encrypt everything with the newest key
    add-user NAME --role ROLE            password read from stdin, stored as an argon2 hash
    audit [--message ID] [--limit N] [--json]
    new-key                              print a fresh Fernet key (for `quarantine.keys`)

Every command that touches a message writes an audit event (actor: ``--actor`` or
``cli:$USER``). Nothing printed comes from a message body unless ``--reveal`` was given with a
reason, and that reveal is audited. Exit codes: 0 done, 1 not done (not found, not held,
upstream refused), 2 usage error.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from datetime import UTC, datetime
from typing import Protocol, TextIO

from argon2 import PasswordHasher

from scanner.headers import header_fields
from scanner.ports import EventJournal, QuarantineStore, Relay
from scanner.quarantine.crypto import generate_key
from scanner.quarantine.decisions import Decisions, RejectOutcome, ReleaseOutcome
from scanner.quarantine.model import Account, HeldRecord, HeldStatus, QueueFilter, Role
from scanner.quarantine.store import SqlQuarantineStore
from scanner.quarantine.view import masked_envelope

MIN_PASSWORD_LENGTH = 12


class _Audit(Protocol):
    """Records one audit event for the current actor."""

    async def __call__(
        self, action: str, message_id: str | None = None, reason: str | None = None
    ) -> None: ...


def _default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry / no USER in a container
        return f"cli:uid{os.getuid()}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the quarantine subcommands to the `quarantine` parser."""
    actor = argparse.ArgumentParser(add_help=False)
    actor.add_argument("--actor", default=None, help="name recorded in the audit trail (default: cli:$USER)")
    sub = parser.add_subparsers(dest="quarantine_command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list held mail, newest first")
    statuses = [s.value for s in HeldStatus]
    p.add_argument("--status", default=HeldStatus.HELD.value, choices=[*statuses, "all"])
    p.add_argument("--sender", help="substring of MAIL FROM")
    p.add_argument("--tenant")
    p.add_argument("--category", help="e.g. US_SSN: messages with at least one such finding")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--json", action="store_true", help="one JSON object per line")

    p = sub.add_parser("show", parents=[actor], help="envelope, masked findings and headers of one message")
    p.add_argument("id")
    p.add_argument("--reveal", action="store_true", help="also print the message itself (audited)")
    p.add_argument("--reason", help="why the message is revealed (required with --reveal)")

    p = sub.add_parser("release", parents=[actor], help="relay a held message upstream (exactly once)")
    p.add_argument("id")
    p.add_argument(
        "--again", action="store_true", help="release an 'uncertain' message once more (it may arrive twice)"
    )

    p = sub.add_parser(
        "mark-delivered",
        parents=[actor],
        help="an 'uncertain' release did reach the upstream: mark it released",
    )
    p.add_argument("id")

    p = sub.add_parser(
        "requeue",
        parents=[actor],
        help="put a message stuck in 'releasing' (crash mid-release) back to 'held'",
    )
    p.add_argument("id")

    p = sub.add_parser("reject", parents=[actor], help="reject a held message (bytes purged)")
    p.add_argument("id")
    p.add_argument("--reason")

    p = sub.add_parser("delete", parents=[actor], help="delete a message and its findings")
    p.add_argument("id")

    sub.add_parser("purge", parents=[actor], help="expire held mail past the retention period")
    sub.add_parser("rotate-keys", parents=[actor], help="re-encrypt stored mail with the newest key")

    p = sub.add_parser("add-user", parents=[actor], help="create or update a review console account")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])

    p = sub.add_parser("audit", help="the audit trail, newest first")
    p.add_argument("--message", help="only events about this message id")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--json", action="store_true")

    sub.add_parser("new-key", help="print a fresh encryption key for quarantine.keys")


async def run(
    args: argparse.Namespace,
    store: QuarantineStore,
    relay: Relay,
    out: TextIO,
    *,
    stdin: TextIO | None = None,
    journal: EventJournal | None = None,
) -> int:
    """Run the parsed quarantine command; returns the process exit code."""
    command: str = args.quarantine_command
    actor: str = getattr(args, "actor", None) or _default_actor()

    # the CLI sends no reject notice; its decisions are webhook events like the console's
    decisions = Decisions(store, relay, hostname="localhost", journal=journal)

    async def audit(action: str, message_id: str | None = None, reason: str | None = None) -> None:
        await decisions.audit(actor, action, message_id, reason)

    if command == "list":
        return await _list(args, store, out)
    if command == "show":
        return await _show(args, store, out, audit)
    if command == "release":
        result = await decisions.release(args.id, actor, again=args.again)
        messages = {
            ReleaseOutcome.RELEASED: f"released {args.id}",
            ReleaseOutcome.NOT_HELD: f"{args.id} is not held (already released, rejected or being released)"
            + (", nor uncertain" if args.again else ""),
            ReleaseOutcome.NOT_FOUND: f"no message {args.id}",
            ReleaseOutcome.RELAY_FAILED: f"upstream refused {args.id}, still held: {result.error}",
            ReleaseOutcome.UNCERTAIN: f"no final reply from upstream for {args.id}; it may have been "
            f"delivered: check, then mark-delivered or release --again ({result.error})",
        }
        print(messages[result.outcome], file=out)
        return 0 if result.outcome is ReleaseOutcome.RELEASED else 1
    if command == "mark-delivered":
        return _said(out, await decisions.mark_delivered(args.id, actor), f"{args.id} marked delivered",
                     f"{args.id} is not uncertain; nothing to mark")  # fmt: skip
    if command == "requeue":
        return _said(out, await decisions.requeue(args.id, actor), f"{args.id} is held again",
                     f"{args.id} is not being released; nothing to requeue")  # fmt: skip
    if command == "reject":
        rejected = (await decisions.reject(args.id, actor, args.reason)).outcome is RejectOutcome.REJECTED
        return _said(out, rejected, f"rejected {args.id}", f"{args.id} is not held (or does not exist)")
    if command == "delete":
        return _said(
            out, await decisions.delete(args.id, actor), f"deleted {args.id}", f"no message {args.id}"
        )
    if command == "purge":
        count = await decisions.purge(actor)
        print(f"expired {count} message(s)", file=out)
        return 0
    if command == "rotate-keys":
        if not isinstance(store, SqlQuarantineStore):
            print("this store does not support key rotation", file=out)
            return 2
        count = await store.rotate_keys()
        await audit("rotate_keys", None, f"{count} token(s) re-encrypted")
        print(f"re-encrypted {count} token(s) with the newest key", file=out)
        return 0
    if command == "add-user":
        return await _add_user(args, store, out, stdin, audit)
    if command == "audit":
        events = await store.audit_log(args.message, limit=args.limit)
        for e in events:
            if args.json:
                print(json.dumps(e.as_dict()), file=out)
            else:
                line = f"{_when(e.at)}  {e.actor}  {e.action}  {e.message_id or '-'}  {e.reason or ''}"
                print(_printable(line.rstrip()), file=out)
        return 0
    if command == "new-key":
        print(generate_key(), file=out)
        return 0
    print(f"unknown quarantine command {command!r}", file=out)
    return 2


def _said(out: TextIO, done: bool, yes: str, no: str) -> int:
    print(yes if done else no, file=out)
    return 0 if done else 1


def _printable(text: str) -> str:
    """Neutralise control characters so stored metadata cannot drive the terminal."""
    return "".join(ch if ch.isprintable() or ch == "\t" else "?" for ch in text)


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _categories(categories: dict[str, int]) -> str:
    return " ".join(f"{c}:{n}" for c, n in sorted(categories.items())) or "-"


async def _list(args: argparse.Namespace, store: QuarantineStore, out: TextIO) -> int:
    flt = QueueFilter(
        sender=args.sender,
        tenant=args.tenant,
        category=args.category,
        status=None if args.status == "all" else HeldStatus(args.status),
        offset=args.offset,
        limit=args.limit,
    )
    page, total = await store.list_held(flt)
    if args.json:
        for s in page:
            print(json.dumps(s.as_dict()), file=out)
        return 0
    rows = [("ID", "RECEIVED", "SENDER", "RCPTS", "CATEGORIES", "STATUS")]
    rows += [
        (
            s.id,
            _when(s.received_at),
            _printable(s.mail_from)[:48],
            str(len(s.rcpt_tos)),
            _categories(s.categories),
            s.status.value,
        )
        for s in page
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip(), file=out)
    print(f"({len(page)} shown of {total})", file=out)
    return 0


async def _show(args: argparse.Namespace, store: QuarantineStore, out: TextIO, audit: _Audit) -> int:
    if args.reveal and not (args.reason and args.reason.strip()):
        print("--reveal needs --reason TEXT (it is recorded in the audit trail)", file=out)
        return 2
    record = await store.get(args.id)
    if record is None:
        print(f"no message {args.id}", file=out)
        return 1
    await audit("reveal" if args.reveal else "view", args.id, args.reason if args.reveal else None)
    _print_record(record, out, reveal=args.reveal)
    if record.data is None:
        print("\n(message bytes purged)", file=out)
        return 0
    # header fields are scanned too: one that carries a finding is withheld like the body
    flagged = {f.location.lower() for f in record.findings}
    print("\nHeaders:", file=out)
    for name, value in header_fields(record.data, len(record.data)):
        location = "subject" if name.lower() == "subject" else f"header:{name.lower()}"
        if location in flagged and not args.reveal:
            value = "[withheld: contains findings; use --reveal --reason TEXT]"
        print(_printable(f"  {name}: {value}"), file=out)
    if args.reveal:
        print("\nMessage:", file=out)
        print(record.data.decode("utf-8", errors="replace"), file=out)
    return 0


def _print_record(record: HeldRecord, out: TextIO, *, reveal: bool = False) -> None:
    s, env = record.summary, record.envelope
    masked = None if reveal else masked_envelope(env, record.findings)  # findings in the envelope
    mail_from, rcpt_tos = masked if masked is not None else (env.mail_from, env.rcpt_tos)
    lines = [
        f"ID:        {s.id}",
        f"Status:    {s.status.value}"
        + (f" ({s.decided_by}, {_when(s.decided_at)})" if s.decided_at else ""),
        f"Received:  {_when(s.received_at)}",
        f"Tenant:    {s.tenant or '-'}",
        f"Size:      {s.size} bytes",
        f"MAIL FROM: <{mail_from}> {' '.join(env.mail_options)}".rstrip(),
    ]
    for i, rcpt in enumerate(rcpt_tos):
        opts = " ".join(env.rcpt_options[i]) if i < len(env.rcpt_options) else ""
        lines.append(f"RCPT TO:   <{rcpt}> {opts}".rstrip())
    lines.append(f"Findings:  {len(record.findings)}")
    for f in record.findings:
        lines.append(
            f"  {f.category:<20} {f.group.value:<14} {f.confidence.label:<6} {f.score:.2f}"
            f"  {f.location}  {f.masked}"
        )
    for line in lines:
        print(_printable(line), file=out)


async def _add_user(
    args: argparse.Namespace, store: QuarantineStore, out: TextIO, stdin: TextIO | None, audit: _Audit
) -> int:
    try:
        password = _read_password(stdin)
    except _PasswordMismatch:
        print("passwords do not match", file=out)
        return 2
    if len(password) < MIN_PASSWORD_LENGTH:
        print(f"password too short (at least {MIN_PASSWORD_LENGTH} characters)", file=out)
        return 2
    role = Role(args.role)
    await store.put_account(Account(name=args.name, role=role, password_hash=PasswordHasher().hash(password)))
    await audit("add_user", None, f"{args.name} as {role.value}")
    print(f"account {args.name} saved with role {role.value}", file=out)
    return 0


class _PasswordMismatch(Exception):
    pass


def _read_password(stdin: TextIO | None) -> str:
    if stdin is None:
        stdin = sys.stdin
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise _PasswordMismatch
        return first
    return stdin.readline().rstrip("\r\n")
