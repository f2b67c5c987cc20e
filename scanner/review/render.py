"""Turn a held message into what a reviewer may see. Pure and synchronous: bytes in, dataclasses out.

The text comes from `scanner.extract.extract`, so the findings' offsets (computed on that
extraction) land on the same characters. Masking fails closed: if a finding cannot be placed on
the text (unknown location, offsets out of range), no text is shown at all rather than risk
showing a value in clear.

Attachments are described (name, type, size), never decoded for display.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from scanner.extract import extract
from scanner.extract.headers import masked_name
from scanner.model import Finding, Group, Segment, SegmentKind

# headers shown to reviewers; anything else may carry data we were not asked to scan
SHOWN_HEADERS = ("From", "To", "Cc", "Reply-To", "Date", "Subject", "Message-ID", "Content-Type")


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of text, or a finding (then `text` is its masked form, or its value when revealed)."""

    text: str
    finding: Finding | None = None


@dataclass(frozen=True, slots=True)
class ShownSegment:
    location: str
    kind: SegmentKind
    pieces: tuple[Piece, ...]

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.pieces)


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class MessageView:
    headers: tuple[tuple[str, str], ...]
    hidden_headers: int
    segments: tuple[ShownSegment, ...]
    attachments: tuple[Attachment, ...]
    # False when findings could not be placed on the text: the text is withheld
    text_shown: bool


def segments_for(data: bytes) -> list[Segment]:
    """The message's decoded segments, as the scanner saw them."""
    return list(extract(data).segments)


def build_view(data: bytes, findings: Sequence[Finding], *, reveal: bool = False) -> MessageView:
    """Headers, text with each finding masked (or revealed) and the attachment list."""
    msg = _parse(data)
    segments = segments_for(data)
    placed = place_findings(segments, findings)
    shown: tuple[ShownSegment, ...] = ()
    if placed is not None or reveal:
        # revealing is explicitly authorised and audited: show the text even if the findings
        # cannot be placed on it (then without highlights)
        placed = placed or {}
        shown = tuple(
            ShownSegment(s.location, s.kind, tuple(_pieces(s.text, placed.get(s.location, []), reveal)))
            for s in segments
        )
    headers, hidden = _headers(msg, shown)
    return MessageView(headers, hidden, shown, tuple(_attachments(msg)), bool(shown) or not segments)


def place_findings(
    segments: Sequence[Segment], findings: Iterable[Finding]
) -> dict[str, list[Finding]] | None:
    """Findings per segment location, sorted and non-overlapping; None if any cannot be placed."""
    by_location = {s.location: s for s in segments}
    out: dict[str, list[Finding]] = {}
    for f in findings:
        if f.group is Group.UNSCANNED or f.location.startswith("envelope:"):
            continue  # not a span of the text: unread text, or the envelope (shown apart)
        seg = by_location.get(f.location)
        if seg is None or not 0 <= f.start < f.end <= len(seg.text):
            return None
        out.setdefault(f.location, []).append(f)
    for loc, fs in out.items():
        fs.sort(key=lambda f: (f.start, -f.end))
        merged: list[Finding] = []
        for f in fs:
            if merged and f.start < merged[-1].end:
                # overlapping detections: keep the widest span so no part of either shows
                if f.end > merged[-1].end:
                    prev = merged[-1]
                    merged[-1] = _widen(prev, f.end)
                continue
            merged.append(f)
        out[loc] = merged
    return out


def _widen(f: Finding, end: int) -> Finding:
    return Finding(f.category, f.group, f.location, f.start, end, f.score, f.confidence, f.masked)


def _pieces(text: str, findings: Sequence[Finding], reveal: bool) -> list[Piece]:
    pieces: list[Piece] = []
    pos = 0
    for f in findings:
        if f.start > pos:
            pieces.append(Piece(text[pos : f.start]))
        pieces.append(Piece(text[f.start : f.end] if reveal else f.masked, f))
        pos = f.end
    if pos < len(text):
        pieces.append(Piece(text[pos:]))
    return pieces


def _parse(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _headers(msg: EmailMessage, shown: Sequence[ShownSegment]) -> tuple[tuple[tuple[str, str], ...], int]:
    subject = next((s.text for s in shown if s.kind is SegmentKind.SUBJECT), None)
    # header fields are scanned text too: shown in their masked form when they had a finding
    masked = {
        s.location: s.text for s in shown if s.kind is SegmentKind.HEADER and any(p.finding for p in s.pieces)
    }
    out: list[tuple[str, str]] = []
    for name in SHOWN_HEADERS:
        for value in msg.get_all(name, []):
            if f"header:{name}" in masked:
                value = masked[f"header:{name}"]
            if name == "Subject":
                # the subject is scanned text: show it only in its masked form
                value = subject if subject is not None else "(withheld)"
            out.append((name, str(value)))
    hidden = sum(1 for k in msg if k.title() not in SHOWN_HEADERS)
    return tuple(out), hidden


def _attachments(msg: EmailMessage) -> Iterable[Attachment]:
    for part in msg.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        if filename is None and part.get_content_disposition() != "attachment":
            continue
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
        # a file name is sender text: shown masked, as in every location
        yield Attachment(masked_name(filename) if filename else "(unnamed)", part.get_content_type(), size)
