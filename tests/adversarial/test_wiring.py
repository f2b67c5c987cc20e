"""The envelope reaches the scanner through every wrapper `sendguard serve` puts around it."""

from __future__ import annotations

from scanner.metrics import MeteredScanner, Metrics
from scanner.model import Envelope, Scanned
from tests.fakes import FakeScanner


class Recording(FakeScanner):
    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[Envelope | None] = []

    async def scan(self, message: bytes, envelope: Envelope | None = None) -> Scanned:
        self.envelopes.append(envelope)
        return await super().scan(message, envelope)


async def test_the_metered_scanner_passes_the_envelope_on() -> None:
    inner = Recording()
    env = Envelope("4111111111111111@example.com", ("you@example.org",))
    await MeteredScanner(inner, Metrics()).scan(b"Subject: x\r\n\r\nhi\r\n", env)
    assert inner.envelopes == [env]
