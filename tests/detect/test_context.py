from __future__ import annotations

import pytest

from scanner.assets import models_dir
from scanner.detect.context import ContextLexicon, KeywordMatcher, Window

CARD = KeywordMatcher(["card", "credit card", "numéro de carte", "acct #", "n° de carte"])
W = Window(before=60, after=30)


def _hit(text: str, value: str = "4111111111111111") -> bool:
    start = text.index(value)
    return bool(CARD.find(text, start, start + len(value), W))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4111111111111111", True),
        ("4111111111111111 is my card", True),  # context after the number counts
        ("CARDIFF 4111111111111111", False),  # presidio's substring weakness
        ("discarded 4111111111111111", False),
        ("cards4less 4111111111111111", False),
        ("Credit Card: 4111111111111111", True),
        ("credit-card 4111111111111111", True),
        ("numero de carte 4111111111111111", True),  # accents optional
        ("numéro de carte 4111111111111111", True),
        ("n° de carte 4111111111111111", True),
        ("acct # 4111111111111111", True),
        ("card_holder_id 4111111111111111", False),
        ("card" + " " * 70 + "4111111111111111", False),  # outside the window
        ("4111111111111111" + " " * 40 + "card", False),
    ],
)
def test_whole_word_context_on_both_sides(text: str, expected: bool) -> None:
    assert _hit(text) is expected


def test_window_edge_never_cuts_a_word_into_a_keyword() -> None:
    value = "4111111111111111"
    # "discard" straddles the window start: the visible tail "card" must not count
    text = "discard" + " " * 56 + value
    start = text.index(value)
    assert start - 60 > 0 and text[start - 60 : start].startswith("card")
    assert CARD.find(text, start, start + len(value), W) == []


def test_lexicon_has_english_and_french_lists_for_every_category() -> None:
    lexicon = ContextLexicon.load(models_dir() / "context")
    context_dir = models_dir() / "context"
    for name in ("payment_card", "us_ssn", "fr_nir", "fr_tax_id", "iban", "fr_rib", "negative", "suppress"):
        assert (context_dir / f"{name}.en.txt").is_file()
        assert (context_dir / f"{name}.fr.txt").is_file()
        assert lexicon.lists[name]
    assert "commande" in lexicon.lists["negative"]
    assert "siret" in lexicon.lists["suppress"]


def test_unknown_list_name_is_an_error() -> None:
    lexicon = ContextLexicon.load(models_dir() / "context")
    with pytest.raises(KeyError):
        lexicon.matcher(["no_such_list"])
