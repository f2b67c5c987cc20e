"""Cutting a message into pieces bounded in characters, and gluing their findings back. Pure.

The batcher sends *pieces* to workers so that a batch is bounded in characters as well as in
count: one 20 MB message becomes many pieces interleaved with other sessions' mail instead of
one batch that stalls everybody behind it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from scanner.model import Envelope, Finding, Segment
from scanner.scan.worker import Item, RawMessage

# One item is at most this many characters: small enough that a batch of a few items stays
# a few hundred milliseconds of NLP, large enough that ordinary mail is a single item.
CHUNK_CHARS = 64 * 1024
# A segment cut into chunks overlaps by this much, cut at whitespace, so that an identifier and
# its context words on a chunk boundary are seen whole in at least one chunk.
CHUNK_OVERLAP = 512
MAX_BATCH_CHARS = 4 * CHUNK_CHARS


@dataclasses.dataclass(frozen=True, slots=True)
class Piece:
    segments: tuple[Segment, ...]
    # location -> offset of this piece's text in the original segment (only for cut segments)
    offsets: dict[str, int]
    chars: int
    # a whole message not extracted yet (the worker extracts it): then `segments` is empty
    raw: RawMessage | None = None

    @classmethod
    def message(cls, data: bytes, split_above: int = CHUNK_CHARS, envelope: Envelope | None = None) -> Piece:
        """A whole message as received, counted by its size (its text is at most about as long)."""
        return cls((), {}, len(data), RawMessage(data, split_above, envelope))

    @property
    def item(self) -> Item:
        """What goes to the worker."""
        return self.segments if self.raw is None else self.raw


def split_message(
    segments: Sequence[Segment], chunk_chars: int = CHUNK_CHARS, overlap: int = CHUNK_OVERLAP
) -> list[Piece]:
    """Pack segments into pieces of at most ~`chunk_chars` characters. Pure.

    A message that fits is one piece with its segments untouched (the engine sees the whole
    message, e.g. a medical term in the subject and the patient's name in the body). A segment
    longer than `chunk_chars` is cut into overlapping windows, each its own piece.
    """
    total = sum(len(s.text) for s in segments)
    if total <= chunk_chars:
        return [Piece(tuple(segments), {}, total)]
    pieces: list[Piece] = []
    pack: list[Segment] = []
    pack_chars = 0
    for seg in segments:
        if len(seg.text) > chunk_chars:
            for start, end in _windows(seg.text, chunk_chars, overlap):
                part = dataclasses.replace(seg, text=seg.text[start:end])
                pieces.append(Piece((part,), {seg.location: start} if start else {}, end - start))
            continue
        if pack and pack_chars + len(seg.text) > chunk_chars:
            pieces.append(Piece(tuple(pack), {}, pack_chars))
            pack, pack_chars = [], 0
        pack.append(seg)
        pack_chars += len(seg.text)
    if pack:
        pieces.append(Piece(tuple(pack), {}, pack_chars))
    return pieces


def _windows(text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    start = 0
    while True:
        end = min(start + size, len(text))
        if end < len(text):
            # end the window on whitespace so no token is cut (unless one is longer than overlap)
            cut = max(text.rfind(c, end - overlap, end) for c in " \n\t\r")
            if cut > start:
                end = cut
        out.append((start, end))
        if end >= len(text):
            return out
        nxt = end - overlap
        ws = max(text.rfind(c, nxt, end) for c in " \n\t\r")
        start = max(ws + 1 if ws >= nxt else nxt, start + 1)


def dedupe(findings: list[Finding]) -> tuple[Finding, ...]:
    """Findings of a cut segment seen twice in an overlap: keep the highest-scoring one."""
    best: dict[tuple[str, str, int, int], Finding] = {}
    for f in findings:
        key = (f.category, f.location, f.start, f.end)
        if key not in best or f.score > best[key].score:
            best[key] = f
    return tuple(sorted(best.values(), key=lambda f: (f.location, f.start, f.end, f.category)))
