"""`_SendguardSMTP._getaddr`'s fast path gives aiosmtpd's own answer, path for path."""

from __future__ import annotations

import itertools
import random

import pytest
from aiosmtpd.smtp import SMTP

from scanner.smtp import _PLAIN_PATH, _SendguardSMTP

_PIECES = ["a", "B", "x.y", "a..b", ".a", "a.", "+", "-", "é", '"q"', "1", "o'k", "{}", "a b", "\\"]
_DOMAINS = ["b.c", "b", "b..c", "b.", "-b", "[1.2.3.4]", "b-c.d", "exämple.fr", "b c"]
_AFTER = ["", " ", "\t", "  SIZE=10", " x", "x", "(c)", " (c) x", " BODY=8BITMIME SMTPUTF8", ">"]


def _paths() -> list[str]:
    paths = [f"<{lp}@{d}>{after}" for lp, d, after in itertools.product(_PIECES, _DOMAINS, _AFTER)]
    paths += [" <a@b.c>", "< a@b.c>", "<a@b.c >", "<a@b.c", "a@b.c", "<>", "<@r:a@b.c>", "<a@b@c>", ""]
    rng = random.Random(7)
    alphabet = "ab.@<> \t()\"'+-[]:1é"
    paths += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14))) for _ in range(3000)]
    return paths


def _answer(session: SMTP, path: str) -> object:
    try:
        return session._getaddr(path)
    except Exception as exc:  # email's parser raises IndexError on some paths ("a@"): same for both
        return type(exc)


def _session(limit: int) -> tuple[SMTP, _SendguardSMTP]:
    stock = SMTP.__new__(SMTP)
    ours = _SendguardSMTP.__new__(_SendguardSMTP)
    stock.local_part_limit = ours.local_part_limit = limit
    return stock, ours


@pytest.mark.parametrize("limit", [0, 3])
def test_every_path_gets_aiosmtpds_answer(limit: int) -> None:
    stock, ours = _session(limit)
    fast = 0
    for path in _paths():
        assert _answer(ours, path) == _answer(stock, path), path
        fast += _PLAIN_PATH.match(path) is not None
    assert fast > 100  # the fast path was exercised, not only the fallback


def test_plain_paths_take_the_fast_path() -> None:
    for path in ("<jane.roe@example.com>", "<a+tag@mail.example.fr> SIZE=1200", "<bounce-12_x@b.c>"):
        assert _PLAIN_PATH.match(path), path
    for path in ('<"q"@b>', "<a@[1.2.3.4]>", "<a@b.c>(c)", "<a@b.c> (c)", "<>", " <a@b.c>"):
        assert not _PLAIN_PATH.match(path), path
