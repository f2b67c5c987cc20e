"""Header fields, file names and the envelope as text a recipient receives. Pure, no I/O.

A recipient's client shows display names (``From: "SSN 536-22-8843" <a@b>``), ``Comments``,
``Content-Description``, X-headers on "show original", file names, and the envelope addresses
(the bounce address, the recipient list of a BCC-less blast); all of them are scanned.

Locations name the field, never its value: ``header:From``, ``header:X-Note``,
``body[2]/header:Content-Description`` (a part's own fields), ``envelope:mail-from``,
``envelope:rcpt[2]``. A file name appears in a location only masked (`masked_name`): every word
holding a digit becomes stars, so ``SSN 536-22-8843 Jane Roe.txt`` is shown as
``SSN ***-**-**** Jane Roe.txt`` in replies, logs, headers and the console, while the name itself
is scanned in clear as its own segment (``attachment[2:<masked>]/name``).

Only values that can hold an identifier become segments (a digit, or a character outside ASCII
that normalisation may fold into one): most header fields hold neither, and every segment costs
the detectors a pass. Values are decoded as a client shows them: RFC 2047 encoded words, raw
UTF-8 (RFC 6532), RFC 2231 parameter continuations and charsets.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from email.message import Message
from email.utils import collapse_rfc2231_value
from urllib.parse import unquote

from scanner.extract.mime import decode_header_value
from scanner.model import Envelope

__all__ = ["envelope_texts", "first_header", "header_texts", "masked_name"]

# What the scanner reads elsewhere (the subject), or what carries no sender text: transfer and
# version fields, and MIME structure whose parameters are read below.
_NOT_TEXT = frozenset({"subject", "content-transfer-encoding", "mime-version"})
# Trace and signature fields (RFC 5321 §4.4, RFC 6376, RFC 8617, RFC 8601): written by relays on
# the way and digit-dense (addresses, dates, queue ids, base64), but a sender can write them too
# and "show original" shows them. What relays write is blanked (same length, so offsets hold) and
# the rest is read when it still has five digits: reading them whole cost as much as every other
# header together on the ham corpus. A blank must never hide a value, so:
# - a dotted quad and a date-time (month name between its numbers) are always blanked: the
#   detectors find nothing in either shape wherever it stands (tests/extract/test_headers_trace.py);
# - a queue id, a ``(8.11.6/8.11.6)`` version, an IPv6 literal and the b=/bh=/t=/x= tags are
#   blanked only when they hold no number as long as an identifier (nine digits, single
#   separators allowed): ``id 536-22-8843`` is read as written.
_TRACE = frozenset(
    {"received", "x-received", "return-path", "dkim-signature", "domainkey-signature",
     "x-google-dkim-signature", "arc-seal", "arc-message-signature", "arc-authentication-results",
     "authentication-results", "received-spf", "delivered-to", "x-original-to"}
)  # fmt: skip
_DATE_TIME_PATTERN = (
    r"(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[+-]\d{4})?"
)
_TRACE_SYNTAX = re.compile(
    rf"""(?=[\[\d(]|[A-Za-z][A-Za-z]{{2}},|id\s|bh?=|[tx]=)     # how every match below begins:
    # most positions fail this quick test instead of trying every alternative (twice as fast)
    (?:(?P<shape>\[?\b\d{{1,3}}(?:\.\d{{1,3}}){{3}}\b\]?             # IPv4 address or literal
      |{_DATE_TIME_PATTERN})                                        # RFC 5322 date-time
    |(?P<token>\[IPv6:[0-9a-fA-F:.]+\]                             # IPv6 literal
      |\bid\s+<?[\w.$@+/=-]+>?                                     # queue id
      |\(\s*[\w.-]*\d[\w.-]*/[\w.-]*\d[\w.-]*\s*\)                  # (8.11.6/8.11.6)
      |\b(?:b|bh|t|x)=[\w+/=\s]+))                                  # signature, body hash, times
    """,
    re.VERBOSE,
)
_LONG_NUMBER = re.compile(r"\d(?:[-. ]?\d){8}")
# what is left must have five digits to be read. `\D*+` is possessive: \D and \d are disjoint,
# so giving non-digits back could never let \d match; it only cost a failing match (most blanked
# values) a second walk back over each run
_ENOUGH_DIGITS = re.compile(r"(?:\D*+\d){5}")
# DKIM's z= tag (copied header fields) is quoted-printable; only its value is decoded
_Z_TAG = re.compile(r"\bz=[^;]*")
_QUOTED = re.compile(r"=([0-9A-Fa-f]{2})")
# Date and Resent-Date: their date-time is blanked as in a trace field (a comment or any other
# text beside it is still read); every message has one, and it is digits only
_DATE_FIELDS = frozenset({"date", "resent-date"})
_DATE_TIME = re.compile(_DATE_TIME_PATTERN)


def _blank(m: re.Match[str]) -> str:
    return " " * (m.end() - m.start())


def _blank_trace(m: re.Match[str]) -> str:
    if m.lastgroup == "token" and _LONG_NUMBER.search(m.group()):
        return m.group()  # a sender's number in a relay's place: read as written
    return _blank(m)


def _unquote_tag(m: re.Match[str]) -> str:
    return "z=" + _QUOTED.sub(lambda q: chr(int(q.group(1), 16)), m.group()[2:])


def _trace_text(value: str) -> str:
    """A trace or signature field with what relays write blanked and DKIM's ``=XX`` escapes
    decoded ("" if nothing is left that could hold an identifier)."""
    if not _ENOUGH_DIGITS.match(value):
        return ""
    left = _TRACE_SYNTAX.sub(_blank_trace, value)
    if "z=" in left:
        left = _Z_TAG.sub(_unquote_tag, left)
    return left if _ENOUGH_DIGITS.match(left) else ""


_PARAM_FIELDS = frozenset({"content-type", "content-disposition"})
# parameters that are structure, not text (the file name is scanned as the part's name)
_STRUCTURAL_PARAMS = frozenset({"boundary", "charset", "filename", "name", "format", "delsp", "type"})
_WORTH = re.compile(r"[0-9\x80-\U0010ffff]")
_MAX_FIELDS = 1000  # header fields read per message or part (RFC 5322 sets no limit)
_MAX_VALUE = 16384  # characters read per field value
_ADDRESS_GLUE = re.compile(r"(?<=[^\W\d_])[-._+=]+(?=\d)|(?<=\d)[._+=]+(?=[^\W\d_])|[@<>]")
_NAME_WORD = re.compile(r"[^\s._\-()+,;]+")
_FIELD_NAME = re.compile(r"[^\x21-\x39\x3b-\x7e]")  # RFC 5322 §3.6.8 ftext


def _field_name(name: str) -> str:
    """The field name as written (printable, no colon, bounded): it is ours to show, not data."""
    return _FIELD_NAME.sub("?", name)[:60] or "?"


def header_texts(msg: Message, skip_params: bool = False) -> Iterator[tuple[str, str]]:
    """(``header:<Name>``, decoded value) for every field of `msg` worth scanning.

    `skip_params` leaves out Content-Type/-Disposition (already read for this message).
    """
    for i, (name, raw) in enumerate(msg.raw_items()):
        if i >= _MAX_FIELDS:
            return
        lname = name.lower()
        if lname in _NOT_TEXT:
            continue
        if lname in _PARAM_FIELDS:
            if skip_params:
                continue
            value = _param_text(msg, lname)
            if value and _WORTH.search(value):
                yield f"header:{_field_name(name)}", value
            continue
        text = str(raw)[:_MAX_VALUE]
        if "=?" not in text and not _WORTH.search(text):
            # ASCII, no digit, no encoded word: decoding only unfolds it, so it stays unworthy
            continue
        if lname in _TRACE:
            value = _trace_text(decode_header_value(text))
        elif lname in _DATE_FIELDS:
            value = _DATE_TIME.sub(_blank, decode_header_value(text))
        else:
            value = decode_header_value(text)
        if value and _WORTH.search(value):
            yield f"header:{_field_name(name)}", value


def _param_text(msg: Message, header: str) -> str:
    """The non-structural parameters of Content-Type/-Disposition, decoded: RFC 2231
    continuations (``name*0*``, ``name*1*``) joined, charsets and percent-encoding applied."""
    params: list[tuple[str, object]] = list(msg.get_params(header=header, unquote=True) or [])
    joined: dict[str, list[tuple[int, str, bool]]] = {}
    for key, value in params[1:]:
        base, _, rest = key.partition("*")
        if base.lower() in _STRUCTURAL_PARAMS:
            continue
        text = collapse_rfc2231_value(value) if isinstance(value, tuple) else str(value)
        index = rest.rstrip("*")
        joined.setdefault(base, []).append((int(index) if index.isdigit() else 0, text, key.endswith("*")))
    out: list[str] = []
    for base, parts in joined.items():
        parts.sort(key=lambda p: p[0])
        charset = "utf-8"
        if parts[0][2] and parts[0][1].count("'") >= 2:  # RFC 2231 §4: charset'language'value
            charset, _, first = parts[0][1].split("'", 2)
            parts[0] = (0, first, True)
        codec = _codec_or_utf8(charset)
        text = "".join(unquote(t, encoding=codec, errors="replace") if enc else t for _, t, enc in parts)
        out.append(f"{base}={decode_header_value(text)}")
    return "\n".join(out)


def _codec_or_utf8(label: str) -> str:
    try:
        return codecs.lookup(label).name if label else "utf-8"
    except LookupError:
        return "utf-8"


def envelope_texts(envelope: Envelope) -> Iterator[tuple[str, str]]:
    """(``envelope:mail-from`` / ``envelope:rcpt[N]``, address) for addresses worth scanning.

    An address is words glued by punctuation (``ssn-536-22-8843@``, ``card.4111…``): a
    separator between a letter and a digit is read as a space, so a number glued to a word
    stands alone, as a reader splits it."""
    if _WORTH.search(envelope.mail_from):
        yield "envelope:mail-from", _unglued(envelope.mail_from)
    for i, rcpt in enumerate(envelope.rcpt_tos, 1):
        if _WORTH.search(rcpt):
            yield f"envelope:rcpt[{i}]", _unglued(rcpt)


def _unglued(address: str) -> str:
    """Glue characters as spaces, one for one: offsets stay those of the address as received."""
    return _ADDRESS_GLUE.sub(lambda m: " " * len(m[0]), address)


def masked_name(name: str) -> str:
    """A file name fit for a location: every word that holds a digit (any script) becomes stars."""
    return _NAME_WORD.sub(lambda m: "*" * len(m[0]) if any(c.isnumeric() for c in m[0]) else m[0], name)


def first_header(data: bytes, name: str, limit: int = 65536) -> str | None:
    """The first value of header `name` in the header block of raw message bytes, unfolded.

    Linear and C-bound (one regex search over at most `limit` bytes), so it is safe to call on
    the event loop for any message: unlike a full header parse it does no per-field Python work.
    """
    head = data[:limit]
    end = head.find(b"\r\n\r\n")
    if end >= 0:
        head = head[: end + 2]
    field = re.compile(
        rb"(?im)^" + re.escape(name.encode("ascii", "replace")) + rb"[ \t]*:(.*(?:\r?\n[ \t].*)*)"
    )
    m = field.search(head)
    if m is None:
        return None
    return re.sub(r"\s+", " ", m.group(1).decode("utf-8", "replace")).strip()
