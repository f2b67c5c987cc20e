"""No network at run time: building the engine (presidio, tldextract, spaCy) and detecting."""

from __future__ import annotations

import tldextract

from scanner.detect import DetectionEngine
from scanner.detect.offline import disable_network_lookups
from tests.detect.conftest import CONNECT_ATTEMPTS, NoNetwork, scan


def test_build_and_detect_open_no_socket(engine: DetectionEngine) -> None:
    # `engine` was built under NoNetwork (see conftest): any connect attempt was recorded
    with NoNetwork():
        assert scan(engine, "contact jane@example.co.uk, card 4556 7375 8686 1111")
    assert CONNECT_ATTEMPTS == []


def test_tldextract_answers_from_its_bundled_snapshot() -> None:
    disable_network_lookups()
    with NoNetwork():
        result = tldextract.extract("mail.example.co.uk")
    assert (result.domain, result.suffix) == ("example", "co.uk")
    assert CONNECT_ATTEMPTS == []


def test_presidio_email_recognizer_stays_offline() -> None:
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    disable_network_lookups()
    with NoNetwork():
        assert EmailRecognizer().validate_result("someone@example.org")
    assert CONNECT_ATTEMPTS == []
