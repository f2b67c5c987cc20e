"""The load generator of `benchmarks.proxy`: a lean SMTP client and the closed / open loops.

The load generator shares the machine with the proxy it measures; aiosmtplib spends about
0.4 ms of CPU per message (line-ending normalisation, dot-stuffing, reply parsing, timeouts),
a fifth of what the proxy itself needs. Here messages are prepared once (CRLF line endings,
dot-stuffed, terminated) and a transaction is four writes and four reply reads, one at a time
per connection, no TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import random
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

_LINE_END = re.compile(rb"\r\n|\r|\n")


class SmtpReplyError(Exception):
    """The server refused a command (4xx or 5xx)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def prepare(raw: bytes) -> bytes:
    """The DATA payload of a message: CRLF line endings, leading dots doubled, ``.`` line."""
    lines = _LINE_END.split(raw)
    if lines and lines[-1] == b"":
        lines.pop()
    body = b"\r\n".join(b"." + line if line.startswith(b".") else line for line in lines)
    return body + b"\r\n.\r\n"


class LeanSmtpClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def connect(cls, port: int, host: str = "127.0.0.1") -> LeanSmtpClient:
        reader, writer = await asyncio.open_connection(host, port)
        client = cls(reader, writer)
        await client._expect(220)
        await client._command(b"EHLO loadgen.localhost\r\n", 250)
        return client

    async def sendmail(self, sender: bytes, recipient: bytes, payload: bytes) -> None:
        """One transaction; `payload` from `prepare`. Raises SmtpReplyError on a refusal."""
        try:
            await self._command(b"MAIL FROM:<" + sender + b">\r\n", 250)
            await self._command(b"RCPT TO:<" + recipient + b">\r\n", 250)
            await self._command(b"DATA\r\n", 354)
        except SmtpReplyError:
            await self._command(b"RSET\r\n", 250)
            raise
        await self._command(payload, 250)

    async def quit(self) -> None:
        try:
            await self._command(b"QUIT\r\n", 221)
        finally:
            self._writer.close()

    async def _command(self, line: bytes, expected: int) -> None:
        self._writer.write(line)
        await self._expect(expected)

    async def _expect(self, expected: int) -> None:
        while True:
            reply = await self._reader.readuntil(b"\r\n")
            if reply[3:4] != b"-":  # the last line of a (multi-line) reply
                break
        code = int(reply[:3])
        if code != expected:
            raise SmtpReplyError(code)


SENDER = b"bench@sendguard.example"
RECIPIENT = b"someone@example.org"


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    codes: Counter[str] = field(default_factory=Counter)
    started: float = 0.0  # wall clock, to match the proxy's log lines
    ended: float = 0.0
    cpu: float = 0.0  # the generator's own CPU time / elapsed: near 1.0, it is the bottleneck
    cpu_split: dict[str, float] = field(default_factory=dict)  # CPU seconds by role (CpuMeter)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def cpu_ms_per_message(self, role: str) -> float:
        n = len(self.latencies)
        return self.cpu_split.get(role, math.nan) * 1000 / n if n else math.nan

    def cpu_share(self, role: str) -> float:
        """CPU time of `role` / elapsed: 1.0 is one core busy all the phase."""
        return self.cpu_split.get(role, math.nan) / self.seconds if self.seconds else math.nan

    def pct(self, q: float) -> float:
        if not self.latencies:
            return math.nan
        s = sorted(self.latencies)
        return s[min(len(s) - 1, int(len(s) * q))] * 1000


async def _send(client: LeanSmtpClient, payload: bytes, phase: Phase, t0: float) -> bool:
    """One transaction; records latency and reply class. False when the connection is gone."""
    try:
        await client.sendmail(SENDER, RECIPIENT, payload)
        phase.codes["250"] += 1
    except SmtpReplyError as exc:
        phase.codes[str(exc.code)] += 1
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
        phase.codes[type(exc).__name__] += 1
        return False
    phase.latencies.append(time.perf_counter() - t0)
    return True


async def closed_loop(port: int, messages: Sequence[bytes], clients: int, seconds: float, cap: int) -> Phase:
    """`clients` connections, each sending back to back until `seconds` or `cap` messages."""
    phase = Phase(f"closed c={clients}")
    feed = itertools.cycle(messages)
    sent = 0
    deadline = time.perf_counter() + seconds

    async def client_loop() -> None:
        nonlocal sent
        client = await LeanSmtpClient.connect(port)
        while time.perf_counter() < deadline and sent < cap:
            sent += 1
            if not await _send(client, next(feed), phase, time.perf_counter()):
                client = await LeanSmtpClient.connect(port)
        with contextlib.suppress(Exception):
            await client.quit()

    phase.started, start, cpu = time.time(), time.perf_counter(), time.process_time()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    phase.seconds, phase.ended = time.perf_counter() - start, time.time()
    phase.cpu = (time.process_time() - cpu) / phase.seconds
    return phase


async def open_loop(
    port: int, messages: Sequence[bytes], rate: float, seconds: float, max_conns: int
) -> Phase:
    """Poisson arrivals at `rate`/s; a connection is taken from an idle pool or opened (up to
    `max_conns`); latency counts from the arrival time, so client-side waiting is included."""
    phase = Phase(f"open {rate:.0f}/s")
    idle: asyncio.Queue[LeanSmtpClient] = asyncio.Queue()
    opened = 0
    rnd = random.Random(7)
    feed = itertools.cycle(messages)
    tasks: set[asyncio.Task[None]] = set()

    async def one(raw: bytes, t0: float) -> None:
        nonlocal opened
        if idle.empty() and opened < max_conns:
            opened += 1
            client = await LeanSmtpClient.connect(port)
        else:
            client = await idle.get()
        if await _send(client, raw, phase, t0):
            idle.put_nowait(client)
        else:
            opened -= 1

    phase.started, start, cpu = time.time(), time.perf_counter(), time.process_time()
    at = start
    while at - start < seconds:
        at += rnd.expovariate(rate)
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(next(feed), at))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    phase.seconds, phase.ended = time.perf_counter() - start, time.time()
    phase.cpu = (time.process_time() - cpu) / phase.seconds
    while not idle.empty():
        with contextlib.suppress(Exception):
            await idle.get_nowait().quit()
    return phase


class LagProbe:
    """The load generator's own loop lag (if it stalls, its latencies are inflated too)."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, time.perf_counter() - t0 - 0.01)

    def __enter__(self) -> LagProbe:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
