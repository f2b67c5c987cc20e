"""Extraction throughput on the shared corpus, ours vs a plain stdlib walk, in the same run.

    python benchmarks/extraction.py [CORPUS_DIR] [--repeat N]

Reads every message file under the corpus into memory first (I/O is not timed), then times
`scanner.extract.extract` and a naive baseline (``policy.default``, ``msg.walk()``,
``get_content()`` on text/* parts — no HTML rendering, no fallbacks) over all of them, best of
N runs. Prints files/s and MB/s for both, how many messages each could not read, and the
defect notes our extraction raised, by name and by folder.
"""

from __future__ import annotations

import argparse
import collections
import email.policy
import sys
import time
from collections.abc import Callable
from email.parser import BytesParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanner.extract import extract
from tests.corpus import corpus_dir


def _baseline(data: bytes) -> int:
    """A naive stdlib extraction; returns the number of characters it read."""
    msg = BytesParser(policy=email.policy.default).parsebytes(data)
    n = len(str(msg.get("subject", "")))
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            n += len(part.get_content())
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", type=Path, default=corpus_dir())
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    skip = {"SOURCES.md", "labels.jsonl"}
    files = sorted(p for p in args.corpus.rglob("*") if p.is_file() and p.name not in skip)
    blobs = [p.read_bytes() for p in files]
    megabytes = sum(map(len, blobs)) / 1e6
    print(f"corpus: {args.corpus}  files: {len(blobs)}  size: {megabytes:.1f} MB  best of {args.repeat}")

    def timed(fn: Callable[[bytes], object]) -> tuple[float, int]:
        best, failures = float("inf"), 0
        for _ in range(args.repeat):
            failures = 0
            start = time.perf_counter()
            for data in blobs:
                try:
                    fn(data)
                except Exception:
                    failures += 1
            best = min(best, time.perf_counter() - start)
        return best, failures

    contenders: list[tuple[str, Callable[[bytes], object]]] = [
        ("sendguard extract()", extract),
        ("stdlib walk (baseline)", _baseline),
    ]
    for name, fn in contenders:
        seconds, failures = timed(fn)
        print(
            f"{name:24} {seconds:6.2f} s  {len(blobs) / seconds:7.0f} files/s  "
            f"{megabytes / seconds:6.1f} MB/s  raised on {failures} files"
        )

    by_name: collections.Counter[str] = collections.Counter()
    by_folder: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    truncated = 0
    for path, data in zip(files, blobs, strict=True):
        result = extract(data)
        truncated += result.truncated
        folder = str(path.parent.relative_to(args.corpus))
        for defect in result.defects:
            short = defect.split(" ", 1)[0]
            by_name[short] += 1
            by_folder[folder][short] += 1
    print(f"truncated: {truncated}")
    print("defect notes:", ", ".join(f"{k} {v}" for k, v in by_name.most_common()) or "none")
    for folder, counts in sorted(by_folder.items()):
        print(f"  {folder}: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))


if __name__ == "__main__":
    main()
