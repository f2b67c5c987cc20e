"""``sendguard policy check FILE | explain MESSAGE [--tenant T] | digest``.

- ``check``: validate a policy file as `sendguard serve` would load it; the error names the line.
- ``explain``: scan one message with the real engine and say, per finding, which action and which
  rule of the policy decided it, and which decided the message. Masked forms only.
- ``digest``: the keyed digest of an IBAN or card number for a tenant's ``allow_digests``; the
  value is read from standard input (not the command line: it would stay in shell history).
"""

from __future__ import annotations

import argparse
import sys
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import TextIO

from scanner.digest import value_digest
from scanner.model import Envelope
from scanner.settings import Settings
from scanner.tenants import PolicyError, decide_for, load_book


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="policy_command", required=True)
    check = sub.add_parser("check", help="validate a policy file")
    check.add_argument("file", type=Path)
    explain = sub.add_parser("explain", help="which rule decides a message (masked)")
    explain.add_argument("message", type=Path)
    explain.add_argument("--tenant", help="decide as this tenant (default: header or sender domain)")
    explain.add_argument("--policy", type=Path, help="policy file (default: the configured one)")
    explain.add_argument("--no-nlp", action="store_true")
    sub.add_parser("digest", help="digest of a value read from stdin, for allow_digests")


def run(settings: Settings, args: argparse.Namespace, out: TextIO, stdin: TextIO | None = None) -> int:
    if args.policy_command == "check":
        return check(args.file, out)
    if args.policy_command == "digest":
        key = settings.tenants.digest_key
        if key is None:
            out.write("sendguard: tenants.digest_key is not set\n")
            return 2
        out.write(
            value_digest(key.get_secret_value().encode("utf-8"), (stdin or sys.stdin).readline().strip())
            + "\n"
        )
        return 0
    return explain(settings, args.message, args.tenant, args.policy, not args.no_nlp, out)


def check(path: Path, out: TextIO) -> int:
    try:
        book = load_book(path)
    except PolicyError as exc:
        out.write(f"invalid: {exc}\n")
        return 1
    out.write(f"ok: {path}: {len(book.tenants)} tenant(s)\n")
    return 0


def explain(
    settings: Settings, path: Path, tenant: str | None, policy_file: Path | None, nlp: bool, out: TextIO
) -> int:
    from scanner.detect import build_engine
    from scanner.extract import extract

    try:
        book = load_book(policy_file or settings.policy_file)
    except PolicyError as exc:
        out.write(f"invalid: {exc}\n")
        return 1
    data = path.read_bytes()
    head = BytesHeaderParser(policy=compat32).parsebytes(data[:65536])
    sender = parseaddr(str(head.get("Return-Path") or head.get("From") or ""))[1]
    rcpts = tuple(
        a for _, a in getaddresses([str(v) for v in head.get_all("To", []) + head.get_all("Cc", [])]) if a
    )
    envelope = Envelope(sender, rcpts)
    header_name = settings.tenants.header or settings.tenant_header
    how = "--tenant"
    if tenant is None:
        value = head.get(header_name) if header_name else None
        tenant = book.tenant_of(str(value).strip() if value else None, sender)
        how = f"header {header_name}" if value else "sender domain" if tenant else "none"
    key = settings.tenants.digest_key
    engine = build_engine(
        nlp=nlp and settings.scan.nlp,
        extra_recognizers=settings.scan.extra_recognizers,
        digest_key=key.get_secret_value() if key else None,
    )
    extraction = extract(data, max_depth=settings.scan.max_depth, max_text_bytes=settings.scan.max_text_bytes)
    found = [*engine.detect(extraction.segments), *extraction.unscanned]
    verdict, rulings = decide_for(book, tenant, envelope, found, extraction.defects)
    out.write(f"tenant: {tenant or '-'} ({how})\n")
    out.write(f"verdict: {verdict.action.value.upper()}\n")
    for r in rulings:
        f = r.finding
        out.write(
            f"  {f.category:<18} {f.group.value:<14} {f.confidence.label:<6} {f.location}  {f.masked}"
            f"  -> {r.action.value} ({r.rule})\n"
        )
    deciding = [r.rule for r in rulings if r.finding in verdict.reasons]
    out.write(f"decided by: {', '.join(dict.fromkeys(deciding)) or 'no finding (pass)'}\n")
    return 0
