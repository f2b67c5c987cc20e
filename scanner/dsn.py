"""RFC 3461 Delivery Status Notification parameters: parsing, validation and the typed view. Pure.

The SMTP edge splits ``RET``/``ENVID`` (MAIL) and ``NOTIFY``/``ORCPT`` (RCPT) off the command
before aiosmtpd sees it (aiosmtpd refuses every parameter it does not know with 555 and upper-cases
the rest, which would corrupt ``ENVID`` and ``ORCPT``: both are case-preserving xtext). Accepted
parameters are kept on the `Envelope` in their wire form, keyword upper-cased and value as sent,
next to the other MAIL/RCPT options: the relay passes them on verbatim when the upstream
advertises DSN, and the quarantine stores them with the envelope so a release carries them.

Limits (RFC 3461): §4.3 RET=FULL|HDRS; §4.4 ENVID xtext, at most 100 characters; §4.1 NOTIFY=NEVER
or a comma list of SUCCESS, FAILURE, DELAY; §4.2 ORCPT=addr-type ";" xtext, at most 500
characters; each parameter at most once per command. §4: a malformed value is a syntax error
(501 5.5.4, RFC 3463), an unknown parameter is 555 5.5.4 (RFC 5321 §4.1.1.11).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from scanner.model import Envelope

MAIL_KEYWORDS = frozenset({"RET", "ENVID"})
RCPT_KEYWORDS = frozenset({"NOTIFY", "ORCPT"})
_NOTIFY_VALUES = frozenset({"SUCCESS", "FAILURE", "DELAY"})
_MAX_ENVID = 100
_MAX_ORCPT = 500
# RFC 3461 §4: xchar is any ASCII 33..126 except "+" and "="; "+" introduces two upper-case hex digits
_XTEXT = re.compile(r"(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})*")
_ADDR_TYPE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")


class DsnSyntaxError(ValueError):
    """A DSN parameter the client sent is malformed; `reply` is the SMTP answer."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


def _bad(what: str) -> DsnSyntaxError:
    return DsnSyntaxError(f"501 5.5.4 Invalid {what} parameter (RFC 3461)")


def is_xtext(value: str) -> bool:
    return _XTEXT.fullmatch(value) is not None


def xtext_decode(value: str) -> str:
    """``+2B`` -> ``+``; the value must already be valid xtext."""
    return re.sub(r"\+([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), value)


def xtext_encode(value: str) -> str:
    """RFC 3461 §4: every character outside xchar as ``+XX`` (non-ASCII as its UTF-8 bytes)."""
    out = []
    for byte in value.encode("utf-8"):
        ch = chr(byte)
        out.append(ch if 33 <= byte <= 126 and ch not in "+=" else f"+{byte:02X}")
    return "".join(out)


def _check(keyword: str, value: str) -> str:
    """The canonical wire form of one DSN parameter, or `DsnSyntaxError`."""
    if keyword == "RET":
        if value.upper() not in ("FULL", "HDRS"):
            raise _bad("RET")
        return f"RET={value.upper()}"
    if keyword == "ENVID":
        if not value or len(value) > _MAX_ENVID or not is_xtext(value):
            raise _bad("ENVID")
        return f"ENVID={value}"
    if keyword == "NOTIFY":
        items = [v.upper() for v in value.split(",")]
        if items == ["NEVER"]:
            return "NOTIFY=NEVER"
        if not items or len(set(items)) != len(items) or not set(items) <= _NOTIFY_VALUES:
            raise _bad("NOTIFY")
        return f"NOTIFY={','.join(items)}"
    addr_type, sep, addr = value.partition(";")
    if not sep or not _ADDR_TYPE.fullmatch(addr_type) or not addr or len(value) > _MAX_ORCPT:
        raise _bad("ORCPT")
    if not is_xtext(addr):
        raise _bad("ORCPT")
    return f"ORCPT={addr_type};{addr}"


def split_params(params: str, keywords: frozenset[str]) -> tuple[str, tuple[str, ...]]:
    """Split `params` (what follows the path) into the others, as sent, and our DSN ones, checked.

    Raises `DsnSyntaxError` for a malformed or repeated DSN parameter.
    """
    others: list[str] = []
    dsn: list[str] = []
    seen: set[str] = set()
    for token in params.split():
        keyword, _, value = token.partition("=")
        key = keyword.upper()
        if key not in keywords:
            others.append(token)
            continue
        if key in seen:
            raise DsnSyntaxError(f"501 5.5.4 Duplicate {key} parameter (RFC 3461)")
        seen.add(key)
        dsn.append(_check(key, value))
    return " ".join(others), tuple(dsn)


def split_path(arg: str) -> tuple[str, str]:
    """``<a@b> X=1`` -> (``<a@b>``, ``X=1``): the reverse/forward path, then its parameters.

    RFC 5321 §4.1.2: a path is ``<...>``, where a quoted local-part may hold spaces and ``>``.
    Without angle brackets (tolerated by aiosmtpd) the path is the first word.
    """
    text = arg.lstrip()
    if not text.startswith("<"):
        path, _, rest = text.partition(" ")
        return path, rest
    quoted = escaped = False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ">" and not quoted:
            return text[: i + 1], text[i + 1 :].strip()
    return text, ""


@dataclass(frozen=True, slots=True)
class RecipientDsn:
    """One recipient's DSN request: NOTIFY (empty: not given, the MTA's default) and ORCPT."""

    notify: tuple[str, ...] = ()
    orcpt: str | None = None  # "rfc822;a@b", xtext as sent

    def wants_failure(self) -> bool:
        """RFC 3461 §4.1: no NOTIFY means the default, which reports failures."""
        return not self.notify or "FAILURE" in self.notify


@dataclass(frozen=True, slots=True)
class EnvelopeDsn:
    ret: str | None
    envid: str | None  # xtext as sent
    recipients: tuple[RecipientDsn, ...]


def _value(options: Sequence[str], keyword: str) -> str | None:
    prefix = keyword + "="
    for opt in options:
        if opt.upper().startswith(prefix):
            return opt[len(prefix) :]
    return None


def dsn_of(envelope: Envelope) -> EnvelopeDsn:
    """The DSN parameters kept on `envelope` (see the module docstring)."""
    recipients = []
    for i in range(len(envelope.rcpt_tos)):
        opts = envelope.rcpt_options[i] if i < len(envelope.rcpt_options) else ()
        notify = _value(opts, "NOTIFY")
        recipients.append(
            RecipientDsn(tuple(notify.upper().split(",")) if notify else (), _value(opts, "ORCPT"))
        )
    ret = _value(envelope.mail_options, "RET")
    return EnvelopeDsn(
        ret.upper() if ret else None, _value(envelope.mail_options, "ENVID"), tuple(recipients)
    )


def is_dsn_param(option: str) -> bool:
    return option.partition("=")[0].upper() in MAIL_KEYWORDS | RCPT_KEYWORDS
