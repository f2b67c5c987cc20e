"""A retrying SMTP client for fault and scale-out tests, and the accounting of what arrived.

Each message is sent until it gets a final 2xx/5xx, retrying 4xx and broken connections as
a real MTA would. Each attempt is classified, so the check afterwards is exact:

- every message that got 250 is at the sink or in the quarantine;
- a message is delivered twice at most when one of its attempts broke *after* the whole
  message was sent (no reply to the final dot): SMTP's one inherent duplicate window
  (RFC 5321 §4.1.1.4); otherwise exactly once.
"""

from __future__ import annotations

import re
import smtplib
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field


@dataclass
class Delivery:
    """What one message went through, attempt by attempt."""

    message_id: str
    data: bytes
    final: tuple[int, str] | None = None
    tempfails: int = 0
    broken_before_data_end: int = 0
    broken_after_data_end: int = 0  # the inherent window: it may have been taken
    attempts: list[str] = field(default_factory=list)


def _attempt(port: int, delivery: Delivery, source: str, timeout: float) -> tuple[int, str] | None:
    """One SMTP transaction; None if the connection broke (the kind is recorded)."""
    dot_sent = False
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=timeout, source_address=(source, 0)) as client:
            client.ehlo("load.test")
            code, text = client.mail("shop@example.com")
            if code == 250:
                code, text = client.rcpt("client@example.org")
            if code == 250:
                client.putcmd("data")
                code, text = client.getreply()
                if code == 354:
                    body = re.sub(rb"(?m)^\.", b"..", delivery.data)  # RFC 5321 §4.5.2 dot-stuffing
                    client.send(body + (b"" if body.endswith(b"\r\n") else b"\r\n") + b".\r\n")
                    dot_sent = True
                    code, text = client.getreply()
            return code, text.decode(errors="replace")
    except (TimeoutError, smtplib.SMTPServerDisconnected, ConnectionError, OSError):
        if dot_sent:
            delivery.broken_after_data_end += 1
            delivery.attempts.append("broken-after-dot")
        else:
            delivery.broken_before_data_end += 1
            delivery.attempts.append("broken")
        return None


def send_until_final(
    port: int, delivery: Delivery, *, source: str = "127.0.0.1", timeout: float = 15, deadline: float = 40
) -> None:
    """Retry 4xx and broken connections (0.2 s apart) until a 2xx/5xx or the deadline."""
    give_up = time.monotonic() + deadline
    while time.monotonic() < give_up:
        reply = _attempt(port, delivery, source, timeout)
        if reply is not None:
            delivery.attempts.append(str(reply[0]))
            if reply[0] < 400 or reply[0] >= 500:
                delivery.final = reply
                return
            delivery.tempfails += 1
        time.sleep(0.2)


def run_load(
    port: int,
    messages: Sequence[tuple[str, bytes]],
    *,
    concurrency: int = 8,
    source: str = "127.0.0.1",
    on_final: Callable[[int], None] = lambda done: None,
) -> list[Delivery]:
    """Send every message with `concurrency` clients; `on_final(n)` after each final reply."""
    deliveries = [Delivery(mid, data) for mid, data in messages]
    lock = threading.Lock()
    done = [0]

    def one(delivery: Delivery) -> None:
        send_until_final(port, delivery, source=source)
        with lock:
            done[0] += 1
            n = done[0]
        on_final(n)

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, deliveries))
    return deliveries


def check_accounting(
    deliveries: Sequence[Delivery],
    delivered: Counter[str],
    held: Counter[str],
    upstream_unacknowledged: Counter[str] | None = None,
) -> list[str]:
    """Every problem found (empty: all accounted for). `delivered`/`held`: copies per Message-ID;
    `upstream_unacknowledged`: copies the upstream stored without sendguard seeing its reply
    (the same window, one hop further: sendguard answered 4xx, the client sent it again)."""
    problems = []
    upstream_unacknowledged = upstream_unacknowledged or Counter()
    for d in deliveries:
        copies = delivered[d.message_id] + held[d.message_id]
        ambiguous = d.broken_after_data_end + upstream_unacknowledged[d.message_id]
        if d.final is None:
            problems.append(f"{d.message_id}: no final reply ({d.attempts})")
        elif d.final[0] == 250:
            if copies == 0:
                problems.append(f"{d.message_id}: LOST after 250 ({d.attempts})")
            elif copies > 1 + ambiguous:
                problems.append(f"{d.message_id}: {copies} copies, only {ambiguous} ambiguous ({d.attempts})")
        elif copies:
            problems.append(f"{d.message_id}: {copies} copies after a final {d.final[0]}")
    return problems
