"""What an envelope address may contain, checked once at the SMTP edge. Pure.

An address that passes here can be stored, shown, logged by reference and written into a header
line of an outbox file without escaping surprises; one that fails is refused at MAIL or RCPT with
a 5xx that names the problem, so the client learns it at once instead of retrying a message we
could never hold or relay (a surrogate-escaped ``\\xff`` cannot be encoded for the database: it
used to earn ``451`` forever).

- RFC 5321 §2.3.8 / §4.1.2: CR and LF occur only together, as the end of a command line; a
  bare CR or LF inside a path is not SMTP (and would split a header written from it).
- RFC 5321 §4.1.2: a path is printable characters; NUL and other C0 controls are never part of a
  Mailbox (quoted strings allow only %d32-126 and escaped ones of the same range).
- RFC 6531 §3.3: non-ASCII characters in a path must be well-formed UTF-8; §3.4: they may only
  appear in a transaction that used the SMTPUTF8 parameter on MAIL (otherwise ``553 5.6.7``,
  RFC 6531 §3.5 / the X.6.7 enhanced status code).

aiosmtpd hands us command arguments decoded as UTF-8 with ``surrogateescape``: a lone surrogate
in U+DC80..U+DCFF is an input byte that was not valid UTF-8.
"""

from __future__ import annotations

import re
from typing import Literal

from scanner.model import Envelope

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_NON_ASCII = re.compile("[^\x00-\x7f]")

_CONTROL_NAMES = {"\r": "a CR", "\n": "an LF", "\x00": "a NUL byte", "\t": "a TAB", "\x7f": "a DEL"}

Role = Literal["sender", "recipient"]

# RFC 3463: X.1.7 bad sender's mailbox address syntax, X.1.3 bad destination mailbox address syntax
_SYNTAX_REPLY = {
    "sender": "501 5.1.7 Bad sender address syntax: contains {what}",
    "recipient": "501 5.1.3 Bad destination mailbox address syntax: contains {what}",
}
_UTF8_REPLY = {
    "sender": "553 5.6.7 Non-ASCII sender address without SMTPUTF8 (RFC 6531)",
    "recipient": "553 5.6.7 Non-ASCII recipient address without SMTPUTF8 (RFC 6531)",
}


def address_problem(address: str, *, smtputf8: bool, role: Role) -> str | None:
    """The SMTP reply refusing `address`, or None when it may be used.

    The reply names the problem (which byte class) but never echoes the address itself.
    """
    if _SURROGATE.search(address):
        return _SYNTAX_REPLY[role].format(what="invalid UTF-8")
    m = _CONTROL.search(address)
    if m is not None:
        ch = m.group(0)
        what = _CONTROL_NAMES.get(ch, f"a control character (0x{ord(ch):02x})")
        return _SYNTAX_REPLY[role].format(what=what)
    if not smtputf8 and _NON_ASCII.search(address):
        return _UTF8_REPLY[role]
    return None


def header_safe(value: str) -> str:
    """`value` with what must never reach a header line replaced: CR, LF, NUL and other controls
    become a space, undecodable bytes U+FFFD. For addresses stored before the edge checked them."""
    return _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", value))


def envelope_problem(envelope: Envelope) -> str | None:
    """The first refusal `address_problem` finds in a stored envelope (held before this module
    checked the edge), so that release or a notice never relays what the edge would refuse."""
    utf8 = any(o.upper() == "SMTPUTF8" for o in envelope.mail_options)
    problem = address_problem(envelope.mail_from, smtputf8=utf8, role="sender")
    for rcpt in envelope.rcpt_tos:
        problem = problem or address_problem(rcpt, smtputf8=utf8, role="recipient")
    return problem
