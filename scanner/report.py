"""What the customer reads: the 550 5.7.1 rejection reply and the PII-Scan-* tag headers. Pure.

Only masked forms and locations ever appear here (a location names a file only masked, see
`scanner.extract.headers.masked_name`). RFC 5321 §4.5.3.1.5 caps a reply line at 512 octets
including CRLF; we keep lines far shorter and cap the number of finding lines.

What was not read (`Unscanned` findings) is said in every answer: in the 550 reply after the
findings that drove it, in the held reply (``held for review as REF; not read: text_limit``),
and in a ``PII-Scan-Unscanned`` header on tagged mail -- where and why, never content.
"""

from __future__ import annotations

from scanner.model import Finding, Unscanned, Verdict

MAX_FINDING_LINES = 8
_MAX_LINE = 400  # well inside the 512-octet reply-line limit


def _finding_line(f: Finding) -> str:
    line = f"{f.category} ({f.group.value}) in {f.location}: {f.masked}"
    return line[:_MAX_LINE]


def rejection_reply(verdict: Verdict, reference: str) -> str:
    """A multi-line ``550 5.7.1`` reply (lines joined with CRLF, as aiosmtpd pushes it)."""
    shown = verdict.reasons or verdict.findings
    unread = [f for f in verdict.findings if Unscanned.of(f) is not None and f not in shown]
    shown = (*shown, *unread)
    lines = [f"Message refused: it contains personal data that may not be sent (ref {reference})"]
    lines += [_finding_line(f) for f in shown[:MAX_FINDING_LINES]]
    if len(shown) > MAX_FINDING_LINES:
        lines.append(f"... and {len(shown) - MAX_FINDING_LINES} more")
    lines.append("Remove or mask these values (e.g. last 4 digits only) and send again")
    out = [f"550-5.7.1 {text}" for text in lines[:-1]]
    out.append(f"550 5.7.1 {lines[-1]}")
    return "\r\n".join(out)


def _unread(verdict: Verdict) -> list[tuple[str, str]]:
    """(location, kind) of what was not read, ASCII only (header- and reply-safe)."""
    out: dict[tuple[str, str], None] = {}
    for f in verdict.findings:
        kind = Unscanned.of(f)
        if kind is not None:
            out[(f.location.encode("ascii", "replace").decode("ascii"), kind.value)] = None
    return list(out)


def held_reply(verdict: Verdict, reference: str) -> str:
    """``250 2.0.0`` for a held message; names the kinds of text not read, if any."""
    kinds = sorted({kind for _, kind in _unread(verdict)})
    why = f"; not read: {', '.join(kinds)}" if kinds else ""
    return f"250 2.0.0 Ok: held for review as {reference}{why}"


def summary(verdict: Verdict) -> str:
    """``PAYMENT_CARD=2, US_SSN=1``: categories and counts, for the PII-Scan-Categories header."""
    return ", ".join(f"{cat}={n}" for cat, n in verdict.category_counts().items()) or "none"


def tag_headers(verdict: Verdict, reference: str) -> list[tuple[str, str]]:
    """The ``PII-Scan-*`` headers added to a tagged (or passed) message."""
    groups = sorted({f.group.value for f in verdict.findings})
    fields = [
        ("PII-Scan-Result", verdict.action.value),
        ("PII-Scan-Groups", ", ".join(groups) or "none"),
        ("PII-Scan-Categories", summary(verdict)),
        ("PII-Scan-Reference", reference),
    ]
    unread = _unread(verdict)
    if unread:
        listed = ", ".join(f"{where} ({kind})" for where, kind in unread[:MAX_FINDING_LINES])
        more = f", and {len(unread) - MAX_FINDING_LINES} more" if len(unread) > MAX_FINDING_LINES else ""
        fields.append(("PII-Scan-Unscanned", (listed + more)[:_MAX_LINE]))
    return fields
