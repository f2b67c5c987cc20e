"""RFC 3461 parameter checks (scanner.dsn), table-tested."""

from __future__ import annotations

import pytest

from scanner.dsn import (
    MAIL_KEYWORDS,
    RCPT_KEYWORDS,
    DsnSyntaxError,
    dsn_of,
    split_params,
    split_path,
    xtext_decode,
    xtext_encode,
)
from scanner.model import Envelope


@pytest.mark.parametrize(
    ("params", "others", "dsn"),
    [
        ("", "", ()),
        ("RET=hdrs ENVID=QQ314159", "", ("RET=HDRS", "ENVID=QQ314159")),
        ("BODY=8BITMIME ret=FULL", "BODY=8BITMIME", ("RET=FULL",)),
        ("ENVID=a+2Bb.Case", "", ("ENVID=a+2Bb.Case",)),  # case kept: xtext is case-sensitive
    ],
)
def test_mail_parameters_split_and_canonical(params: str, others: str, dsn: tuple[str, ...]) -> None:
    assert split_params(params, MAIL_KEYWORDS) == (others, dsn)


@pytest.mark.parametrize(
    ("params", "dsn"),
    [
        ("NOTIFY=never", ("NOTIFY=NEVER",)),
        ("NOTIFY=success,Failure,DELAY", ("NOTIFY=SUCCESS,FAILURE,DELAY",)),
        ("ORCPT=rfc822;Bob+2Bx@Example.org", ("ORCPT=rfc822;Bob+2Bx@Example.org",)),
        ("NOTIFY=FAILURE ORCPT=utf-8;a@b", ("NOTIFY=FAILURE", "ORCPT=utf-8;a@b")),
    ],
)
def test_rcpt_parameters(params: str, dsn: tuple[str, ...]) -> None:
    assert split_params(params, RCPT_KEYWORDS) == ("", dsn)


@pytest.mark.parametrize(
    ("params", "keywords", "reply"),
    [
        ("RET=BODY", MAIL_KEYWORDS, "501 5.5.4 Invalid RET parameter"),
        ("RET=", MAIL_KEYWORDS, "501 5.5.4 Invalid RET parameter"),
        ("ENVID=" + "x" * 101, MAIL_KEYWORDS, "501 5.5.4 Invalid ENVID parameter"),
        ("ENVID=a=b", MAIL_KEYWORDS, "501 5.5.4 Invalid ENVID parameter"),
        ("ENVID=a+2g", MAIL_KEYWORDS, "501 5.5.4 Invalid ENVID parameter"),  # hex must be upper case
        ("RET=FULL RET=HDRS", MAIL_KEYWORDS, "501 5.5.4 Duplicate RET parameter"),
        ("NOTIFY=NEVER,FAILURE", RCPT_KEYWORDS, "501 5.5.4 Invalid NOTIFY parameter"),
        ("NOTIFY=SOMETIMES", RCPT_KEYWORDS, "501 5.5.4 Invalid NOTIFY parameter"),
        ("NOTIFY=FAILURE,FAILURE", RCPT_KEYWORDS, "501 5.5.4 Invalid NOTIFY parameter"),
        ("NOTIFY=", RCPT_KEYWORDS, "501 5.5.4 Invalid NOTIFY parameter"),
        ("ORCPT=a@b", RCPT_KEYWORDS, "501 5.5.4 Invalid ORCPT parameter"),
        ("ORCPT=rfc822;", RCPT_KEYWORDS, "501 5.5.4 Invalid ORCPT parameter"),
        ("ORCPT=rfc822;a=b", RCPT_KEYWORDS, "501 5.5.4 Invalid ORCPT parameter"),
        ("ORCPT=rfc822;" + "a" * 500, RCPT_KEYWORDS, "501 5.5.4 Invalid ORCPT parameter"),
    ],
)
def test_bad_parameters_are_501_554(params: str, keywords: frozenset[str], reply: str) -> None:
    with pytest.raises(DsnSyntaxError) as err:
        split_params(params, keywords)
    assert err.value.reply.startswith(reply)


@pytest.mark.parametrize(
    ("arg", "path", "rest"),
    [
        ("<a@b> RET=HDRS", "<a@b>", "RET=HDRS"),
        ('<"x> y"@b> NOTIFY=NEVER', '<"x> y"@b>', "NOTIFY=NEVER"),
        ("<>", "<>", ""),
        ("a@b SIZE=1", "a@b", "SIZE=1"),
    ],
)
def test_split_path(arg: str, path: str, rest: str) -> None:
    assert split_path(arg) == (path, rest)


def test_xtext_round_trip() -> None:
    value = "Bob+x=y é"
    assert xtext_encode(value) == "Bob+2Bx+3Dy+20+C3+A9"
    assert xtext_decode("Bob+2Bx+3Dy") == "Bob+x=y"


def test_dsn_view_of_an_envelope() -> None:
    env = Envelope(
        "a@b",
        ("x@y", "z@y"),
        ("BODY=8BITMIME", "RET=HDRS", "ENVID=E1"),
        (("NOTIFY=NEVER",), ("ORCPT=rfc822;z@y",)),
    )
    dsn = dsn_of(env)
    assert (dsn.ret, dsn.envid) == ("HDRS", "E1")
    assert [r.wants_failure() for r in dsn.recipients] == [False, True]
    assert dsn.recipients[1].orcpt == "rfc822;z@y"
