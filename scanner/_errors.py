"""The error tree. Every error knows the SMTP reply it maps to.

    SendguardError                  4xx by default: our failure, the client should retry
    ├── TemporaryError              451 4.3.0 local problem, retry later
    │   ├── ScanUnavailable         451 4.3.0 the detector could not scan the message
    │   ├── Overloaded              451 4.3.2 work queue full (backpressure)
    │   ├── RelayTemporaryError     451 4.4.1 upstream down / 4xx from upstream
    │   │   └── RelayAmbiguousError 451 4.4.1 the message was sent, its final reply never came
    │   └── StoreError              451 4.3.0 quarantine store failed: nothing was held
    └── PermanentError              5xx: the sender's fault, do not retry
        ├── MessageTooLarge         552 5.3.4
        └── RelayPermanentError     550/5xx as given by the upstream for the message

Replies never contain message content or matched values.
"""

from __future__ import annotations

import traceback


class SendguardError(Exception):
    code: int = 451
    status: str = "4.3.0"
    text: str = "Local error, try again later"

    def __init__(self, detail: str = "", *, code: int | None = None, status: str | None = None) -> None:
        super().__init__(detail or self.text)
        self.detail = detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    @property
    def smtp_reply(self) -> str:
        return f"{self.code} {self.status} {self.text}"


class TemporaryError(SendguardError):
    pass


class ScanUnavailable(TemporaryError):
    text = "Message could not be scanned, try again later"


class Overloaded(TemporaryError):
    status = "4.3.2"
    text = "Scanner busy, try again later"


class RelayTemporaryError(TemporaryError):
    status = "4.4.1"
    text = "Upstream relay unavailable, try again later"


class RelayAmbiguousError(RelayTemporaryError):
    """The DATA terminator was sent but no final reply came (timeout, connection closed).

    The upstream may have stored the message (RFC 5321 §4.1.1.4: the reply after the final
    dot is what says it took responsibility), so sending it again could deliver it twice.
    Live mail still gets 451 (the sender's MTA decides, as for any lost reply, RFC 1047);
    a quarantine release is marked uncertain instead of held again.
    """


class StoreError(TemporaryError):
    text = "Quarantine unavailable, try again later"


class PermanentError(SendguardError):
    code = 550
    status = "5.0.0"
    text = "Message refused"


class MessageTooLarge(PermanentError):
    code = 552
    status = "5.3.4"
    text = "Message too big for system"


class RelayPermanentError(PermanentError):
    status = "5.0.0"
    text = "Upstream relay refused the message"

    @property
    def smtp_reply(self) -> str:
        # the upstream's own reply text (never message content) helps the sender fix the problem
        return f"{self.code} {self.status} {self.text}: {self.detail}"[:400]


def describe(exc: BaseException) -> str:
    """``RuntimeError at scanner/x.py:42``: what failed and where, for logs.

    Never the exception's message, arguments or locals: they may hold message content.
    """
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{where}"
