"""Corpus access for the tests and the benchmarks: where ../shared/corpus is, and a reproducible
sample of it, extracted once (by `scanner.extract`, as the proxy does).

The corpus lives next to the repository (``../shared/corpus``) or wherever SENDGUARD_CORPUS
points; it is never copied into the repository.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

from scanner.extract import extract
from scanner.model import Extraction


@dataclass(frozen=True, slots=True)
class Sample:
    file: str
    kind: str
    expect: tuple[str, ...]
    raw: bytes
    extraction: Extraction

    @property
    def text(self) -> str:
        """What stock Presidio is given: every segment, one after the other."""
        return "\n".join(s.text for s in self.extraction.segments)


def corpus_dir(given: str | None = None) -> Path:
    if given:
        return Path(given)
    if os.environ.get("SENDGUARD_CORPUS"):
        return Path(os.environ["SENDGUARD_CORPUS"])
    return Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"


def require_corpus(path: Path | None = None) -> Path:
    """`path` (default: the corpus's labels.jsonl) when it exists; else skip the calling test,
    or fail it when SENDGUARD_REQUIRE_CORPUS=1 (CI must not pass with the corpus tests skipped)."""
    import pytest

    target = path if path is not None else corpus_dir() / "labels.jsonl"
    if not target.exists():
        problem = f"corpus not found at {target}"
        if os.environ.get("SENDGUARD_REQUIRE_CORPUS") == "1":
            pytest.fail(f"{problem} (SENDGUARD_REQUIRE_CORPUS=1)")
        pytest.skip(problem)
    return target


def load_sample(
    corpus: Path, limit: int, kinds: tuple[str, ...] = ("ham", "pii"), seed: int = 4
) -> list[Sample]:
    """Up to `limit` messages: every pii message that expects something (for recall) first, up to
    half of `limit`; the rest a seeded random draw from the other messages of `kinds`."""
    rows = [json.loads(line) for line in (corpus / "labels.jsonl").read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r["kind"] in kinds]
    positives = [r for r in rows if r["expect"]][: max(1, limit // 2)]
    others = [r for r in rows if not r["expect"]]
    random.Random(seed).shuffle(others)
    chosen = positives + others[: max(0, limit - len(positives))]
    random.Random(seed + 1).shuffle(chosen)
    out = []
    for r in chosen:
        raw = (corpus / r["file"]).read_bytes()
        out.append(Sample(r["file"], r["kind"], tuple(r["expect"] or ()), raw, extract(raw)))
    return out
