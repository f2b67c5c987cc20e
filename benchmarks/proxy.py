"""End to end: many concurrent SMTP clients -> sendguard -> a fast sink, scanning on vs off.

    python -m benchmarks.proxy [--corpus PATH] [--limit N] [--levels 1,2,4,...] [--step-seconds S]
                               [--half-seconds S] [--rounds N] [--modes both|on|off]
                               [--sink auto|smtp-sink|python] [--proxy-cmd "CMD with {port}"]
                               [--baseline DIR]

Everything on loopback, bounded in time and count. One sink runs for the whole benchmark, in its
own process: Postfix's ``smtp-sink``, written in C, when it is on PATH or in
``.bench-tools/postfix`` (``make bench-tools`` unpacks it from Debian's package), else an
aiosmtpd sink, which takes 27-46 % of a core from the proxy on a 2-core machine; ``--sink``
chooses. The clients are `benchmarks._loadgen.LeanSmtpClient` (messages prepared once).

Throughput on a shared machine drifts by up to 20 % over minutes, so the modes are interleaved:
``--rounds`` rounds (default 3) of scanning off then on, same messages; each round's ratio
compares two ramps run back to back, and the median of the ratios leaves out a disturbed round.
Each mode in each round:

1. sendguard starts as a subprocess (``python -m scanner.cli serve``) relaying to the sink with
   ``SENDGUARD_SCAN__ENABLED`` set accordingly, review console off, quarantine in a temporary
   directory (a new process and directory every round; the directory, with the proxy's log, is
   kept only when the proxy failed);
2. **ramp**: closed loop, `c` clients each reusing one SMTP connection, for `c` in `--levels`,
   `--step-seconds` each; saturation = the best messages/s seen (every level runs: on a
   shared machine throughput is too noisy to stop at the first plateau);
3. in the last round only, **half saturation**: open loop, Poisson arrivals at half the mode's
   median saturation over all rounds for `--half-seconds`; latency counts from the scheduled
   send time (no coordinated omission).

With ``--baseline DIR`` (a checkout of another commit, e.g. ``git worktree add ../base REF``;
it runs with this venv, so its dependencies must be installed) each round also runs the same
modes with the proxy started in DIR ("baseline off", "baseline on"), interleaved with ours:
the headline then also compares our scanning-on saturation with the baseline's, round by round.

Each round prints its own on / off ratio of saturations. At the end: each mode's saturation per
round; the table, with each mode's median saturation (clients and p99 at saturation from the
round whose saturation is the median, the lower middle one for an even count); and the headline,
the median of the per-round ratios. With ``--modes on`` or ``off`` there is no ratio.

Where the CPU goes: during each ramp level psutil reads the CPU time (user + system) of the
proxy's main process, of its worker processes (its descendants, multiprocessing's resource
tracker left out), of the sink and of this load generator, and the machine's busy time beyond
them ("rest": other processes, such as another benchmark, and the kernel's own work). Each level
prints them as shares of one core; at the end, for each mode at the saturation level of its
median round, as CPU ms per message and in total, beside the capacity (cores x elapsed / messages).
The proxy's main process near 100 % of a core means its event loop is the limit; all of them
together near the machine's cores, the CPU is. A round whose "rest" is high at saturation (it is
printed with each round's ratio and saturations) shared the machine with something else.

Latency is one SMTP transaction (MAIL, RCPT, DATA up to the final reply). Event-loop lag is read
from sendguard's own ``stats ... lag_max_ms= lag_p99_ms=`` log lines (every 10 s: the windows
that fall inside the half-saturation phase are reported separately); with ``--proxy-cmd`` and a
proxy that does not log them, only the load generator's own loop lag is known (also printed).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import psutil

from benchmarks._cpu import ROLES, CpuMeter
from benchmarks._loadgen import LagProbe, Phase, closed_loop, open_loop, prepare
from tests.corpus import corpus_dir, load_sample

T = TypeVar("T")
_STATS = re.compile(r"^(\S+ \S+) .*\bstats\b.*lag_max_ms=([\d.]+) lag_p99_ms=([\d.]+)")


# --- the sink ----------------------------------------------------------------------------------

SMTP_SINK_DIR = Path(__file__).resolve().parents[1] / ".bench-tools" / "postfix"  # make bench-tools


def find_smtp_sink() -> tuple[Path, dict[str, str]] | None:
    """Postfix's smtp-sink on PATH, else the one `make bench-tools` unpacked: (binary, extra env)."""
    on_path = shutil.which("smtp-sink")
    if on_path:
        return Path(on_path), {}
    unpacked = SMTP_SINK_DIR / "usr" / "sbin" / "smtp-sink"
    if os.access(unpacked, os.X_OK):
        return unpacked, {"LD_LIBRARY_PATH": str(SMTP_SINK_DIR / "usr" / "lib" / "postfix")}
    return None


def start_sink(choice: str, port: int, cwd: str) -> subprocess.Popen[bytes]:
    """The sink process on 127.0.0.1:`port`: smtp-sink (C, ~free) or aiosmtpd (Python)."""
    found = find_smtp_sink() if choice in ("auto", "smtp-sink") else None
    if choice == "smtp-sink" and found is None:
        raise SystemExit("smtp-sink not found on PATH or in .bench-tools/postfix: run make bench-tools")
    if found is None:
        print(f"sink: aiosmtpd (Python, own process) on 127.0.0.1:{port}", flush=True)
        cmd = [sys.executable, "-m", "benchmarks.proxy", "--serve-sink", str(port)]
        return subprocess.Popen(cmd, cwd=cwd)
    binary, env = found
    # ESMTP without PIPELINING, AUTH, XCLIENT, XFORWARD (as aiosmtpd: the proxy's relay sends one
    # command at a time); every message is accepted (250 after DATA) and thrown away (no -d/-D:
    # nothing on disk); up to 1024 connections at once and a listen backlog of 1024. It may not
    # run as root: -u drops to nobody once the socket is open.
    cmd = [str(binary), "-4", "-p", "-a", "-C", "-F", "-h", "sink.localhost", "-m", "1024"]
    if os.geteuid() == 0:
        cmd += ["-u", "nobody"]
    cmd += [f"127.0.0.1:{port}", "1024"]
    print(f"sink: smtp-sink (C) {binary} on 127.0.0.1:{port}", flush=True)
    return subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **env})


class _Sink:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"


async def _serve_sink(port: int) -> None:
    from aiosmtpd.smtp import SMTP

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(_Sink(), hostname="sink.localhost", ident="sink"), "127.0.0.1", port
    )
    print("sink ready", flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()


# --- processes ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listening on {port} after {within:.0f} s")


def stop_process(proc: subprocess.Popen[bytes], grace: float = 40.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class ProxyRun:
    """One mode in one round: one proxy process, its ramp and (last round only) the half phase."""

    mode: str
    round: int
    ramp: list[Phase]
    half: Phase | None
    lag_lines: list[tuple[float, float, float]]  # (wall time, max ms, p99 ms)
    generator_lag_ms: float

    @property
    def saturation(self) -> Phase:
        return max(self.ramp, key=lambda p: p.rate)


@dataclass
class ModeRuns:
    """Every round of one mode."""

    mode: str
    runs: list[ProxyRun] = field(default_factory=list)

    @property
    def rates(self) -> list[float]:
        return [r.saturation.rate for r in self.runs]

    @property
    def median_rate(self) -> float:
        return statistics.median(self.rates)

    @property
    def median_run(self) -> ProxyRun:
        """The round whose saturation is the median (the lower middle one for an even count)."""
        low = statistics.median_low(self.rates)
        return next(r for r in self.runs if r.saturation.rate == low)

    @property
    def half(self) -> Phase | None:
        return self.runs[-1].half if self.runs else None

    def proxy_lag(self, inside: Phase | None = None) -> tuple[float, float] | None:
        """(max, worst p99) in ms over the stats windows (all rounds, or those inside `inside`)."""
        lines = [ln for r in self.runs for ln in r.lag_lines]
        if inside is not None:
            lines = [ln for ln in lines if ln[0] - 10.5 >= inside.started and ln[0] <= inside.ended + 0.5]
        if not lines:
            return None
        return max(ln[1] for ln in lines), max(ln[2] for ln in lines)


async def load(
    args: argparse.Namespace,
    tag: str,
    port: int,
    messages: list[bytes],
    half_of: list[float] | None,
    meter: CpuMeter,
) -> tuple[list[Phase], Phase | None, float]:
    """Ramp to saturation against the proxy listening on `port`; then, when `half_of` (the
    saturations of this mode's earlier rounds) is given, the open loop at half the median
    saturation of those and this round. Returns (ramp, half phase, generator loop lag max ms)."""
    half: Phase | None = None
    with LagProbe() as probe:
        await closed_loop(port, messages, 2, 1.0, 50)  # warm-up
        ramp: list[Phase] = []
        for c in args.levels:
            start = meter.sample()
            phase = await closed_loop(port, messages, c, args.step_seconds, args.cap)
            phase.cpu_split = meter.since(start)
            ramp.append(phase)
            shares = " ".join(f"{role} {phase.cpu_share(role):.0%}" for role in (*ROLES, "rest"))
            print(
                f"[{tag}] c={c:<4} {phase.rate:7.1f} msg/s  p50 {phase.pct(0.5):6.1f} ms  "
                f"p99 {phase.pct(0.99):7.1f} ms  replies {dict(phase.codes)}  CPU of one core: {shares}",
                flush=True,
            )
        if half_of is not None:
            rate = statistics.median([*half_of, max(p.rate for p in ramp)]) / 2
            half = await open_loop(port, messages, rate, args.half_seconds, args.levels[-1])
            print(
                f"[{tag}] half saturation {rate:.1f}/s offered: {half.rate:.1f} msg/s  "
                f"p50 {half.pct(0.5):.1f} p95 {half.pct(0.95):.1f} p99 {half.pct(0.99):.1f} ms  "
                f"generator CPU {half.cpu:.0%}  replies {dict(half.codes)}",
                flush=True,
            )
    return ramp, half, probe.worst * 1000


def run_proxy(
    args: argparse.Namespace,
    mode: str,
    round_: int,
    sink: tuple[int, int],  # (port, pid)
    messages: list[bytes],
    half_of: list[float] | None,
) -> ProxyRun:
    """Start the proxy in this mode, load it, stop it, read its loop-lag lines."""
    tag = f"{mode}, round {round_}/{args.rounds}"
    tmp = Path(tempfile.mkdtemp(prefix="sendguard-bench-"))
    port = free_port()
    sink_port, sink_pid = sink
    env = dict(os.environ)
    env.update(
        SENDGUARD_LISTEN__PORT=str(port),
        SENDGUARD_RELAY__HOST="127.0.0.1",
        SENDGUARD_RELAY__PORT=str(sink_port),
        SENDGUARD_SCAN__ENABLED="true" if mode.endswith(" on") else "false",
        SENDGUARD_REVIEW__ENABLED="false",
        SENDGUARD_QUARANTINE__URL=f"sqlite+aiosqlite:///{tmp}/quarantine.db",
        SENDGUARD_QUARANTINE__KEY_FILE=str(tmp / "quarantine.key"),
        SENDGUARD_RELAY__OUTBOX_DIR=str(tmp / "outbox"),
        SENDGUARD_LOG_LEVEL="INFO",
    )
    if args.workers:
        env["SENDGUARD_SCAN__WORKERS"] = str(args.workers)
    if args.max_batch:
        env["SENDGUARD_SCAN__MAX_BATCH"] = str(args.max_batch)
    if args.max_wait_ms is not None:
        env["SENDGUARD_SCAN__MAX_WAIT_MS"] = str(args.max_wait_ms)
    cmd = shlex.split(args.proxy_cmd.format(python=sys.executable, port=port, sink_port=sink_port))
    log_path = tmp / "proxy.log"
    with open(log_path, "wb") as log_file:
        cwd = args.baseline if mode.startswith("baseline") else args.cwd
        proc = subprocess.Popen(cmd, env=env, stdout=log_file, stderr=subprocess.STDOUT, cwd=cwd)
        try:
            t0 = time.perf_counter()
            wait_port(port, proc, args.start_timeout)
            print(f"[{tag}] proxy up in {time.perf_counter() - t0:.1f} s on port {port}", flush=True)
            meter = CpuMeter(proc.pid, sink_pid)
            ramp, half, generator_lag_ms = _run_loop(load(args, tag, port, messages, half_of, meter))
        finally:
            stop_process(proc)
    result = ProxyRun(mode, round_, ramp, half, [], generator_lag_ms)
    for line in log_path.read_text(errors="replace").splitlines():
        m = _STATS.match(line)
        if m:
            at = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            result.lag_lines.append((at, float(m.group(2)), float(m.group(3))))
    if proc.returncode not in (0, -signal.SIGTERM):
        print(f"[{tag}] proxy exited with {proc.returncode}; log: {log_path}", file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def _fmt_lag(lag: tuple[float, float] | None) -> str:
    return f"{lag[0]:.1f} / {lag[1]:.1f}" if lag else "n/a"


def _ratio(off: float, on: float) -> float:
    return on / off if off else math.nan


def print_cpu_split(results: Sequence[ModeRuns]) -> None:
    cores = psutil.cpu_count() or 1
    print(
        "\nCPU per message at saturation (the median round's saturation level): ms of CPU "
        "(user + system) per message, and % of one core"
    )
    print(
        f"| mode | proxy main | workers | sink | generator | total | rest of machine | capacity ({cores} cores) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for m in results:
        sat = m.median_run.saturation
        ours = sum(sat.cpu_split.get(role, 0.0) for role in ROLES)
        n = len(sat.latencies)

        def cell(ms: float, share: float) -> str:
            return f"{ms:.2f} ms ({share:.0%})"

        cells = [cell(sat.cpu_ms_per_message(role), sat.cpu_share(role)) for role in ROLES]
        cells.append(
            cell(ours * 1000 / n if n else math.nan, ours / sat.seconds if sat.seconds else math.nan)
        )
        cells.append(cell(sat.cpu_ms_per_message("rest"), sat.cpu_share("rest")))
        cells.append(cell(cores * sat.seconds * 1000 / n if n else math.nan, float(cores)))
        print(f"| {m.mode} | {' | '.join(cells)} |")
    print(
        "(proxy main near 100 %: its event loop is the limit; total + rest near the machine's "
        f"{cores} cores: the CPU is)"
    )


def report(results: Sequence[ModeRuns]) -> None:
    print("\nsaturation per round, msg/s [rest of machine busy meanwhile, % of one core]:")
    for m in results:
        rates = "  ".join(f"{r.saturation.rate:7.1f} [{r.saturation.cpu_share('rest'):4.0%}]" for r in m.runs)
        print(f"  {m.mode:<13} {rates}   (median {m.median_rate:.1f})")
    print()
    print(
        "| mode | saturation msg/s, median (clients) | p99 at saturation | half-saturation load | "
        "p50 / p95 / p99 at half | proxy loop lag max / p99, half phase | whole run | generator lag max |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for m in results:
        sat = m.median_run.saturation
        half = m.half
        half_cells = (
            f"{half.rate:.1f} msg/s | {half.pct(0.5):.1f} / {half.pct(0.95):.1f} / {half.pct(0.99):.1f} ms"
            if half
            else "n/a | n/a"
        )
        print(
            f"| {m.mode} | {m.median_rate:.1f} ({sat.name.split('=')[1]}) | {sat.pct(0.99):.1f} ms | "
            f"{half_cells} | {_fmt_lag(m.proxy_lag(half) if half else None)} ms | "
            f"{_fmt_lag(m.proxy_lag())} ms | {max(r.generator_lag_ms for r in m.runs):.1f} ms |"
        )
    print_cpu_split(results)
    print()
    for label, ratios in headline(results):
        print(
            f"{label} at saturation: median {statistics.median(ratios):.0%} over "
            f"{len(ratios)} round{'s' if len(ratios) > 1 else ''} "
            f"(per round: {', '.join(f'{r:.0%}' for r in ratios)})"
        )


_PAIRS = (
    ("scanning on / off", "scanning off", "scanning on"),
    ("baseline: scanning on / off", "baseline off", "baseline on"),
    ("scanning on, ours / baseline's", "baseline on", "scanning on"),
)


def headline(results: Sequence[ModeRuns]) -> list[tuple[str, list[float]]]:
    """The per-round ratios of each pair of modes that ran: (label, ratios)."""
    by_mode = {m.mode: m for m in results}
    out = []
    for label, below, above in _PAIRS:
        if below in by_mode and above in by_mode:
            rates = zip(by_mode[below].rates, by_mode[above].rates, strict=True)
            out.append((label, [_ratio(a, b) for a, b in rates]))
    return out


def run(args: argparse.Namespace) -> int:
    corpus = corpus_dir(args.corpus)
    if not (corpus / "labels.jsonl").is_file():
        print(f"corpus not found at {corpus} (give --corpus or SENDGUARD_CORPUS)", file=sys.stderr)
        return 2
    # a line over 998 octets is refused by any RFC 5322 §2.1.1 abiding server (aiosmtpd: 500)
    kinds = tuple(args.kinds.split(","))
    samples = [s for s in load_sample(corpus, args.limit, kinds) if max(map(len, s.raw.splitlines())) <= 998]
    print(
        f"{len(samples)} corpus messages ({sum(s.kind == 'ham' for s in samples)} ham, "
        f"{sum(s.kind == 'pii' for s in samples)} pii; lines ≤ 998 octets), "
        f"{sum(len(s.raw) for s in samples) / len(samples):.0f} bytes average"
    )
    messages = [prepare(s.raw) for s in samples]  # DATA payloads, prepared once
    if args.pdf_share:
        from benchmarks.attachments import statement_mail

        step = max(1, round(1 / args.pdf_share))  # every step-th message carries a ~100 KB PDF
        pdfs = [prepare(statement_mail(seed)) for seed in range(5)]
        messages = [pdfs[i // step % 5] if i % step == step - 1 else m for i, m in enumerate(messages)]
        print(f"1 message in {step} carries a PDF of ~100 KB ({len(pdfs[0]) / 1e3:.0f} kB as mailed)")
    modes = {"off": ["scanning off"], "on": ["scanning on"], "both": ["scanning off", "scanning on"]}
    chosen = modes[args.modes]
    if args.baseline:
        chosen = [m.replace("scanning", "baseline") for m in chosen] + chosen
    results = [ModeRuns(mode) for mode in chosen]
    sink_port = free_port()
    sink = start_sink(args.sink, sink_port, args.cwd)
    try:
        wait_port(sink_port, sink, 30)
        for round_ in range(1, args.rounds + 1):
            last = round_ == args.rounds
            for m in results:
                half_of = m.rates if last else None
                m.runs.append(run_proxy(args, m.mode, round_, (sink_port, sink.pid), messages, half_of))
            by_mode = {m.mode: m.runs[-1].saturation for m in results}
            for label, below, above in _PAIRS:
                if below in by_mode and above in by_mode:
                    low, high = by_mode[below], by_mode[above]
                    print(
                        f"[round {round_}/{args.rounds}] {label} at saturation: "
                        f"{_ratio(low.rate, high.rate):.0%} ({high.rate:.1f} vs {low.rate:.1f} msg/s; rest "
                        f"of machine busy {high.cpu_share('rest'):.0%} vs {low.cpu_share('rest'):.0%} of a core)",
                        flush=True,
                    )
    finally:
        stop_process(sink, 5)
    report(results)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", help="corpus folder (default ../shared/corpus or $SENDGUARD_CORPUS)")
    p.add_argument("--limit", type=int, default=300, help="distinct corpus messages sent in rotation")
    p.add_argument("--levels", default="1,2,4,8,16,32,64", help="concurrent clients of the ramp")
    p.add_argument("--step-seconds", type=float, default=4.0)
    p.add_argument("--half-seconds", type=float, default=22.0, help="≥ 21 s: one 10 s stats window fits")
    p.add_argument("--cap", type=int, default=20_000, help="messages per phase at most")
    p.add_argument("--modes", choices=["both", "on", "off"], default="both")
    p.add_argument("--rounds", type=int, default=3, help="ramps per mode, interleaved off, on, off, on, ...")
    p.add_argument("--workers", type=int, default=0, help="SENDGUARD_SCAN__WORKERS (0: sendguard's default)")
    p.add_argument(
        "--max-batch", type=int, default=0, help="SENDGUARD_SCAN__MAX_BATCH (0: sendguard's default)"
    )
    p.add_argument("--max-wait-ms", type=float, help="SENDGUARD_SCAN__MAX_WAIT_MS (default: sendguard's)")
    p.add_argument(
        "--kinds",
        default="ham,pii",
        help="corpus kinds sent (ham only: every message passes and is relayed in both modes)",
    )
    p.add_argument(
        "--pdf-share", type=float, default=0.0, help="share of messages carrying a ~100 KB PDF (e.g. 0.1)"
    )
    p.add_argument("--start-timeout", type=float, default=180.0)
    p.add_argument(
        "--proxy-cmd",
        default="{python} -m scanner.cli serve",
        help="command starting the proxy; {python}, {port} and {sink_port} are substituted, "
        "SENDGUARD_* env is set (default: %(default)s)",
    )
    p.add_argument(
        "--baseline",
        metavar="DIR",
        help="a checkout of another commit: its proxy runs the same modes, interleaved with ours",
    )
    p.add_argument("--cwd", default=str(Path(__file__).resolve().parents[1]), help=argparse.SUPPRESS)
    p.add_argument(
        "--sink",
        choices=["auto", "smtp-sink", "python"],
        default="auto",
        help="smtp-sink: Postfix's (C), on PATH or from make bench-tools; python: aiosmtpd; "
        "auto: smtp-sink when found (default)",
    )
    p.add_argument("--serve-sink", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve_sink:
        _run_loop(_serve_sink(args.serve_sink))
        return 0
    args.levels = [int(x) for x in args.levels.split(",")]
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    return run(args)


def _run_loop(coro: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


if __name__ == "__main__":
    sys.exit(main())
