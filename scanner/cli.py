"""The ``sendguard`` command: ``serve``, ``scan`` and ``quarantine``.

Every command reads the same settings (`scanner.settings.config_source`): ``--config FILE``
anywhere on the line, else ``$SENDGUARD_CONFIG``, else ``/etc/sendguard/sendguard.toml``; the
resolved files are printed at start. ``quarantine`` never creates a store or a key: one it does
not find is an error (a run from the wrong directory or without serve's settings says so rather
than showing an empty queue), and it releases only where `serve` would deliver.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from scanner._errors import SendguardError
from scanner.model import Action, Finding, Unscanned
from scanner.settings import (
    Settings,
    config_source,
    describe_paths,
    load_settings,
    resolve_paths,
    sqlite_file,
)

if TYPE_CHECKING:
    from scanner.detect.engine import DetectionEngine
    from scanner.scan.protocol import Detected


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sendguard", description="Outbound-email PII scanner (SMTP proxy)")
    p.add_argument("--config", type=Path, help="TOML settings file (env SENDGUARD_* overrides it)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the SMTP proxy (and the review console when review.embedded)")
    sub.add_parser("review", help="run the review console as its own process (same settings and store)")
    scan = sub.add_parser("scan", help="scan .eml files or directories (recursively) and print verdicts")
    scan.add_argument("paths", nargs="+", type=Path)
    scan.add_argument("--json", action="store_true", help="one JSON object per message, one per line")
    scan.add_argument("--no-nlp", action="store_true", help="skip spaCy (faster, less context)")
    q = sub.add_parser("quarantine", help="list, show, release or delete held mail")
    from scanner.quarantine.commands import add_arguments

    add_arguments(q)
    from scanner.policy_commands import add_arguments as add_policy_arguments

    add_policy_arguments(sub.add_parser("policy", help="check a policy file, explain a decision"))
    return p


def iter_messages(paths: Sequence[Path]) -> Iterator[Path]:
    """Files as given; directories walked recursively in sorted order (every regular file)."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        else:
            yield path


def scan_command(settings: Settings, paths: Sequence[Path], as_json: bool, nlp: bool, out: TextIO) -> int:
    """Scan files with the proxy's engine, limits, CPU budget and policy, as its workers do
    (`scanner.scan.worker.answer`); one bad file never stops the run.

    Exit status: 0 all scanned, 1 some message would not pass, 2 some file could not be processed.
    """
    from scanner.detect import build_engine
    from scanner.policy import decide
    from scanner.tenants import load_book

    policy = load_book(settings.policy_file).default  # tenants' own rules: `sendguard policy explain`
    engine = build_engine(nlp=nlp and settings.scan.nlp, extra_recognizers=settings.scan.extra_recognizers)
    status = 0
    for path in iter_messages(paths):
        record: dict[str, Any] = {"path": str(path), "verdict": None, "findings": [], "error": None}
        result = _scan_file(settings, engine, path)
        if isinstance(result, str):
            record["error"] = result
            status = 2
        else:
            verdict = decide(policy, result.findings, result.defects)
            record["verdict"] = verdict.action.value
            record["findings"] = [f.as_dict() for f in verdict.findings]
            record["defects"] = list(verdict.defects)
            if verdict.action is not Action.PASS:
                status = max(status, 1)
        _print(out, as_json, record)
    return status


def _scan_file(settings: Settings, engine: DetectionEngine, path: Path) -> Detected | str:
    """One file as a worker answers it: extracted and detected under the CPU budget, in pieces
    when its text is longer than one (each piece with its share of the budget; the first piece
    that spends it stops the rest, as the batcher does); or the reason it could not be read."""
    import functools

    from scanner.extract import extract
    from scanner.scan.pieces import PIECE_CHARS, dedupe, placed, split_message
    from scanner.scan.protocol import Detected, Failed, NeedsSplit, RawMessage
    from scanner.scan.worker import answer

    scan = settings.scan
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"could not read: {type(exc).__name__}"
    if len(data) > settings.listen.max_message_size:
        return f"message larger than {settings.listen.max_message_size} bytes"
    extractor = functools.partial(
        extract, max_depth=scan.max_depth, max_text_bytes=scan.max_text_bytes, attachments=scan.attachments
    )
    (first,) = answer(engine, extractor, [RawMessage(data, PIECE_CHARS)], scan.cpu_budget)
    if isinstance(first, Failed):
        return f"could not be processed: {first.error}"
    if not isinstance(first, NeedsSplit):
        return first
    extraction = first.extraction
    found: list[Finding] = list(extraction.unscanned)
    for piece in split_message(extraction.segments):
        (result,) = answer(engine, extractor, [piece.segments], scan.cpu_budget)
        if isinstance(result, Failed):
            return f"could not be processed: {result.error}"
        assert isinstance(result, Detected)  # a piece of segments is never split again
        found.extend(placed(piece, result.findings))
        if any(f.category == Unscanned.BUDGET.category for f in result.findings):
            break  # held for its budget: the rest would not change that
    return Detected(dedupe(found), extraction.defects)


def _print(out: TextIO, as_json: bool, record: dict[str, Any]) -> None:
    if as_json:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    if record["error"]:
        out.write(f"{record['path']}: ERROR {record['error']}\n")
        return
    out.write(f"{record['path']}: {str(record['verdict']).upper()}\n")
    for f in record["findings"]:
        out.write(
            f"  {f['category']:<18} {f['group']:<14} {f['confidence']:<6} {f['score']:.2f}"
            f"  {f['location']}  {f['masked']}\n"
        )


def split_config(argv: Sequence[str]) -> tuple[Path | None, list[str]]:
    """Take ``--config FILE`` / ``--config=FILE`` from anywhere (before or after the subcommand)."""
    rest: list[str] = []
    config: Path | None = None
    items = iter(argv)
    for item in items:
        if item == "--config":
            value = next(items, None)
            if value is None:
                raise SystemExit("sendguard: --config needs a file")
            config = Path(value)
        elif item.startswith("--config="):
            config = Path(item.split("=", 1)[1])
        else:
            rest.append(item)
    return config, rest


def main(argv: Sequence[str] | None = None) -> int:
    config_arg, rest = split_config(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(rest)
    config_file = config_source(config_arg)
    try:
        settings = resolve_paths(load_settings(config_file))
    except Exception as exc:
        print(f"sendguard: bad settings: {exc}", file=sys.stderr)
        return 2
    if args.command in ("serve", "review"):
        from scanner.app import run

        run(settings, config_file=config_file, console_only=args.command == "review")
        return 0
    if args.command == "scan":
        return scan_command(settings, args.paths, args.json, not args.no_nlp, sys.stdout)
    if args.command == "policy":
        from scanner.policy_commands import run as run_policy

        return run_policy(settings, args, sys.stdout)
    if args.quarantine_command == "new-key":  # needs no store
        from scanner.quarantine.crypto import generate_key

        print(generate_key())
        return 0
    print(f"sendguard: {describe_paths(settings, config_file)}", file=sys.stderr)
    return asyncio.run(_quarantine(settings, args))


def missing_store(settings: Settings) -> str | None:
    """Why the quarantine `serve` would use is not there (the CLI must not create one)."""
    q = settings.quarantine
    db = sqlite_file(q.url)
    if db is not None and not db.is_file():
        return f"no quarantine database at {db}"
    if not q.keys and not q.key_file.is_file():
        return f"no quarantine key file at {q.key_file}"
    return None


def release_refusal(settings: Settings) -> str | None:
    """Why a release from here would not go where `serve` delivers (None: it would).

    With an upstream configured the relay is that upstream. Without one the message would be
    written to the embedded outbox: only right if `serve` itself runs that way with this same
    quarantine, which it records in the outbox when it starts (`OutboxRelay.mark_served`).
    """
    from scanner.relay import OutboxRelay

    if settings.relay.host:
        return None
    if OutboxRelay.served_for(settings.relay.outbox_dir, settings.quarantine.url):
        return None
    return (
        f"no upstream configured (relay.host) and no sendguard serve delivers to the outbox "
        f"{settings.relay.outbox_dir} for this quarantine; refusing to release there. "
        "Use serve's settings (--config FILE or SENDGUARD_CONFIG)."
    )


async def _quarantine(settings: Settings, args: argparse.Namespace) -> int:
    from scanner.app import build_relay
    from scanner.events.journal import Journal
    from scanner.quarantine.commands import run
    from scanner.quarantine.store import open_store

    problem = missing_store(settings)
    if problem is not None:
        print(
            f"sendguard: {problem}; sendguard serve creates it. Run this with serve's settings "
            "(--config FILE or SENDGUARD_CONFIG) and from its directory if they hold relative paths.",
            file=sys.stderr,
        )
        return 1
    if args.quarantine_command == "release":
        refusal = release_refusal(settings)
        if refusal is not None:
            print(f"sendguard: {refusal}", file=sys.stderr)
            return 1
    try:
        store = await open_store(settings.quarantine)
    except SendguardError as exc:  # wrong key, unreachable database: say so, no traceback
        print(f"sendguard: quarantine unavailable: {exc}", file=sys.stderr)
        return 1
    relay = build_relay(settings)
    try:
        code: int = await run(args, store, relay, sys.stdout, journal=Journal(store, settings.webhooks))
        return code
    finally:
        await relay.close()
        await store.close()


if __name__ == "__main__":
    sys.exit(main())
