"""The DATA wire form in slices equals aiosmtplib's whole-message form, on any input."""

from __future__ import annotations

import random

import pytest
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings

from scanner.wire import wire_slices


def aiosmtplib_form(data: bytes) -> bytes:
    # what aiosmtplib's execute_data_command writes (5.x): the reference
    return PERIOD_REGEX.sub(b"..", normalize_message_line_endings(data)) + b".\r\n"


CASES = [
    b"",
    b"x",
    b".",
    b"\r",
    b"\n",
    b"\r\n",
    b".\r\n.\r\n..\r\n",
    b"Subject: a\r\n\r\nbody\r\n.hidden\r\n",
    b"lone\nlf\rcr\r\n.dot\n.\r.\r\n",
    b"no final newline",
    b"\r\n" * 1000,
    b"\r" * 777,
    b"\n" * 777,
]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 128 * 1024])
@pytest.mark.parametrize("data", CASES)
def test_slices_equal_aiosmtplib_form(data: bytes, size: int) -> None:
    assert b"".join(wire_slices(data, size)) == aiosmtplib_form(data)


def test_random_bytes_of_line_endings_and_dots_in_any_slicing() -> None:
    rng = random.Random(7)
    alphabet = [b"\r", b"\n", b".", b"a", b"\r\n", b"\r\n."]
    for _ in range(400):
        data = b"".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 200)))
        size = rng.randrange(1, 40)
        assert b"".join(wire_slices(data, size)) == aiosmtplib_form(data), (data, size)


def test_slices_are_bounded_and_clean_mail_is_not_copied() -> None:
    data = b"Subject: x\r\n\r\n" + b"\r\n" * 2_000_000  # 4 MB of empty lines
    sizes = [len(s) for s in wire_slices(data, 64 * 1024)]
    assert max(sizes) <= 64 * 1024 + 2 and len(sizes) > 60
    clean = b"Subject: x\r\n\r\nhello\r\n"
    (whole, end) = list(wire_slices(clean))
    assert whole is not clean or whole == clean  # same content; no rewrite needed
    assert end == b".\r\n"
