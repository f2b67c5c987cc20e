"""Hostile input through the real proxy: memory, loop lag and clean-mail latency under attack.

    python -m benchmarks.hostile [--attacks empty-lines,three-10mb,text-10mb,dob-4mb,unicode]
                                 [--clean-rate 20] [--sink auto|smtp-sink|python]

For each scenario -- ``none`` first (the same run without an attack), then each attack of
issue 10 -- a fresh ``sendguard serve`` (scanning on, default settings, relaying to a local
sink) is started; while the attack is sent, clean mail arrives at ``--clean-rate`` messages per
second on four persistent connections. The table compares, per scenario: the attack's replies,
the proxy's peak RSS, the workers' peak RSS (the largest one, and after the attack: growth that
stays), the proxy's worst event-loop lag (its own ``stats`` lines), and the latency of the clean
mail (p50 / p99 / max).

Attacks: ``empty-lines`` one 26,000,000-byte message of empty lines (under the 25 MiB SIZE);
``three-10mb`` three concurrent 10 MB text messages; ``text-10mb`` one; ``dob-4mb`` a 4 MB
body of ``DOB `` repeated (the medical detector's worst case); ``unicode`` 800 KB of 196,608
distinct code points (the fold tables' worst case).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from benchmarks._loadgen import LeanSmtpClient, SmtpReplyError, prepare
from benchmarks.proxy import free_port, start_sink, stop_process, wait_port

_LAG = re.compile(r"\bstats\b.*lag_max_ms=([\d.]+)")
_HEAD = b"From: attacker@example.com\r\nTo: victim@example.org\r\nSubject: hostile\r\n\r\n"
CLEAN = prepare(
    b"From: shop@example.com\r\nTo: you@example.org\r\nSubject: Hi\r\n\r\nYour order has shipped.\r\n"
)


def _lines(line: bytes, total: int) -> bytes:
    """A message of `line` repeated up to `total` bytes, ready for DATA (no line starts with '.')."""
    return _HEAD + line * ((total - len(_HEAD)) // len(line)) + b".\r\n"


def _unicode() -> bytes:
    text = "".join(chr(cp) for cp in range(0x10000, 0x40000))
    body = "\r\n".join(text[i : i + 200] for i in range(0, len(text), 200)).encode("utf-8")
    return prepare(_HEAD[:-2] + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body)


ATTACKS: dict[str, Callable[[], list[bytes]]] = {
    "empty-lines": lambda: [_lines(b"\r\n", 26_000_000)],
    "three-10mb": lambda: [_lines(b"x" * 74 + b"\r\n", 10_000_000) for _ in range(3)],
    "text-10mb": lambda: [
        _lines(b"Lorem ipsum dolor sit amet 1234 consectetur adipiscing elit.\r\n", 10_000_000)
    ],
    "dob-4mb": lambda: [_HEAD + b"DOB " * 1_000_000 + b"\r\n.\r\n"],
    "unicode": lambda: [_unicode()],
}


@dataclass
class Result:
    scenario: str
    replies: list[str] = field(default_factory=list)
    proxy_rss: float = 0.0
    worker_rss: float = 0.0
    worker_after: float = 0.0
    lag_ms: float = 0.0
    latencies: list[float] = field(default_factory=list)
    clean_failed: int = 0


class RssMeter:
    """Peak RSS of the proxy process and of its largest worker, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.proxy = 0
        self.worker = 0

    def workers(self) -> int:
        rss = 0
        for child in self.proc.children(recursive=True):
            try:
                rss = max(rss, child.memory_info().rss)
            except psutil.Error:
                continue
        return rss

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.proxy = max(self.proxy, self.proc.memory_info().rss)
            self.worker = max(self.worker, self.workers())
            await asyncio.sleep(0.05)


async def _attack(port: int, payload: bytes) -> str:
    """One transaction on a plain stream; the final reply's code and enhanced code (e.g. 451 4.3.2)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def reply() -> bytes:
        while True:
            line = await reader.readuntil(b"\r\n")
            if line[3:4] != b"-":
                return line

    try:
        await reply()
        for command in (
            b"EHLO attacker\r\n",
            b"MAIL FROM:<a@example.com>\r\n",
            b"RCPT TO:<v@example.org>\r\n",
        ):
            writer.write(command)
            await reply()
        writer.write(b"DATA\r\n")
        if not (await reply()).startswith(b"354"):
            return "DATA refused"
        writer.write(payload)
        final = await reply()
        writer.write(b"QUIT\r\n")
        return " ".join(final.decode("ascii", "replace").split()[:2])
    except (OSError, asyncio.IncompleteReadError) as exc:
        return type(exc).__name__
    finally:
        writer.close()


async def _clean(port: int, rate: float, stop: asyncio.Event, out: Result) -> None:
    clients = [await LeanSmtpClient.connect(port) for _ in range(4)]
    interval = 4 / rate

    async def one(client: LeanSmtpClient) -> None:
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                await client.sendmail(b"shop@example.com", b"you@example.org", CLEAN)
                out.latencies.append((time.perf_counter() - t0) * 1000)
            except SmtpReplyError:
                out.clean_failed += 1
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - t0)))

    await asyncio.gather(*(one(c) for c in clients))
    for c in clients:
        with contextlib.suppress(Exception):
            await c.quit()


async def _scenario(port: int, pid: int, name: str, payloads: list[bytes], rate: float) -> Result:
    result = Result(name)
    meter = RssMeter(pid)
    stop_meter, stop_clean = asyncio.Event(), asyncio.Event()
    metering = asyncio.create_task(meter.run(stop_meter))
    cleaning = asyncio.create_task(_clean(port, rate, stop_clean, result))
    await asyncio.sleep(2.0)  # clean mail alone first
    result.replies = list(await asyncio.gather(*(_attack(port, p) for p in payloads)))
    await asyncio.sleep(2.0 if payloads else 8.0)
    stop_clean.set()
    await cleaning
    stop_meter.set()
    await metering
    result.proxy_rss, result.worker_rss = meter.proxy / 2**20, meter.worker / 2**20
    result.worker_after = meter.workers() / 2**20
    return result


def run_scenario(name: str, payloads: list[bytes], sink_port: int, rate: float) -> Result:
    tmp = Path(tempfile.mkdtemp(prefix="sendguard-hostile-"))
    port = free_port()
    env = dict(os.environ)
    env.update(
        SENDGUARD_LISTEN__PORT=str(port),
        SENDGUARD_RELAY__HOST="127.0.0.1",
        SENDGUARD_RELAY__PORT=str(sink_port),
        SENDGUARD_REVIEW__ENABLED="false",
        SENDGUARD_QUARANTINE__URL=f"sqlite+aiosqlite:///{tmp}/quarantine.db",
        SENDGUARD_QUARANTINE__KEY_FILE=str(tmp / "quarantine.key"),
        SENDGUARD_LOG_LEVEL="INFO",
    )
    log_path = tmp / "proxy.log"
    with open(log_path, "wb") as log_file:
        cmd = [sys.executable, "-m", "scanner.cli", "serve"]
        proc = subprocess.Popen(cmd, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            wait_port(port, proc, 300)
            time.sleep(1.0)  # let the workers finish loading
            result = asyncio.run(_scenario(port, proc.pid, name, payloads, rate))
        finally:
            stop_process(proc)
    lags = [
        float(m.group(1)) for m in map(_LAG.search, log_path.read_text(errors="replace").splitlines()) if m
    ]
    result.lag_ms = max(lags, default=float("nan"))
    shutil.rmtree(tmp, ignore_errors=True)
    return result


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def report(results: Sequence[Result]) -> None:
    print("\n| scenario | attack replies (code, enhanced) | proxy RSS peak | worker RSS peak / after | loop lag max |"
          " clean mail p50 / p99 / max (n, failed) |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|")
    for r in results:
        lat = r.latencies
        p50 = statistics.median(lat) if lat else float("nan")
        print(
            f"| {r.scenario} | {', '.join(r.replies) or '-'} | {r.proxy_rss:.0f} MiB |"
            f" {r.worker_rss:.0f} / {r.worker_after:.0f} MiB | {r.lag_ms:.1f} ms |"
            f" {p50:.1f} / {_pct(lat, 0.99):.1f} / {max(lat, default=float('nan')):.1f} ms"
            f" ({len(lat)}, {r.clean_failed}) |"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--attacks", default=",".join(ATTACKS))
    parser.add_argument("--clean-rate", type=float, default=20.0, help="clean messages per second")
    parser.add_argument("--sink", default="auto", choices=("auto", "smtp-sink", "python"))
    args = parser.parse_args(argv)
    names = [a for a in args.attacks.split(",") if a]
    unknown = set(names) - set(ATTACKS)
    if unknown:
        parser.error(f"unknown attacks: {', '.join(sorted(unknown))}")
    sink_port = free_port()
    sink = start_sink(args.sink, sink_port, os.getcwd())
    try:
        wait_port(sink_port, sink, 30)
        results = [run_scenario("none", [], sink_port, args.clean_rate)]
        print(f"[none] done: lag {results[-1].lag_ms:.1f} ms", flush=True)
        for name in names:
            results.append(run_scenario(name, ATTACKS[name](), sink_port, args.clean_rate))
            print(
                f"[{name}] done: replies {results[-1].replies}, lag {results[-1].lag_ms:.1f} ms", flush=True
            )
    finally:
        stop_process(sink)
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
