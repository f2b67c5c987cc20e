"""What a reviewer may see of a held message, computed once when it is held. Pure and synchronous.

The console never parses a held message to show it: `build_view` runs at hold time (in a
thread, bounded) and its `MessageView` is sealed and stored beside the message
(`quarantine_views`). Opening a message then costs one row read and one decryption, whatever the
sender put in it. Only an audited *reveal* (reviewers and admins, with a reason) builds a view
again, with the values in clear, under the same bounds.

Bounds (a hostile message must cost little to show): the MIME input is cut after its first
`MAX_VIEW_BYTES` and before the `MAX_BOUNDARY_LINES`-th line starting with ``--`` (so 200,000
empty parts parse as ~1,000), the
part list keeps `MAX_PARTS` rows, each excerpt `MAX_EXCERPT_CHARS` characters and all of them
`MAX_TOTAL_CHARS`; the header block read is `MAX_HEADER_BYTES`.

Masking fails closed, per segment: the text comes from `scanner.extract.extract` (the function
the scanner ran, so the findings' offsets land on the same characters); a segment whose findings
cannot be placed on it is withheld, and when a finding names a place we did not rebuild, all text
is withheld. A MEDICAL_RECORD finding masks its whole neighbourhood (`RECORD_REACH` characters
either side, to line ends): the diagnosis alone is not the record, the person's name and date of
birth beside it are. Header values are shown only as scanned text (with their findings masked);
an address header that was not scanned shows its addresses without display names, other
unscanned values are withheld. Attachments are listed with what was found in them, never shown.

The stored form (sealed JSON) is `scanner.quarantine.view_codec`.

Everything sender-written passes through `shown` (lone surrogates, controls and bidirectional
overrides made visible) so that a page cannot be reordered or broken by the text it displays.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime

from scanner.extract import extract
from scanner.extract.headers import envelope_texts, masked_name
from scanner.extract.mime import decode_header_value
from scanner.model import Envelope, Finding, Group, Segment, SegmentKind

MAX_BOUNDARY_LINES = 1000
# a larger message is shown from its beginning only: reading all of it in the proxy's CPU thread
# held the GIL (and so the event loop) up to 30 ms per C call for a 10 MB message
MAX_VIEW_BYTES = 1024 * 1024
MAX_PARTS = 500
MAX_EXCERPT_CHARS = 20_000
MAX_TOTAL_CHARS = 200_000
MAX_HEADER_BYTES = 256 * 1024
MAX_HEADER_CHARS = 2000
RECORD_REACH = 300
ADDRESS_HEADERS = ("From", "To", "Cc", "Reply-To")
SHOWN_HEADERS = ("From", "To", "Cc", "Reply-To", "Date", "Subject", "Message-ID", "Content-Type")

_CANONICAL = {name.lower(): name for name in SHOWN_HEADERS}
_BOUNDARY_LINE = re.compile(rb"^--", re.MULTILINE)
_HEADER_END = re.compile(rb"\r?\n\r?\n")
# lone surrogates (undecodable bytes), C0/C1 controls but TAB and LF, bidirectional and
# invisible formatting characters that could reorder or hide what the page says
_UNSAFE = re.compile(
    "[\ud800-\udfff\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)


def shown(text: str) -> str:
    """`text` safe to display: undecodable bytes become U+FFFD, invisible and bidirectional
    controls become a visible ``⟨U+202E⟩``, so a name cannot reverse or hide what follows it."""

    def visible(m: re.Match[str]) -> str:
        ch = m.group(0)
        return "\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else f"\u27e8U+{ord(ch):04X}\u27e9"

    return _UNSAFE.sub(visible, text)


@dataclass(frozen=True, slots=True)
class Run:
    """A stretch of shown text; `category` is set when it stands for a finding (masked or revealed)."""

    text: str
    category: str | None = None


def joined(runs: Iterable[Run]) -> str:
    return "".join(r.text for r in runs)


@dataclass(frozen=True, slots=True)
class ShownValue:
    """A header or envelope value as shown: runs, or `note` when withheld or reduced."""

    name: str
    runs: tuple[Run, ...]
    note: str | None = None

    @property
    def text(self) -> str:
        return joined(self.runs)


@dataclass(frozen=True, slots=True)
class Excerpt:
    location: str
    kind: str
    runs: tuple[Run, ...]
    cut: bool = False  # longer than the excerpt bound: the rest is not shown

    @property
    def text(self) -> str:
        return joined(self.runs)


@dataclass(frozen=True, slots=True)
class PartFindings:
    """One attachment (or text part): where it is, and what was found in it and where."""

    location: str
    kind: str
    filename: str | None
    chars: int
    found: tuple[tuple[str, str, str], ...]  # (category, location, masked)


@dataclass(frozen=True, slots=True)
class MessageView:
    headers: tuple[ShownValue, ...]
    hidden_headers: int
    envelope: tuple[ShownValue, ...]
    excerpts: tuple[Excerpt, ...]
    parts: tuple[PartFindings, ...]
    parts_total: int
    withheld: tuple[str, ...]  # locations whose text is not shown (masking not guaranteed)
    notes: tuple[str, ...]  # what the bounds left out, in our words
    text_shown: bool
    revealed: bool = False

    @property
    def attachments(self) -> tuple[PartFindings, ...]:
        return tuple(p for p in self.parts if p.kind == SegmentKind.ATTACHMENT.value)


# --- building ---------------------------------------------------------------------------------


def bounded(data: bytes) -> tuple[bytes, str | None]:
    """`data` cut after its first `MAX_VIEW_BYTES` (at a line end) and before its
    `MAX_BOUNDARY_LINES`-th ``--`` line: parsing cost bound. The note says why, when cut."""
    note = None
    if len(data) > MAX_VIEW_BYTES:
        end = data.rfind(b"\n", 0, MAX_VIEW_BYTES) + 1 or MAX_VIEW_BYTES
        data, note = data[:end], f"over {MAX_VIEW_BYTES // 1024 // 1024} MiB: only its beginning is shown"
    for i, m in enumerate(_BOUNDARY_LINE.finditer(data)):
        if i == MAX_BOUNDARY_LINES:
            return data[
                : m.start()
            ], f"more than {MAX_BOUNDARY_LINES} MIME boundary lines: only the first parts are listed"
    return data, note


def build_view(
    data: bytes,
    findings: Sequence[Finding],
    envelope: Envelope,
    *,
    reveal: bool = False,
    headers_scanned: bool = True,
) -> MessageView:
    """The view of a held message: headers, envelope, excerpts (findings masked, or revealed),
    parts with what was found where. Bounded (see module doc); never raises on any bytes.

    `headers_scanned` is False for a message whose scan may predate header scanning (a row held
    without a stored view): its header values are then treated as unscanned (withheld, addresses
    without display names), since its findings say nothing about them."""
    cut_data, cut_note = bounded(data)
    cut = cut_note is not None
    # the envelope too, as the scanner read it (first, so the text budget is spent the same way)
    extraction = extract(cut_data, envelope=envelope)
    segments = [s for s in extraction.segments if not s.location.startswith("envelope:")]
    notes: list[str] = []
    if cut_note is not None:
        notes.append(cut_note)
        # the part the cut fell into may be incomplete: its text is not the text the scanner read
        leaves = [s for s in segments if s.kind not in (SegmentKind.SUBJECT, SegmentKind.HEADER)]
        if leaves:
            segments.remove(leaves[-1])
    own = [f for f in findings if _placeable(f)]
    by_location = {s.location: s for s in (*segments, *_envelope_segments(envelope))}
    placed, withheld = _place(by_location, own)
    # a field repeated (two To: lines) shares one location: which text an offset means is unknown
    withheld |= {loc for loc, n in Counter(s.location for s in segments).items() if n > 1}
    lost = [f for f in own if f.location not in by_location and not _in_attachment(f.location)]
    # when the input was cut, findings of the parts past the cut have nowhere to show; otherwise a
    # finding we cannot locate means our text is not the scanner's: show none of it
    text_shown = not lost or cut or reveal
    if not text_shown:
        notes.append("findings could not be placed on the text: text and header values withheld")
    header_segments = (
        by_location
        if headers_scanned
        else {k: v for k, v in by_location.items() if not k.startswith("header:")}
    )
    headers, hidden = _headers(cut_data, header_segments, placed, withheld, text_shown, reveal)
    env = envelope_values(envelope, findings, reveal=reveal)
    excerpts = _excerpts(segments, placed, withheld, reveal, notes) if text_shown else ()
    parts = _parts(segments, findings)
    if len(parts) > MAX_PARTS:
        notes.append(f"{len(parts)}{'+' if cut else ''} parts: the first {MAX_PARTS} are listed")
    return MessageView(
        headers=headers,
        hidden_headers=hidden,
        envelope=env,
        excerpts=excerpts,
        parts=tuple(parts[:MAX_PARTS]),
        parts_total=len(parts),
        withheld=tuple(sorted(withheld)),
        notes=tuple(notes),
        text_shown=text_shown,
        revealed=reveal,
    )


def _placeable(f: Finding) -> bool:
    """Whether a finding sits on text (an `Unscanned` one names unread text, with no span)."""
    return f.group is not Group.UNSCANNED and f.end > f.start


def _in_attachment(location: str) -> bool:
    return location.startswith("attachment[") or "/attachment[" in location


def envelope_values(
    envelope: Envelope, findings: Sequence[Finding], *, reveal: bool = False
) -> tuple[ShownValue, ...]:
    """MAIL FROM and each RCPT TO as shown, findings at ``envelope:*`` locations masked. Pure and
    cheap (no parsing): the store computes it for the queue even if the view could not be built."""
    segments = _envelope_segments(envelope)
    placed, withheld = _place({s.location: s for s in segments}, [f for f in findings if _placeable(f)])
    raw = (envelope.mail_from, *envelope.rcpt_tos)
    rcpts = len(segments) - 1
    names = ["MAIL FROM", *(f"RCPT TO {i}" if rcpts > 1 else "RCPT TO" for i in range(1, rcpts + 1))]
    # shown as written when the scanner's reading has the same length (its spaces stand where
    # the address has @ or one glue character, so the offsets fit); otherwise as read
    shown_as = [
        s if len(s.text) != len(a) else Segment(s.location, a) for s, a in zip(segments, raw, strict=True)
    ]
    return tuple(_value(n, s, placed, withheld, reveal, True) for n, s in zip(names, shown_as, strict=True))


def masked_envelope(envelope: Envelope, findings: Sequence[Finding]) -> tuple[str, tuple[str, ...]] | None:
    """(MAIL FROM, RCPT TOs) as a viewer may see them when a finding sits in the envelope, else None."""
    values = envelope_values(envelope, findings)
    if not any(r.category for v in values for r in v.runs) and not any(v.note for v in values):
        return None
    return values[0].text, tuple(v.text for v in values[1:])


def _envelope_segments(envelope: Envelope) -> list[Segment]:
    """MAIL FROM, then each RCPT TO, at the locations the scanner gives envelope findings, each
    with the text the scanner read (`envelope_texts`: punctuation between letters and digits read
    as a space, so offsets fit) when it read the address, else the address itself."""
    scanned = dict(envelope_texts(envelope))
    located = [("envelope:mail-from", envelope.mail_from)]
    located += [(f"envelope:rcpt[{i}]", r) for i, r in enumerate(envelope.rcpt_tos, 1)]
    return [Segment(loc, scanned.get(loc, raw), SegmentKind.HEADER) for loc, raw in located]


def _place(
    by_location: dict[str, Segment], findings: Iterable[Finding]
) -> tuple[dict[str, list[tuple[int, int, Finding]]], set[str]]:
    """Spans to mask per location (sorted, merged); locations whose findings do not fit are withheld."""
    spans: dict[str, list[tuple[int, int, Finding]]] = {}
    withheld: set[str] = set()
    for f in findings:
        seg = by_location.get(f.location)
        if seg is None:
            continue
        if not 0 <= f.start < f.end <= len(seg.text):
            withheld.add(f.location)
            continue
        start, end = f.start, f.end
        if f.category == "MEDICAL_RECORD":
            start, end = _record_span(seg.text, start, end)
        spans.setdefault(f.location, []).append((start, end, f))
    for loc, found in spans.items():
        found.sort(key=lambda t: (t[0], -t[1]))
        merged: list[tuple[int, int, Finding]] = []
        for start, end, f in found:
            if merged and start < merged[-1][1]:
                # overlapping: the widest span, so no part of either shows
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]), merged[-1][2])
                continue
            merged.append((start, end, f))
        spans[loc] = merged
    return spans, withheld


def _record_span(text: str, start: int, end: int) -> tuple[int, int]:
    """A medical record's neighbourhood: the name, date of birth and number beside the terms."""
    lo = max(0, start - RECORD_REACH)
    hi = min(len(text), end + RECORD_REACH)
    line_start = text.rfind("\n", 0, lo)
    line_end = text.find("\n", hi)
    return (line_start + 1 if line_start >= 0 else 0), (line_end if line_end >= 0 else len(text))


def _runs(
    text: str, spans: Sequence[tuple[int, int, Finding]], reveal: bool, limit: int
) -> tuple[list[Run], bool]:
    runs: list[Run] = []
    pos = used = 0
    for start, end, f in spans:
        if start > pos:
            piece = text[pos:start][: limit - used]
            runs.append(Run(shown(piece)))
            used += len(piece)
            if used >= limit:
                return runs, True
        runs.append(Run(shown(text[start:end] if reveal else f.masked), f.category))
        pos = end
    if pos < len(text):
        piece = text[pos:][: limit - used]
        runs.append(Run(shown(piece)))
        if len(text) - pos > len(piece):
            return runs, True
    return runs, False


def _value(
    name: str,
    seg: Segment,
    placed: dict[str, list[tuple[int, int, Finding]]],
    withheld: set[str],
    reveal: bool,
    text_shown: bool,
) -> ShownValue:
    if (seg.location in withheld or not text_shown) and not reveal:
        return ShownValue(name, (), "withheld: its findings could not be masked")
    runs, cut = _runs(seg.text, placed.get(seg.location, []), reveal, MAX_HEADER_CHARS)
    return ShownValue(name, tuple(runs), "cut" if cut else None)


def _headers(
    data: bytes,
    by_location: dict[str, Segment],
    placed: dict[str, list[tuple[int, int, Finding]]],
    withheld: set[str],
    text_shown: bool,
    reveal: bool,
) -> tuple[tuple[ShownValue, ...], int]:
    m = _HEADER_END.search(data, 0, MAX_HEADER_BYTES)
    block = data[: m.end() if m else MAX_HEADER_BYTES]
    msg = BytesHeaderParser(policy=compat32).parsebytes(block)
    out: list[ShownValue] = []
    hidden = 0
    for raw_name, raw_value in msg.raw_items():
        name = _CANONICAL.get(raw_name.strip().lower(), "")
        if not name:
            hidden += 1
            continue
        if len(out) >= 50:
            hidden += 1
            continue
        # the scanner names a field as written (``header:Message-Id``); Content-Type's segment
        # holds its parameters only, and we show its type alone
        seg = None if name == "Content-Type" else by_location.get(f"header:{raw_name}")
        seg = by_location.get("subject") if name == "Subject" else seg
        value = decode_header_value(str(raw_value))[:MAX_HEADER_CHARS]
        if reveal:
            out.append(ShownValue(name, (Run(shown(value)),)))
        elif seg is not None:
            out.append(_value(name, seg, placed, withheld, reveal, text_shown))
        else:
            out.append(_unscanned_header(name, value))
    return tuple(out), hidden


def _unscanned_header(name: str, value: str) -> ShownValue:
    """A header the scanner did not read: only what carries no free text, in our own words."""
    if name in ADDRESS_HEADERS:
        addresses = [addr for _, addr in getaddresses([value]) if addr]
        return ShownValue(name, (Run(shown(", ".join(addresses))),), "display names not shown: not scanned")
    if name == "Date":
        try:
            return ShownValue(name, (Run(parsedate_to_datetime(value).isoformat()),))
        except (TypeError, ValueError, IndexError):
            pass
    if name == "Content-Type":
        ctype = value.split(";", 1)[0].strip().lower()
        if re.fullmatch(r"[a-z0-9!#$&^_.+-]{1,64}/[a-z0-9!#$&^_.+-]{1,64}", ctype):
            return ShownValue(name, (Run(ctype),))
    return ShownValue(name, (), "withheld: not scanned; reveal to see")


def _excerpts(
    segments: Sequence[Segment],
    placed: dict[str, list[tuple[int, int, Finding]]],
    withheld: set[str],
    reveal: bool,
    notes: list[str],
) -> tuple[Excerpt, ...]:
    out: list[Excerpt] = []
    budget = MAX_TOTAL_CHARS
    for seg in segments:
        if seg.kind not in (SegmentKind.TEXT, SegmentKind.HTML) or not seg.text.strip():
            continue
        if seg.location in withheld and not reveal:
            continue
        if budget <= 0:
            notes.append(f"more than {MAX_TOTAL_CHARS} characters of text: later parts are not shown")
            break
        runs, cut = _runs(seg.text, placed.get(seg.location, []), reveal, min(MAX_EXCERPT_CHARS, budget))
        budget -= sum(len(r.text) for r in runs)
        out.append(Excerpt(seg.location, seg.kind.value, tuple(runs), cut))
    return tuple(out)


_NOT_PARTS = frozenset({SegmentKind.SUBJECT, SegmentKind.HEADER, SegmentKind.MARKUP})


def _parts(segments: Sequence[Segment], findings: Sequence[Finding]) -> list[PartFindings]:
    out = []
    for seg in segments:
        if seg.kind in _NOT_PARTS:
            continue  # the subject, header values, file names, HTML markup: not parts of the tree
        found = tuple(
            (f.category, shown(f.location), shown(f.masked))
            for f in findings
            if f.location == seg.location or f.location.startswith(seg.location + "/")
        )
        out.append(
            PartFindings(
                shown(seg.location),
                seg.kind.value,
                shown(masked_name(seg.filename)) if seg.filename else None,  # sender text: masked
                len(seg.text),
                found,
            )
        )
    return out
