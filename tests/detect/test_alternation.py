"""The factored keyword alternation matches exactly what the plain alternation matched."""

from __future__ import annotations

import random
import re

import pytest

from scanner.assets import models_dir
from scanner.detect.alternation import factor, is_single, matched_chars
from scanner.detect.context import ContextLexicon, keyword_atoms
from scanner.detect.recognizers.lookalikes import IMEI_WORDS, PAYMENT_WORDS, PRODUCT_WORDS, STORE_CARD_WORDS
from scanner.detect.recognizers.payee import PAYEE_WORDS

LEXICON = ContextLexicon.load(models_dir() / "context")
EXTRA = [
    "n° de carte",
    "no",
    "n°",
    "acct #",
    "c",
    "cart",
    "carte",
    "card",
    "d.o.b",
    "l'assuré",
    "e-mail",
    "x",
]
_NOISE = " \t\n-.,:;#'’°º_/()0123456789éÉàçÇôÖîİıſK"  # K: the Kelvin sign, İ ı ſ: case-fold oddities


def _lists() -> dict[str, list[str]]:
    lists = {name: list(words) for name, words in LEXICON.lists.items()}
    lists["all"] = [w for words in LEXICON.lists.values() for w in words] + EXTRA
    return lists


def _plain(words: list[str]) -> re.Pattern[str]:
    """The alternation as `KeywordMatcher` built it before it was factored."""
    ordered = sorted({w.strip() for w in words if w.strip()}, key=len, reverse=True)
    body = "|".join("".join(keyword_atoms(w)) for w in ordered)
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)


def _factored(words: list[str]) -> re.Pattern[str]:
    ordered = sorted({w.strip() for w in words if w.strip()}, key=len, reverse=True)
    body = factor([keyword_atoms(w) for w in ordered], re.IGNORECASE)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def _variant(word: str, rng: random.Random) -> str:
    """The keyword as mail may write it: case, accents, separators, cut or glued to a word."""
    out = []
    for ch in word:
        r = rng.random()
        if ch == " ":
            out.append(rng.choice([" ", "  ", "-", "\n", " - ", "", "_"]))
        elif r < 0.15:
            out.append(ch.upper())
        elif r < 0.2:
            out.append(rng.choice("éèàçôîïû°º'’.-"))
        elif r < 0.23:
            continue
        else:
            out.append(ch)
    text = "".join(out)
    r = rng.random()
    if r < 0.1:
        text = text[: rng.randint(0, len(text))]
    elif r < 0.2:
        text = rng.choice(["x", "é", "9", "_"]) + text
    elif r < 0.3:
        text += rng.choice(["s", "x", "9", "_", "é"])
    return text


def _texts(words: list[str], seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    # "°" is written "o" too ("no de carte"): where atoms overlap, the order decides the span
    words = words + [w.replace("°", "o") for w in words if "°" in w] + [w.replace("o", "°") for w in words]
    out = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 30)):
            if rng.random() < 0.6:
                parts.append(_variant(rng.choice(words), rng))
            else:
                parts.append("".join(rng.choice(_NOISE) for _ in range(rng.randint(0, 4))))
        out.append(rng.choice([" ", "", "\n", ", "]).join(parts))
    return out


@pytest.mark.parametrize("name", sorted(_lists()))
def test_factored_alternation_finds_the_same_spans(name: str) -> None:
    words = _lists()[name]
    plain, factored = _plain(words), _factored(words)
    for i, text in enumerate(_texts(words, seed=len(name), count=400)):
        assert [m.span() for m in factored.finditer(text)] == [m.span() for m in plain.finditer(text)], text
        # from every start and to every end, as the context windows run it
        for pos in range(0, len(text), 7 + i % 5):
            end = len(text) - pos // 2
            got = [m.span() for m in factored.finditer(text, pos, end)]
            assert got == [m.span() for m in plain.finditer(text, pos, end)], (text, pos, end)


@pytest.mark.parametrize(
    "matcher", [IMEI_WORDS, PRODUCT_WORDS, STORE_CARD_WORDS, PAYMENT_WORDS, PAYEE_WORDS], ids=repr
)
def test_module_level_matchers_are_built_factored(matcher: object) -> None:
    pattern = matcher._regex  # type: ignore[attr-defined]
    assert pattern is not None and pattern.pattern.startswith("(?<!\\w)(?:")


def test_every_character_an_atom_matches_lies_in_the_bmp() -> None:
    """`matched_chars` looks in the BMP only: no other character matches a keyword atom."""
    atoms = {a for w in _lists()["all"] for a in keyword_atoms(w) if is_single(a)}
    astral = "".join(chr(cp) for cp in range(0x10000, 0x110000))
    for atom in atoms:
        assert re.compile(atom, re.IGNORECASE).search(astral) is None, atom
        assert matched_chars(atom, re.IGNORECASE)


_ATOMS = ("a", "b", "[ab]", "[bc]", "c", "[\\s\\-]+", "\\.?", "[ac]?", "-")


def test_factor_matches_like_the_alternation_on_every_short_text() -> None:
    """Random alternations of overlapping, optional and repeated atoms, on every text of up to
    four characters: same spans, found the same way (plain, then followed by more pattern)."""
    rng = random.Random(11)
    alphabet = "abc -."
    texts = [""]
    for _ in range(4):
        texts += [t + ch for t in texts if len(t) == len(texts[-1]) for ch in alphabet]
    for _ in range(250):
        alts = [[rng.choice(_ATOMS) for _ in range(rng.randint(0, 4))] for _ in range(rng.randint(2, 7))]
        if rng.random() < 0.7:
            alts.sort(key=len, reverse=True)
        plain = "(?:" + "|".join("".join(a) for a in alts) + ")"
        factored = factor(alts, re.IGNORECASE)
        for tail in ("", "(?!\\w)", "c"):
            want, got = re.compile(plain + tail, re.IGNORECASE), re.compile(factored + tail, re.IGNORECASE)
            for text in texts:
                assert [m.span() for m in got.finditer(text)] == [m.span() for m in want.finditer(text)], (
                    alts,
                    factored,
                    text,
                )


def test_overlapping_first_atoms_keep_their_order() -> None:
    # "[°ºo]" and "o" both match "o": the "n°" and "no" alternatives must stay in order
    body = factor([["n", "[°ºo]", "x"], ["n", "o"], ["n", "a"]], re.IGNORECASE)
    assert body == "(?:n(?:[°ºo]x|o|a))"
    assert factor([["a", "b"], ["c"], ["a", "d"]]) == "(?:a(?:b|d)|c)"
    # an empty alternative can match anywhere: nothing moves past it
    assert factor([["a", "b"], [], ["a", "d"]]) == "(?:ab||ad)"
