"""Evasions an attacker tries, as messages: a generator shared by the adversarial suite and
`benchmarks/hostile.py`. Pure: a seed in, `Case`s out.

Every positive hides one forbidden value (checksum-valid SSN, card or IBAN, from Faker,
checked with python-stdnum) in a place or form the issue names -- headers, file names, the
envelope, HTML markup, encodings, characters a reader ignores, spacing -- and must be stopped
(reject or hold). Look-alikes put ordinary numbers in the same places and must pass.
"""

from __future__ import annotations

import base64
import quopri
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from faker import Faker
from stdnum import iban, luhn
from stdnum.us import ssn as us_ssn

from scanner.model import Envelope


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    data: bytes
    value: str  # the raw value that must never appear in a reply, log or report
    positive: bool = True
    envelope: Envelope | None = None


def _msg(head: str, body: bytes | str, ctype: str = "text/plain; charset=utf-8") -> bytes:
    body_b = body.encode("utf-8") if isinstance(body, str) else body
    return (
        f"From: shop@example.com\r\nTo: you@example.org\r\nSubject: Your account\r\nMIME-Version: 1.0\r\n"
        f"{head}Content-Type: {ctype}\r\n\r\n"
    ).encode() + body_b.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _mixed(parts: list[bytes], preamble: str = "", epilogue: str = "") -> bytes:
    body = preamble.encode() + b"\r\n" + b"".join(b"--b\r\n" + p + b"\r\n" for p in parts) + b"--b--\r\n"
    return _msg("", body + epilogue.encode(), 'multipart/mixed; boundary="b"')


def _html(html: str) -> bytes:
    return _msg("", html, "text/html; charset=utf-8")


def _spaced(v: str) -> str:
    return " ".join(v)


VS, TAG, KEYCAP = "\ufe0f", "\U000e0020", "\u20e3"
_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_CIRCLED = str.maketrans("0123456789", "⓪①②③④⑤⑥⑦⑧⑨")
_MATH = str.maketrans("0123456789", "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗")


def _ssn(fake: Faker) -> str:
    while True:
        v = fake.ssn()
        if us_ssn.is_valid(v) and not v.startswith("9"):
            return v


def _card(fake: Faker) -> str:
    while True:
        v = fake.credit_card_number(card_type=random.choice(["visa16", "mastercard"]))
        if luhn.is_valid(v) and len(v) == 16:
            return v


def _iban(fake: Faker) -> str:
    while True:
        v = fake.iban()
        if iban.is_valid(v) and v[:2] in ("FR", "DE", "GB", "ES", "IT", "NL", "BE"):
            return v


def _grouped(card: str, sep: str) -> str:
    return sep.join(card[i : i + 4] for i in range(0, 16, 4))


Builder = Callable[[str, str, str, str], tuple[bytes, Envelope | None]]


def _positives() -> dict[str, tuple[str, Builder]]:
    """name -> (which value: ssn|card|iban, builder(value, name_of_person, ssn, card))."""
    e = None
    return {
        "from-display-name": (
            "ssn",
            lambda v, p, s, c: (
                _msg("", "Hello").replace(
                    b"From: shop@example.com", f'From: "{p} SSN {v}" <shop@example.com>'.encode()
                ),
                e,
            ),
        ),
        "x-note-header": ("ssn", lambda v, p, s, c: (_msg(f"X-Note: SSN {v}\r\n", "Hello"), e)),
        "received-comment": (
            "ssn",
            lambda v, p, s, c: (
                _msg(
                    f"Received: from mx (SSN {v}) by relay.example.com ([192.0.2.7]) with ESMTP id 4F2A1B3C;"
                    " Mon, 15 Jul 2002 09:07:52 +0100\r\n",
                    "Hello",
                ),
                e,
            ),
        ),
        "date-comment": (
            "ssn",
            lambda v, p, s, c: (_msg(f"Date: Mon, 15 Jul 2002 09:07:52 +0100 (SSN {v})\r\n", "Hello"), e),
        ),
        "received-queue-id": (
            "ssn",
            lambda v, p, s, c: (
                _msg(
                    f"Received: from mx by relay.example.com with ESMTP id {v}; Mon, 15 Jul 2002 09:07:52 +0100\r\n",
                    "Hi",
                ),
                e,
            ),
        ),
        "dkim-signature-tag": (
            "card",
            lambda v, p, s, c: (
                _msg(f"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s1; b={v}\r\n", "Hi"),
                e,
            ),
        ),
        "dkim-copied-headers": (
            "card",
            lambda v, p, s, c: (
                _msg(
                    "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s1; t=1700000000;\r\n"
                    f"\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; z=Subject:card=20{v};\r\n"
                    "\tb=dzdVyOfAKCdLXdJOc9G2q8LoXSlEniSbav+yuU4zGeeruD00lszZVoG4ZHRNiYzR\r\n",
                    "Hello",
                ),
                e,
            ),
        ),
        "comments-rfc2047": (
            "card",
            lambda v, p, s, c: (
                _msg(f"Comments: =?utf-8?B?{base64.b64encode(f'card {v}'.encode()).decode()}?=\r\n", "Hello"),
                e,
            ),
        ),
        "content-description": (
            "ssn",
            lambda v, p, s, c: (
                _mixed([f"Content-Type: text/plain\r\nContent-Description: SSN {v}\r\n\r\nsee".encode()]),
                e,
            ),
        ),
        "rfc2231-param": (
            "card",
            lambda v, p, s, c: (
                _mixed([f"Content-Type: text/plain; x-note*=utf-8''card%20{v}\r\n\r\nsee".encode()]),
                e,
            ),
        ),
        "attachment-name": (
            "ssn",
            lambda v, p, s, c: (
                _mixed(
                    [
                        b"Content-Type: text/plain\r\n\r\nhi",
                        f'Content-Type: text/plain; name="SSN {v} {p}.txt"\r\nContent-Disposition: attachment; filename="SSN {v} {p}.txt"\r\n\r\nnotes'.encode(),
                    ]
                ),
                e,
            ),
        ),
        "envelope-mail-from": (
            "card",
            lambda v, p, s, c: (_msg("", "Hello"), Envelope(f"{v}@example.com", ("you@example.org",))),
        ),
        "envelope-rcpt-2": (
            "ssn",
            lambda v, p, s, c: (
                _msg("", "Hello"),
                Envelope("shop@example.com", ("a@example.org", f"ssn-{v}@example.org")),
            ),
        ),
        "preamble": (
            "ssn",
            lambda v, p, s, c: (_mixed([b"Content-Type: text/plain\r\n\r\nhi"], preamble=f"SSN {v}"), e),
        ),
        "epilogue": (
            "card",
            lambda v, p, s, c: (_mixed([b"Content-Type: text/plain\r\n\r\nhi"], epilogue=f"card {v}\r\n"), e),
        ),
        "html-title-attr": ("ssn", lambda v, p, s, c: (_html(f"<p title='SSN {v}'>Hello</p>"), e)),
        "html-input-value": (
            "card",
            lambda v, p, s, c: (_html(f"<form><input value='{_grouped(v, ' ')}'></form>"), e),
        ),
        "html-placeholder": ("ssn", lambda v, p, s, c: (_html(f"<input placeholder='SSN {v}'>"), e)),
        "html-aria-label": ("card", lambda v, p, s, c: (_html(f"<a aria-label='card {v}'>x</a>"), e)),
        "html-data-attr": ("ssn", lambda v, p, s, c: (_html(f"<div data-ssn='SSN {v}'>x</div>"), e)),
        "html-comment": ("ssn", lambda v, p, s, c: (_html(f"<p>Hello</p><!-- SSN {v} -->"), e)),
        "html-conditional-comment": (
            "card",
            lambda v, p, s, c: (_html(f"<!--[if mso]><p>card {v}</p><![endif]--><p>Hello</p>"), e),
        ),
        "html-title-element": (
            "ssn",
            lambda v, p, s, c: (_html(f"<html><head><title>SSN {v}</title></head><body>Hi</body></html>"), e),
        ),
        "html-href-query": (
            "card",
            lambda v, p, s, c: (_html(f"<a href='https://shop.example/confirm?card={v}'>confirm</a>"), e),
        ),
        "html-href-percent": (
            "card",
            lambda v, p, s, c: (_html(f"<a href='https://shop.example/c?card=%3{v[0]}{v[1:]}'>x</a>"), e),
        ),
        "html-mailto-body": (
            "ssn",
            lambda v, p, s, c: (_html(f"<a href='mailto:a@b.example?body=SSN%20{v}'>mail</a>"), e),
        ),
        "html-img-src": (
            "card",
            lambda v, p, s, c: (_html(f"<img src='https://t.example/p.gif?card={v}'>"), e),
        ),
        "html-css-content": (
            "ssn",
            lambda v, p, s, c: (_html(f"<style>.x:after{{content:'SSN {v}'}}</style><p class=x>Hi</p>"), e),
        ),
        "html-hidden-preheader-before-footer": (
            "ssn",
            lambda v, p, s, c: (
                _html(
                    f"<div style='display:none'>SSN {v}</div><p>Hello, your statement for this month is ready in your customer area online.</p><p>ACME SAS RCS Paris 552 100 554 TVA FR40552100554 SIRET 55210055400013</p>"
                ),
                e,
            ),
        ),
        "rfc822-base64": (
            "ssn",
            lambda v, p, s, c: (
                _mixed(
                    [
                        b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                        + base64.encodebytes(f"Subject: fwd\r\n\r\nSSN {v}\r\n".encode())
                    ]
                ),
                e,
            ),
        ),
        "rfc822-qp": (
            "card",
            lambda v, p, s, c: (
                _mixed(
                    [
                        b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                        + quopri.encodestring(f"Subject: fwd\r\n\r\ncard {v}\r\n".encode())
                    ]
                ),
                e,
            ),
        ),
        "uuencode-inline": (
            "ssn",
            lambda v, p, s, c: (_msg("", "see file\n" + _uu(f"SSN {v}\n") + "\nbye"), e),
        ),
        "variation-selectors": ("ssn", lambda v, p, s, c: (_msg("", "SSN " + VS.join(v)), e)),
        "tag-characters": ("card", lambda v, p, s, c: (_msg("", "card " + TAG.join(v)), e)),
        "keycap-marks": (
            "ssn",
            lambda v, p, s, c: (
                _msg("", "SSN " + "".join(ch + VS + KEYCAP if ch.isdigit() else ch for ch in v)),
                e,
            ),
        ),
        "superscript": ("ssn", lambda v, p, s, c: (_msg("", "SSN " + v.translate(_SUP)), e)),
        "circled": ("card", lambda v, p, s, c: (_msg("", "card " + v.translate(_CIRCLED)), e)),
        "mathematical": ("ssn", lambda v, p, s, c: (_msg("", "SSN " + v.translate(_MATH)), e)),
        "card-double-space": ("card", lambda v, p, s, c: (_msg("", "card " + _grouped(v, "  ")), e)),
        "card-underscores": ("card", lambda v, p, s, c: (_msg("", "card " + _grouped(v, "_")), e)),
        "card-dots": ("card", lambda v, p, s, c: (_msg("", "card " + _grouped(v, "..")), e)),
        "spaced-digits": (
            "ssn",
            lambda v, p, s, c: (_msg("", "SSN " + " ".join(v).replace(" - ", " - ")), e),
        ),
        "line-wrap": ("ssn", lambda v, p, s, c: (_msg("", f"Your SSN is {v[:7]}\n{v[7:]} thanks"), e)),
        "line-wrap-quoted": ("ssn", lambda v, p, s, c: (_msg("", f"> Your SSN is {v[:7]}\n> {v[7:]}"), e)),
        "br-wrap": (
            "card",
            lambda v, p, s, c: (_html(f"<p>card {_grouped(v, ' ')[:9]}<br>{_grouped(v, ' ')[10:]}</p>"), e),
        ),
        "table-cells": (
            "ssn",
            lambda v, p, s, c: (
                _html(
                    "<p>SSN</p><table><tr>"
                    + "".join(f"<td>{d}</td>" for d in v if d.isdigit())
                    + "</tr></table>"
                ),
                e,
            ),
        ),
        "iban-in-data-attr": ("iban", lambda v, p, s, c: (_html(f"<span data-iban='{v}'>pay</span>"), e)),
        "iban-zero-width": ("iban", lambda v, p, s, c: (_msg("", "IBAN " + "\u200b".join(v)), e)),
    }


def _uu(text: str) -> str:
    import binascii

    data = text.encode()
    lines = [binascii.b2a_uu(data[i : i + 45]).decode().rstrip("\n") for i in range(0, len(data), 45)]
    return "begin 644 ssn.txt\n" + "\n".join(lines) + "\n`\nend"


def _lookalikes(fake: Faker, rnd: random.Random) -> Iterator[tuple[str, bytes]]:
    order = str(rnd.randrange(10**8, 10**9))
    phone = " ".join(f"{rnd.randrange(100):02d}" for _ in range(5))
    yield (
        "order-in-url",
        _html(
            f"<a href='https://shop.example/orders?id={order}&ts={rnd.randrange(1_700_000_000_000, 1_800_000_000_000)}'>Order {order}</a>"
        ),
    )
    yield (
        "tracking-attr",
        _html(
            f"<img src='https://t.example/o.gif?u={rnd.randrange(10**9, 10**10)}&c={rnd.randrange(10**9)}'>"
        ),
    )
    yield "phone-header", _msg(f"X-Phone: 06 {phone[3:]}\r\n", f"Call us: 01 {phone[3:]}")
    yield "date-header", _msg(f"X-Sent: {fake.date_time().isoformat()}\r\n", "Hello")
    ip = fake.ipv4()
    stamp = fake.date_time().strftime("%a, %d %b %Y %H:%M:%S +0000")
    yield (
        "received-chain",
        _msg(
            f"Received: from mail{rnd.randrange(1, 99)}.example.net ([{ip}]) by mx.example.com"
            f" (8.11.6/8.11.6) with ESMTP id g{rnd.randrange(10**6, 10**7)}C{rnd.randrange(10**4, 10**5)}"
            f" for <you@example.org>; {stamp}\r\n"
            f"Received: (qmail {rnd.randrange(1000, 99999)} invoked by uid {rnd.randrange(0, 2000)}); {stamp}\r\n"
            f"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s{rnd.randrange(1, 9)};"
            f" t={rnd.randrange(10**9, 2 * 10**9)}; bh={base64.b64encode(rnd.randbytes(32)).decode()};\r\n"
            f"\tb={base64.b64encode(rnd.randbytes(64)).decode()}\r\n",
            "Hello",
        ),
    )
    yield (
        "invoice-name",
        _mixed(
            [
                b"Content-Type: text/plain\r\n\r\nhi",
                f'Content-Type: text/plain; name="invoice-{order}.txt"\r\n\r\nthanks'.encode(),
            ]
        ),
    )
    yield "masked-card", _msg("", f"card ending **** **** **** {rnd.randrange(1000, 9999)}")
    yield "pagination", _html("<p>Pages: " + " ".join(str(i) for i in range(1, 10)) + "</p>")
    yield (
        "amount-table",
        _html(
            "<table>"
            + "".join(
                f"<tr><td>{rnd.randrange(100)}.{rnd.randrange(100):02d}</td><td>{rnd.randrange(1000)}</td></tr>"
                for _ in range(8)
            )
            + "</table>"
        ),
    )
    yield (
        "quoted-prices",
        _msg(
            "",
            "> Total 12.50\n> 3 items\n"
            + "\n".join(f"{rnd.randrange(1000)} x {rnd.randrange(100)}" for _ in range(5)),
        ),
    )
    yield (
        "siret-footer",
        _html(f"<p>Hello {fake.first_name()}</p><p>ACME SAS SIRET 55210055400013 TVA FR40552100554</p>"),
    )


def generate(seed: int = 10, rounds: int = 3) -> list[Case]:
    """`rounds` positives per evasion (different values), and look-alikes, from a fixed seed."""
    fake = Faker(["en_US"])
    Faker.seed(seed)
    rnd = random.Random(seed)
    random.seed(seed)
    cases: list[Case] = []
    for r in range(rounds):
        s, c, i = _ssn(fake), _card(fake), _iban(fake)
        person = fake.name()
        for name, (which, build) in _positives().items():
            value = {"ssn": s, "card": c, "iban": i}[which]
            data, env = build(value, person, s, c)
            cases.append(Case(f"{name}#{r}", data, value, True, env))
        for name, data in _lookalikes(fake, rnd):
            cases.append(Case(f"lookalike-{name}#{r}", data, "", False))
    return cases
