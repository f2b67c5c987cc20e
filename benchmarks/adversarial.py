"""Adversarial recall: every evasion of `tests/adversarial/cases.py`, many seeds, through the
proxy's extraction, engine and default policy (in process).

    python -m benchmarks.adversarial [--seeds 10] [--rounds 3] [--no-nlp]

A positive counts as stopped when the policy rejects or holds it; a look-alike (ordinary mail
that resembles an evasion: phone numbers in headers, dates, Received chains, ...) when it would
not pass. Prints the per-evasion misses, the recall and the look-alikes stopped; the comparison
row is the same messages read as a scanner of the subject and text parts alone would read them
(no header fields, names, envelope or markup), and without the unscanned findings.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence

from scanner.detect import build_engine
from scanner.extract import extract
from scanner.model import Action, SegmentKind
from scanner.policy import decide
from scanner.settings import Settings
from scanner.tenants import load_book
from tests.adversarial.cases import generate

# what a scanner that reads only the text parts sees (the comparison row)
_BODY = frozenset({SegmentKind.SUBJECT, SegmentKind.TEXT, SegmentKind.HTML, SegmentKind.ATTACHMENT})


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3, help="values per evasion and seed")
    p.add_argument("--no-nlp", action="store_true")
    args = p.parse_args(argv)

    policy = load_book(Settings().policy_file).default
    engine = build_engine(nlp=not args.no_nlp)
    totals: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    for seed in range(args.seeds):
        for case in generate(seed=seed, rounds=args.rounds):
            extraction = extract(case.data, envelope=case.envelope)
            for mode, segments in (
                ("sendguard", extraction.segments),
                ("body only", tuple(s for s in extraction.segments if s.kind in _BODY)),
            ):
                unread = extraction.unscanned if mode == "sendguard" else ()
                verdict = decide(policy, [*engine.detect(segments), *unread], extraction.defects)
                stopped = verdict.action in (Action.REJECT, Action.HOLD)
                kind = "positive" if case.positive else "look-alike"
                totals[f"{mode} {kind}"] += 1
                totals[f"{mode} {kind} stopped"] += stopped
                if mode == "sendguard" and case.positive and not stopped:
                    missed[case.name] += 1
    print(f"{args.seeds} seeds x {args.rounds} rounds of tests/adversarial/cases.py\n")
    print("| reader | positives stopped (recall) | look-alikes stopped |")
    print("| --- | ---: | ---: |")
    for mode in ("sendguard", "body only"):
        pos, pos_hit = totals[f"{mode} positive"], totals[f"{mode} positive stopped"]
        neg, neg_hit = totals[f"{mode} look-alike"], totals[f"{mode} look-alike stopped"]
        print(
            f"| {mode} | {pos_hit}/{pos} ({pos_hit / pos:.3f}) | {neg_hit}/{neg} ({neg_hit / max(neg, 1):.1%}) |"
        )
    if missed:
        print("\nmissed by sendguard:", ", ".join(f"{name} x{n}" for name, n in missed.most_common()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
