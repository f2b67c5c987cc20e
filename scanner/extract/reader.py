"""The extraction walk's accumulator: segments, defect notes, unread text and the text budget.

Fail closed: every limit the walk reaches and every part it cannot read is both a defect note
(for the record) and an `Unscanned` finding (for the policy, which holds by default). A defect
that was recovered from (bad base64 padding, an unknown charset read by a guess) stays a note:
its text was read.
"""

from __future__ import annotations

from collections.abc import Callable

from scanner.extract.attachments.walk import AttachmentLimits
from scanner.model import Extraction, Finding, Segment, SegmentKind, Unscanned

_MAX_DEFECTS = 100
# unscanned findings kept per message: one per place is enough to hold it and say where
_MAX_UNSCANNED = 50


class Reader:
    """Segments, defect notes, unscanned findings and the remaining decoded-text budget."""

    __slots__ = (
        "attachments",
        "budget",
        "defects",
        "max_depth",
        "max_text_bytes",
        "parts",
        "segments",
        "truncated",
        "unscanned",
    )

    def __init__(
        self,
        max_depth: int,
        max_text_bytes: int,
        attachments: AttachmentLimits = AttachmentLimits(),  # noqa: B008
    ) -> None:
        self.attachments = attachments  # bounds of reading PDF, Office files, archives
        self.max_depth = max_depth
        self.max_text_bytes = max_text_bytes
        self.budget = max_text_bytes
        self.segments: list[Segment] = []
        self.defects: dict[str, None] = {}  # an insertion-ordered set
        self.unscanned: dict[tuple[str, str], Finding] = {}
        self.truncated = False
        self.parts = 0

    def note(self, name: str, where: str, detail: str = "") -> None:
        if len(self.defects) < _MAX_DEFECTS:
            self.defects[f"{name} at {where}: {detail}" if detail else f"{name} at {where}"] = None

    def noter(self, where: str) -> Callable[[str, str], None]:
        return lambda name, detail: self.note(name, where, detail)

    def unread(self, kind: Unscanned, name: str, where: str, detail: str) -> None:
        """Text at `where` was not read: a defect note and an `Unscanned` finding (`detail` is
        our own fixed wording, never message content)."""
        self.note(name, where, f"{detail}, rest not read")
        if len(self.unscanned) < _MAX_UNSCANNED:
            self.unscanned.setdefault((kind.value, where), kind.finding(where, f"not read: {detail}"))

    def add_unscanned(self, finding: Finding) -> None:
        """An unscanned finding made elsewhere (an attachment's reader), kept like `unread`'s."""
        kind = Unscanned.of(finding)
        if kind is not None and len(self.unscanned) < _MAX_UNSCANNED:
            self.unscanned.setdefault((kind.value, finding.location), finding)

    def take(self, data: bytes, where: str) -> bytes | None:
        """Charge `data` to the decoded-text budget: all of it, a cut prefix, or None once spent."""
        if self.truncated:
            return None
        if len(data) <= self.budget:
            self.budget -= len(data)
            return data
        self.truncated = True
        self.unread(
            Unscanned.TEXT_LIMIT, "TextTruncated", where, f"over {self.max_text_bytes} bytes of decoded text"
        )
        data, self.budget = data[: self.budget], 0
        return data

    def add_text(self, where: str, text: str, kind: SegmentKind, filename: str | None = None) -> None:
        """Add text produced without a byte budget check (headers, extractor output)."""
        chunk = self.take(text.encode("utf-8", "surrogatepass"), where)
        if chunk is not None:
            text = text if not self.truncated else chunk.decode("utf-8", "ignore")
            self.segments.append(Segment(where, text, kind, filename))

    def result(self) -> Extraction:
        return Extraction(
            tuple(self.segments), tuple(self.defects), self.truncated, tuple(self.unscanned.values())
        )
