"""The bounds of reading one attachment, and the accumulator every format reader writes into.

An attachment is read as a tree: a ZIP holds a DOCX that holds an embedded CSV, a PDF holds an
embedded file. One `Walk` is made per top-level attachment and shared by the whole tree, so
that every bound below counts the *tree*, not one node: member count, uncompressed bytes, time.
A bound that is reached never makes text disappear silently: the reader stops and records an
`Unscanned` finding at the location it stopped (fail closed, the policy decides).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from scanner.model import Finding, Segment, SegmentKind, Unscanned


@dataclass(frozen=True, slots=True)
class AttachmentLimits:
    """What one attachment (with everything inside it) may cost: ``[scan.attachments]`` in the
    settings (README, configuration reference), validated there by pydantic."""

    # read by pydantic when it validates settings (a plain dict: no pydantic import in workers)
    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012

    # decoded bytes of one attachment, and of any one file inside it
    max_bytes: int = 25 * 1024 * 1024
    # PDF pages, slides and sheets read per document
    max_pages: int = 1_000
    # containers inside containers (zip in zip in ...): the attachment itself is depth 0
    max_depth: int = 4
    # files inside one attachment, all levels together (archive members, office XML parts)
    max_members: int = 2_000
    # bytes decompressed from one attachment, all levels together (zip bombs)
    max_total_bytes: int = 200 * 1024 * 1024
    # decompressed / compressed size of one member (42.zip's layers are ~1000:1; text ~3-10:1)
    max_ratio: int = 200
    # rows of one sheet, all sheets together (spreadsheets are rows of cells; each row is a segment)
    max_rows: int = 200_000
    # seconds of reading one attachment (checked between pages, members and rows)
    timeout: float = 10.0


class Stop(Exception):
    """Raised inside a reader to stop reading the current file, recorded as `kind` at `where`."""

    def __init__(self, kind: Unscanned, why: str, *, whole: bool = False) -> None:
        super().__init__(kind.value)
        self.kind = kind
        self.why = why
        # a bound of the whole attachment (time, files, bytes, rows): nothing more is read of it
        self.whole = whole


class Walk:
    """Everything read from one attachment so far, and what remains of its bounds.

    `label` turns a sender-written name (archive member, sheet) into its form in a location;
    it is `scanner.extract`'s own function for file names, so names take one road to a report.
    """

    __slots__ = (
        "deadline",
        "label",
        "limits",
        "members",
        "messages",
        "rows",
        "segments",
        "stopped",
        "total_bytes",
        "unscanned",
    )

    def __init__(self, limits: AttachmentLimits, label: Callable[[str], str], clock_start: float) -> None:
        self.limits = limits
        self.label = label
        self.deadline = clock_start + limits.timeout
        self.members = 0
        self.rows = 0
        self.total_bytes = 0
        self.stopped = False
        self.segments: list[Segment] = []
        self.unscanned: dict[tuple[str, str], Finding] = {}
        # embedded mail (.eml) found inside, for the MIME reader: (location, bytes)
        self.messages: list[tuple[str, bytes]] = []

    def text(self, where: str, text: str) -> None:
        if text.strip():
            self.segments.append(Segment(where, text, SegmentKind.ATTACHMENT))

    def unread(self, kind: Unscanned, where: str, why: str) -> None:
        key = (kind.value, where)
        if key not in self.unscanned:
            self.unscanned[key] = kind.finding(where, why)

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise Stop(
                Unscanned.BUDGET, f"not read: over {self.limits.timeout:g} s for this attachment", whole=True
            )

    def member(self) -> None:
        """Count one more file inside the attachment."""
        self.members += 1
        if self.members > self.limits.max_members:
            raise Stop(
                Unscanned.PART_LIMIT,
                f"not read: more than {self.limits.max_members} files inside",
                whole=True,
            )
        self.check_time()

    def row(self) -> None:
        self.rows += 1
        if self.rows > self.limits.max_rows:
            raise Stop(Unscanned.PART_LIMIT, f"not read: more than {self.limits.max_rows} rows", whole=True)

    def inflated(self, size: int) -> None:
        """Charge `size` decompressed bytes to the attachment."""
        self.total_bytes += size
        if self.total_bytes > self.limits.max_total_bytes:
            raise Stop(
                Unscanned.SIZE_LIMIT,
                f"not read: over {self.limits.max_total_bytes} bytes uncompressed in this attachment",
                whole=True,
            )
