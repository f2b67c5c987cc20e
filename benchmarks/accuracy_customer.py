"""Per-class tables for the realistic customer mail set (`benchmarks.generate_customer`).

Read by `benchmarks.accuracy`. What counts is what the default policy does with a message:
*stopped* = some finding is MEDIUM or HIGH (reject, or hold for medical), *tagged* = only LOW
findings (relayed with PII-Scan headers). A positive class scores the share stopped **for its
expected group** (recall); a negative class the share stopped for anything. Stock Presidio's
entities are mapped to groups as in `benchmarks.accuracy` and counted at any score and ≥ 0.5.
"""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks.generate_customer import Message
from scanner.model import Confidence, Finding

# the targets, by class: (kind, bound) — recall at least / stopped at most
TARGETS = {
    "clinical_report": ("recall", 0.95),
    "health_person": ("recall", 0.85),
    "health_newsletter": ("stopped", 0.02),
    "luhn_noncard": ("stopped", 0.20),
    "transactional": ("stopped", 0.002),
    "identifier_leak": ("recall", 1.0),
}


def _target(target: tuple[str, float] | None) -> str:
    if target is None:
        return ""
    kind, bound = target
    return f"≥ {bound:.2f}" if kind == "recall" else f"≤ {bound:.1%}"


def stopped_groups(findings: Sequence[Finding]) -> set[str]:
    return {f.group.value for f in findings if f.confidence >= Confidence.MEDIUM}


def class_rows(
    messages: Sequence[Message],
    ours: Sequence[Sequence[Finding]],
    presidio: Sequence[tuple[set[str], set[str]]] | None,
) -> list[tuple[str, int, str, list[str]]]:
    """(class, messages, measure, cells) per class, in the order classes first appear."""
    classes: dict[str, list[int]] = {}
    for i, message in enumerate(messages):
        classes.setdefault(message[1], []).append(i)
    rows = []
    for name, indexes in classes.items():
        positive = bool(messages[indexes[0]][2])

        def share(predict: Sequence[set[str]], idx: list[int] = indexes, pos: bool = positive) -> float:
            hits = sum(
                bool(messages[i][2] & predict[j]) if pos else bool(predict[j]) for j, i in enumerate(idx)
            )
            return hits / len(idx)

        stopped = [stopped_groups(ours[i]) for i in indexes]
        cells = [f"{share(stopped):.3f}" if positive else f"{share(stopped):.2%}"]
        if not positive:
            tagged = sum(bool(ours[i]) and not stopped[j] for j, i in enumerate(indexes)) / len(indexes)
            cells.append(f"{tagged:.2%}")
        else:
            cells.append("")
        if presidio is not None:
            for k in (0, 1):
                value = share([presidio[i][k] for i in indexes])
                cells.append(f"{value:.3f}" if positive else f"{value:.2%}")
        target = TARGETS.get(name)
        cells.append(_target(target))
        rows.append((name, len(indexes), "recall" if positive else "stopped", cells))
    return rows


def print_classes(
    title: str,
    messages: Sequence[Message],
    ours: Sequence[Sequence[Finding]],
    presidio: Sequence[tuple[set[str], set[str]]] | None,
    threshold: float,
) -> None:
    print(f"\n## {title}\n")
    head = ["class", "messages", "measure", "sendguard", "sendguard tagged"]
    if presidio is not None:
        head += ["presidio", f"presidio ≥ {threshold}"]
    head.append("target")
    print("| " + " | ".join(head) + " |")
    print("|---|---:|---|" + "---:|" * (len(head) - 3))
    for name, count, measure, cells in class_rows(messages, ours, presidio):
        print(f"| {name} | {count} | {measure} | " + " | ".join(cells) + " |")


def show_class(messages: Sequence[Message], ours: Sequence[Sequence[Finding]], name: str) -> None:
    """Print the misses (positive class) or the stopped messages (negative class) of one class."""
    for message, found in zip(messages, ours, strict=True):
        if message[1] != name:
            continue
        stopped = stopped_groups(found)
        wrong = (not (message[2] & stopped)) if message[2] else bool(stopped)
        if wrong:
            shown = ", ".join(f"{f.category}:{f.confidence.label}:{f.masked}" for f in found)
            print(f"--- {message[0]}: [{shown}]")
            for segment in message[3]:
                if segment.location != "body[2]":
                    print(f"  [{segment.location}] {segment.text[:700]}")
