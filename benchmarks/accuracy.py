"""Detection accuracy and speed: sendguard's engine vs stock Presidio, same messages, same run.

    python -m benchmarks.accuracy [--corpus PATH] [--no-presidio] [--limit N] [--show-flagged]
                                  [--sets corpus,generated,customer-dev,customer-held] [--show-class C]

Messages: ../shared/corpus or $SENDGUARD_CORPUS (labels.jsonl; kinds pii, medical, ham) plus generated English and
French positives and look-alike negatives (fixed seed, built at run time): identifiers in
sentences, and medical records / medical look-alikes from `tests.generators.medical`.

Rule for "flagged" (what the default policy would hold or reject): a message is flagged for a
group when it has a MEDIUM or HIGH finding in that identifier group, or any medical finding.
Presidio's results are mapped to groups (CREDIT_CARD -> payment_card, IBAN_CODE/US_BANK_NUMBER ->
bank_account, US_SSN/US_ITIN/US_DRIVER_LICENSE/US_PASSPORT/... -> government_id) and counted at
its own default (any score) and at score >= 0.5.

"Realistic customer mail" (`benchmarks.generate_customer`, split `dev` tuned on and `held` never
tuned on) is scored per class, by what the default policy does: a message is *stopped* when a
finding is MEDIUM or HIGH (reject or hold), *tagged* when it has only LOW findings. Positive
classes show the share stopped for the expected group (recall); negative classes the share
stopped (and tagged) for anything.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from scanner.extract import extract
from scanner.model import Confidence, Finding, Group
from tests.corpus import corpus_dir
from tests.generators.messages import Message, generated_messages

GROUPS = ("government_id", "payment_card", "bank_account", "medical")
PRESIDIO_GROUPS = {
    "CREDIT_CARD": "payment_card",
    "IBAN_CODE": "bank_account",
    "US_BANK_NUMBER": "bank_account",
    "US_SSN": "government_id",
    "US_ITIN": "government_id",
    "US_DRIVER_LICENSE": "government_id",
    "US_PASSPORT": "government_id",
    "UK_NHS": "government_id",
    "UK_NINO": "government_id",
    "ES_NIF": "government_id",
    "IT_FISCAL_CODE": "government_id",
    "MEDICAL_LICENSE": "medical",
}
# rows of negatives (message kinds where any flag is wrong); the first is all of them
SETS = ("corpus", "generated", "customer-dev", "customer-held")
NEGATIVES = {
    "ham_flagged": ("ham", "lookalike", "lookalike-medical"),
    "medical_lookalikes_flagged": ("lookalike-medical",),
}


def corpus_messages(root: Path, limit: int | None) -> list[Message]:
    out: list[Message] = []
    for line in (root / "labels.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["kind"] not in ("pii", "medical", "ham"):
            continue
        segments = extract((root / row["file"]).read_bytes()).segments
        out.append((row["file"], row["kind"], frozenset(row["expect"] or ()), segments))
    return out[:limit] if limit else out


def our_groups(findings: Iterable[Finding]) -> set[str]:
    return {f.group.value for f in findings if f.group is Group.MEDICAL or f.confidence >= Confidence.MEDIUM}


def run_ours(
    messages: Sequence[Message], batch: int = 32
) -> tuple[list[set[str]], float, list[list[Finding]]]:
    from scanner.detect import build_engine

    engine = build_engine(nlp=True)
    results: list[list[Finding]] = []
    started = time.perf_counter()
    for i in range(0, len(messages), batch):
        results.extend(engine.detect_batch([m[3] for m in messages[i : i + batch]]))
    elapsed = time.perf_counter() - started
    return [our_groups(r) for r in results], elapsed, results


def run_presidio(
    messages: Sequence[Message], threshold: float
) -> tuple[list[set[str]], list[set[str]], float]:
    from benchmarks.engine import stock_analyzer

    analyzer = stock_analyzer()
    any_score: list[set[str]] = []
    above: list[set[str]] = []
    started = time.perf_counter()
    for _, _, _, segments in messages:
        results = [r for s in segments if s.text.strip() for r in analyzer.analyze(s.text, language="en")]
        mapped = [
            (PRESIDIO_GROUPS[r.entity_type], r.score) for r in results if r.entity_type in PRESIDIO_GROUPS
        ]
        any_score.append({g for g, _ in mapped})
        above.append({g for g, score in mapped if score >= threshold})
    return any_score, above, time.perf_counter() - started


def table(
    messages: Sequence[Message], predictions: Sequence[set[str]]
) -> dict[str, tuple[float, float, int]]:
    """Per group: precision, recall, positives (message level)."""
    out: dict[str, tuple[float, float, int]] = {}
    for group in GROUPS:
        tp = fp = fn = 0
        for (_, _, expected, _), predicted in zip(messages, predictions, strict=True):
            tp += group in expected and group in predicted
            fp += group not in expected and group in predicted
            fn += group in expected and group not in predicted
        precision = tp / (tp + fp) if tp + fp else float("nan")
        recall = tp / (tp + fn) if tp + fn else float("nan")
        out[group] = (precision, recall, tp + fn)
    # ordinary mail (corpus ham) or generated look-alikes: nothing forbidden, any flag is wrong
    for key, kinds in NEGATIVES.items():
        ham = [i for i, m in enumerate(messages) if m[1] in kinds]
        flagged = sum(bool(predictions[i]) for i in ham)
        out[key] = (flagged / len(ham) if ham else 0.0, float(flagged), len(ham))
    return out


def _num(value: float) -> str:
    return "n/a" if value != value else f"{value:.3f}"  # NaN: nothing predicted / no positives


def _print(title: str, columns: dict[str, dict[str, tuple[float, float, int]]], negatives: str) -> None:
    labels = {
        "ham_flagged": f"{negatives} flagged",
        "medical_lookalikes_flagged": "of which medical look-alikes",
    }
    print(f"\n## {title}\n")
    names = list(columns)
    print("| group | positives | " + " | ".join(f"{n} P / R" for n in names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    for group in GROUPS:
        positives = next(iter(columns.values()))[group][2]
        cells = [f"{_num(c[group][0])} / {_num(c[group][1])}" for c in columns.values()]
        print(f"| {group} | {positives} | " + " | ".join(cells) + " |")
    for key, label in labels.items():
        if next(iter(columns.values()))[key][2]:
            cells = [f"{c[key][0]:.2%} ({int(c[key][1])}/{c[key][2]})" for c in columns.values()]
            print(f"| {label} | | " + " | ".join(cells) + " |")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=corpus_dir())
    parser.add_argument("--limit", type=int, default=None, help="only the first N corpus messages")
    parser.add_argument("--no-presidio", action="store_true")
    parser.add_argument("--threshold", type=float, default=0.5, help="second Presidio score cut")
    parser.add_argument("--show-flagged", action="store_true", help="list flagged ham (masked findings)")
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated, from: " + ", ".join(SETS))
    parser.add_argument("--show-class", default=None, help="customer sets: print one class's errors")
    args = parser.parse_args(argv)

    chosen = [s.strip() for s in args.sets.split(",") if s.strip()]
    for name in chosen:
        if name not in SETS:
            parser.error(f"unknown set {name!r}")
        if name == "corpus":
            exists = (args.corpus / "labels.jsonl").is_file()
            messages = corpus_messages(args.corpus, args.limit) if exists else []
        elif name == "generated":
            messages = generated_messages(seed=20261127)
        else:
            from benchmarks.generate_customer import customer_messages

            messages = customer_messages(name.split("-", 1)[1])
        if not messages:
            print(f"(no {name} messages)")
            continue
        ours, our_time, findings = run_ours(messages)
        columns = {"sendguard": table(messages, ours)}
        speeds = [f"sendguard {len(messages) / our_time:,.0f} msg/s"]
        presidio: list[tuple[set[str], set[str]]] | None = None
        if not args.no_presidio:
            any_score, above, p_time = run_presidio(messages, args.threshold)
            columns["presidio"] = table(messages, any_score)
            columns[f"presidio>={args.threshold}"] = table(messages, above)
            presidio = list(zip(any_score, above, strict=True))
            speeds.append(f"presidio {len(messages) / p_time:,.1f} msg/s")
            speeds.append(f"speed-up x{p_time / our_time:,.0f}")
        if name.startswith("customer"):
            from benchmarks.accuracy_customer import print_classes, show_class

            title = f"realistic customer mail, {name.split('-', 1)[1]} split: {len(messages)} messages"
            print_classes(title, messages, findings, presidio, args.threshold)
            if args.show_class:
                show_class(messages, findings, args.show_class)
        else:
            _print(f"{name}: {len(messages)} messages", columns, "ham" if name == "corpus" else "look-alikes")
        print("\nspeed (detection only, same segments): " + ", ".join(speeds))
        if args.show_flagged:
            for message, found in zip(messages, findings, strict=True):
                hits = [f for f in found if f.group is Group.MEDICAL or f.confidence >= Confidence.MEDIUM]
                wrong = {f.group.value for f in hits} - message[2]
                if wrong:
                    shown = ", ".join(f"{f.category}:{f.confidence.label}:{f.masked}" for f in hits)
                    print(f"  flagged {message[0]} ({message[1]}): {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
