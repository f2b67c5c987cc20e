"""sendguard: an outbound-email PII scanner in front of a sending platform."""

from scanner._errors import (
    MessageTooLarge,
    Overloaded,
    PermanentError,
    RelayPermanentError,
    RelayTemporaryError,
    ScanUnavailable,
    SendguardError,
    StoreError,
    TemporaryError,
)

__version__ = "0.1.0"

__all__ = [
    "MessageTooLarge",
    "Overloaded",
    "PermanentError",
    "RelayPermanentError",
    "RelayTemporaryError",
    "ScanUnavailable",
    "SendguardError",
    "StoreError",
    "TemporaryError",
]
