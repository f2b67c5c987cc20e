from __future__ import annotations

import pytest

from scanner.detect.normalize import normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111 1111", "4111 1111"),
        ("４１１１－１１１１", "4111-1111"),  # fullwidth digits and dash
        ("٤١١١ ١١١١", "4111 1111"),  # Arabic-Indic digits
        ("४१११", "4111"),  # Devanagari
        ("41\u200b11\u200c11\u200d11\u2060\ufeff1\u00ad1", "4111111111"),  # zero-width, soft hyphen
        ("4111\u00a01111\u2009\u202f1111", "4111 1111 1111"),  # a run of spaces is one
        ("4111  1111__1111..1111", "4111 1111 1111 1111"),  # spaces, underscores, dots
        ("⁵³⁶-²²-⁸⁸⁴³", "536-22-8843"),  # superscript
        ("①②③ ❶ ⑩", "123 1 10"),  # circled, dingbat, two-digit circled
        ("\U0001d7d3\U0001d7d1\U0001d7d4", "536"),  # mathematical digits
        ("5\ufe0f3\ufe0f6", "536"),  # variation selectors
        ("5\U000e00203\U000e007f6", "536"),  # tag characters
        ("5\u20e33\u03016", "536"),  # combining marks on digits (keycap, accent)
        ("café", "café"),  # a combining mark on a letter stays
        ("5 3 6 - 2 2 - 8 8 4 3", "536-22-8843"),  # spaced out one by one
        ("5 3 6 2 2 8 8 4 3", "536228843"),  # one digit per table cell
        ("SSN 536-22-\n8843", "SSN 536-22-8843"),  # a line wrap after a separator
        ("536-22-\n> > 8843", "536-22-8843"),  # ...across quote prefixes
        ("4111 1111\n1111 1111", "4111 1111 1111 1111"),  # a wrap between groups is a space
        ("page 1 2 3", "page 1 2 3"),  # fewer than six spaced digits: left alone
        ("total 12.50 and 3", "total 12.50 and 3"),
        ("123\u2013456\u2212789", "123-456-789"),  # en dash, minus sign
        ("ｆｒ７６", "fr76"),  # fullwidth letters (IBAN country code)
        ("numéro de sécurité", "numéro de sécurité"),  # accents untouched
        ("1\x012\x003\x7f4\t5\n6", "1234\t5 6"),  # controls dropped; a wrap between digits is a space
        ("7\u200e8\u202e9\x85", "789"),  # bidi marks, C1 control
    ],
)
def test_normalize_folds_evasions(text: str, expected: str) -> None:
    assert normalize(text).text == expected


def test_ascii_text_is_returned_as_is_without_offset_map() -> None:
    norm = normalize("plain ascii 123")
    assert norm.text == "plain ascii 123"
    assert norm.offsets is None
    assert norm.to_original(6, 11) == (6, 11)


def test_offsets_map_back_across_removed_characters() -> None:
    text = "SSN: 0\u200b5\u200b4-28-6917 ok"
    norm = normalize(text)
    start = norm.text.index("054")
    end = start + len("054-28-6917")
    o_start, o_end = norm.to_original(start, end)
    assert text[o_start:o_end] == "0\u200b5\u200b4-28-6917"


def test_normalize_is_deterministic() -> None:
    text = "４\u200b１\u00a01"
    assert normalize(text) == normalize(text)


def test_ascii_drop_finds_in_ascii_text_what_drop_finds() -> None:
    from scanner.detect.normalize import _DROP, ASCII_DROP

    chars = [chr(c) for c in range(128)]
    for a in chars:
        for b in chars:
            assert (ASCII_DROP.search(a + b) is None) is (_DROP.search(a + b) is None), (a, b)
