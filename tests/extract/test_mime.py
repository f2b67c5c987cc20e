"""Tolerant decoders: base64, charsets with fallbacks, RFC 2047 encoded words."""

from __future__ import annotations

import pytest

from scanner.extract.mime import Note, b64decode_tolerant, decode_header_value, decode_text, unflow


def _collect() -> tuple[list[str], Note]:
    names: list[str] = []

    def note(name: str, detail: str) -> None:
        names.append(name)

    return names, note


@pytest.mark.parametrize(
    ("encoded", "decoded", "defects"),
    [
        (b"SGVsbG8gd29ybGQ=", b"Hello world", []),
        (b"SGVs\r\nbG8g\r\nd29y bGQ=", b"Hello world", []),
        (b"SGVsbG8gd29ybGQ", b"Hello world", ["InvalidBase64PaddingDefect"]),  # padding lost
        (b"SGVs*bG8g!d29ybGQ=", b"Hello world", ["InvalidBase64CharactersDefect"]),
        (b"SGVsbG8=SGVsbG8=", b"HelloHello", []),  # two encodings glued together
        (b"SGVsbG8gd29ybGQ=A", b"Hello world", ["InvalidBase64PaddingDefect", "InvalidBase64LengthDefect"]),
        (b"QUFB=" * 2000, b"AAA" * 2000, ["InvalidBase64PaddingDefect"]),  # junk padding: one stream
        (b"", b"", []),
        (b"====", b"", []),
    ],
)
def test_b64decode_tolerant(encoded: bytes, decoded: bytes, defects: list[str]) -> None:
    names, note = _collect()
    assert b64decode_tolerant(encoded, note) == decoded
    assert names == defects


@pytest.mark.parametrize(
    ("data", "label", "text", "defects"),
    [
        ("Numéro".encode(), "utf-8", "Numéro", []),
        ("Numéro".encode(), "utf8", "Numéro", []),
        ("Numéro".encode(), '"UTF-8"', "Numéro", []),
        ("Numéro".encode("latin-1"), "iso-8859-1", "Numéro", []),
        ("Numéro".encode("latin-1"), "latin1", "Numéro", []),
        # WHATWG: latin-1 labels are read as windows-1252 (0x80 is €, not a C1 control)
        (b"\x80 100", "iso-8859-1", "€ 100", []),
        (b"\x80 100", "windows-1252", "€ 100", []),
        (b"\x81\x8d", "iso-8859-1", "\x81\x8d", []),  # undefined in cp1252: latin-1
        # no label or an ASCII label: utf-8, else windows-1252, silently
        ("Numéro".encode(), None, "Numéro", []),
        ("Numéro".encode("cp1252"), None, "Numéro", []),
        ("Numéro".encode("cp1252"), "us-ascii", "Numéro", []),
        # unknown labels: guessed, with a note
        ("Numéro".encode(), "x-klingon", "Numéro", ["UnknownCharset"]),
        ("Numéro".encode("cp1252"), "unknown-8bit", "Numéro", ["UnknownCharset"]),
        ("Numéro".encode(), "bad label with spaces", "Numéro", ["UnknownCharset"]),
        # a Python-only codec is not honoured: the recipient would see the escapes
        (b"\\u0034", "unicode-escape", "\\u0034", ["UnknownCharset"]),
        (b"x", "base64", "x", ["UnknownCharset"]),  # a transfer encoding, not a charset
        (b"\xe9", "rot13", "é", ["UnknownCharset"]),
        # a label the bytes do not fit
        ("Numéro".encode("cp1252"), "utf-8", "Numéro", ["CharsetFallback"]),
        # mostly-valid utf-8 keeps its accents, U+FFFD for the broken byte
        ("élève à côté ".encode() + b"\xff", "utf-8", "élève à côté \ufffd", ["CharsetFallback"]),
        ("numéro".encode("gbk"), "gb2312", "numéro", []),  # read as the gb18030 superset
        ("Привет".encode("koi8-r"), "koi8-r", "Привет", []),
        ("Привет".encode("utf-16"), None, "Привет", []),  # a BOM wins over everything
        ("Привет".encode("utf-16"), "iso-8859-1", "Привет", []),
        (b"a\r\nb", "utf-8", "a\nb", []),
        (b"+2D0-4111", "utf-7", "\ufffd4111", []),  # a lone surrogate never reaches the detectors
    ],
)
def test_decode_text(data: bytes, label: str | None, text: str, defects: list[str]) -> None:
    names, note = _collect()
    assert decode_text(data, label, note) == text
    assert names == defects


def test_decode_text_html_meta_charset() -> None:
    html = '<html><head><meta charset="windows-1251"></head><body>Привет</body></html>'
    assert "Привет" in decode_text(html.encode("cp1251"), None, html=True)


def test_decode_text_cut_mid_character_is_not_a_charset_error() -> None:
    names, note = _collect()
    cut = "Numéro".encode()[:4]  # "Num" + the first byte of "é"
    assert decode_text(cut, "utf-8", note, final=False) == "Num"
    assert names == []


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("Hello", "Hello"),
        ("=?iso-8859-1?Q?Num=E9ro?=", "Numéro"),
        ("=?ISO-8859-1?q?Num=E9ro_fiscal?=", "Numéro fiscal"),
        ("=?utf-8?B?TnVtw6lybyBmaXNjYWw=?=", "Numéro fiscal"),
        ("Re: =?utf-8?Q?Num=C3=A9ro?= de s=?utf-8?Q?=C3=A9?=curit=C3=A9", "Re: Numéro de sécurit=C3=A9"),
        # whitespace between adjacent encoded words is dropped (RFC 2047 §6.2)
        ("=?utf-8?Q?41?= =?utf-8?Q?11?=\r\n =?utf-8?Q?1111?=", "41111111"),
        # a character split across two words still decodes (bytes joined before decoding)
        ("=?utf-8?B?TnVtw6k=?= =?utf-8?B?qXJv?=", "Numé\ufffdro"),
        ("=?utf-8?B?TnVtww==?= =?utf-8?B?qXJv?=", "Numéro"),
        # broken words: unterminated, missing padding, unknown charset, language tag
        ("Subject =?utf-8?B?TnVtw6lybw", "Subject Numéro"),
        ("=?utf-8?B?TnVtw6lybw?=", "Numéro"),
        ("=?x-unknown?Q?Num=E9ro?=", "Numéro"),
        ("=?utf-8*fr?Q?Num=C3=A9ro?=", "Numéro"),
        ("=?utf-8?Q?Num=C3=A9ro avec espaces?=", "Numéro avec espaces"),
        ("=?utf-8?X?abc?=", "=?utf-8?X?abc?="),  # no such encoding: left as is
        # raw 8-bit headers: utf-8, else windows-1252
        ("Num\udcc3\udca9ro", "Numéro"),
        ("Num\udce9ro", "Numéro"),
        # folding
        ("a long\r\n subject", "a long subject"),
        ("", ""),
    ],
)
def test_decode_header_value(raw: str, text: str) -> None:
    assert decode_header_value(raw) == text


@pytest.mark.parametrize(
    ("text", "delsp", "flat"),
    [
        ("Card 4111 1111 \n1111 1111\nnext", False, "Card 4111 1111 1111 1111\nnext"),
        ("IBAN FR76300 \n0600", True, "IBAN FR763000600"),  # DelSp=yes: the space goes too
        ("> quoted \n> more\nnot", False, ">quoted more\nnot"),  # "> " is quote + stuffing
        ("> quoted \nunquoted", False, ">quoted \nunquoted"),  # depth changed: no join
        ("-- \nsignature", False, "-- \nsignature"),
        (" From stuffed", False, "From stuffed"),
        ("hard\nbreaks", False, "hard\nbreaks"),
    ],
)
def test_unflow(text: str, delsp: bool, flat: str) -> None:
    assert unflow(text, delsp) == flat
