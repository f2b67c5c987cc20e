"""Cutting a message into pieces bounded in characters, and gluing their findings back. Pure.

The batcher sends *pieces* to workers so that a batch is bounded in characters as well as in
count: one 20 MB message becomes many pieces interleaved with other sessions' mail instead of
one batch that stalls everybody behind it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from scanner.model import Finding, Segment

# One piece is at most this many characters: small enough that a batch of a few pieces stays
# a few hundred milliseconds of NLP, large enough that ordinary mail is a single piece.
PIECE_CHARS = 64 * 1024
# A segment cut into pieces overlaps by this much, cut at whitespace, so that an identifier and
# its context words on a piece boundary are seen whole in at least one piece.
PIECE_OVERLAP = 512
MAX_BATCH_CHARS = 4 * PIECE_CHARS


@dataclasses.dataclass(frozen=True, slots=True)
class Piece:
    """Extracted text of one message, at most ~`piece_chars` characters."""

    segments: tuple[Segment, ...]
    # location -> offset of this piece's text in the original segment (only for cut segments)
    offsets: dict[str, int]
    chars: int


def split_message(
    segments: Sequence[Segment], piece_chars: int = PIECE_CHARS, overlap: int = PIECE_OVERLAP
) -> list[Piece]:
    """Pack segments into pieces of at most ~`piece_chars` characters. Pure.

    A message that fits is one piece with its segments untouched (the engine sees the whole
    message, e.g. a medical term in the subject and the patient's name in the body). A segment
    longer than `piece_chars` is cut into overlapping spans, each its own piece.
    """
    total = sum(len(s.text) for s in segments)
    if total <= piece_chars:
        return [Piece(tuple(segments), {}, total)]
    pieces: list[Piece] = []
    pack: list[Segment] = []
    pack_chars = 0
    for seg in segments:
        if len(seg.text) > piece_chars:
            for start, end in _spans(seg.text, piece_chars, overlap):
                part = dataclasses.replace(seg, text=seg.text[start:end])
                pieces.append(Piece((part,), {seg.location: start} if start else {}, end - start))
            continue
        if pack and pack_chars + len(seg.text) > piece_chars:
            pieces.append(Piece(tuple(pack), {}, pack_chars))
            pack, pack_chars = [], 0
        pack.append(seg)
        pack_chars += len(seg.text)
    if pack:
        pieces.append(Piece(tuple(pack), {}, pack_chars))
    return pieces


def _spans(text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    start = 0
    while True:
        end = min(start + size, len(text))
        if end < len(text):
            # end the span on whitespace so no token is cut (unless one is longer than overlap)
            cut = max(text.rfind(c, end - overlap, end) for c in " \n\t\r")
            if cut > start:
                end = cut
        out.append((start, end))
        if end >= len(text):
            return out
        nxt = end - overlap
        ws = max(text.rfind(c, nxt, end) for c in " \n\t\r")
        start = max(ws + 1 if ws >= nxt else nxt, start + 1)


def placed(piece: Piece, findings: Sequence[Finding]) -> list[Finding]:
    """A piece's findings at their offsets in the whole segments they were cut from."""
    out: list[Finding] = []
    for f in findings:
        off = piece.offsets.get(f.location, 0)
        out.append(dataclasses.replace(f, start=f.start + off, end=f.end + off) if off else f)
    return out


def dedupe(findings: list[Finding]) -> tuple[Finding, ...]:
    """Findings of a cut segment seen twice in an overlap: keep the highest-scoring one."""
    best: dict[tuple[str, str, int, int], Finding] = {}
    for f in findings:
        key = (f.category, f.location, f.start, f.end)
        if key not in best or f.score > best[key].score:
            best[key] = f
    return tuple(sorted(best.values(), key=lambda f: (f.location, f.start, f.end, f.category)))
