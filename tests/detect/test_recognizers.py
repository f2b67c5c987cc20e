"""The recognizers are presidio recognizers, registered in a presidio registry, named apart."""

from __future__ import annotations

from presidio_analyzer import PatternRecognizer, RecognizerRegistry
from presidio_analyzer import predefined_recognizers as predefined

from scanner.detect.recognizers import DEFAULT_RECOGNIZERS


def test_every_recognizer_is_a_pattern_recognizer_a_registry_accepts() -> None:
    registry = RecognizerRegistry(
        recognizers=[cls() for cls in DEFAULT_RECOGNIZERS], supported_languages=["en"]
    )
    registered = {type(r) for r in registry.recognizers}
    assert registered == set(DEFAULT_RECOGNIZERS)
    assert all(issubclass(cls, PatternRecognizer) for cls in DEFAULT_RECOGNIZERS)


def test_class_names_do_not_shadow_presidio_recognizers() -> None:
    # presidio's registry loader resolves recognizer classes by __name__ among all subclasses
    ours = {cls.__name__ for cls in DEFAULT_RECOGNIZERS}
    assert ours.isdisjoint(predefined.__all__)


def test_validate_result_is_usable_through_presidio_analyze() -> None:
    from scanner.detect.recognizers.payment_card import PaymentCardRecognizer

    text = "card 4556 7375 8686 1111 and 4556 7375 8686 1112"
    results = PaymentCardRecognizer().analyze(text, ["PAYMENT_CARD"])
    # presidio raises the Luhn-valid match to 1.0 and drops the invalid one
    assert [(r.start, r.end, r.score) for r in results] == [(5, 24, 1.0)]
