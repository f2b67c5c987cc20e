"""Many small segments of one message read as one, findings mapped back. Pure, no I/O.

Header fields, file names and envelope addresses are short segments (a dozen a message) and the
engine's cost is mostly per segment (normalising, digit windows, the medical lexicon), not per
character: read one by one they tripled its time on ordinary mail. `pack` joins a message's
``header`` segments into one, each field kept apart by `ITEM_BREAK` -- a blank stretch wider
than every context window, so a field's context is still its own words -- and `unpack` gives
every finding its field's location and offsets back, so nothing downstream sees the packing.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Sequence

from scanner.extract.markup import ITEM_BREAK
from scanner.model import Finding, Segment, SegmentKind

PACKED = "\x00packed"  # never a real location: a NUL is not in any location we write


@dataclasses.dataclass(frozen=True, slots=True)
class Packed:
    segments: tuple[Segment, ...]
    starts: tuple[int, ...] = ()  # offset of each packed field in the packed text
    fields: tuple[Segment, ...] = ()


def pack(segments: Sequence[Segment]) -> Packed:
    """The message's segments with its ``header`` segments joined into one (see module doc)."""
    fields = [s for s in segments if s.kind is SegmentKind.HEADER]
    if len(fields) < 2:
        return Packed(tuple(segments))
    starts: list[int] = []
    pos = 0
    for f in fields:
        starts.append(pos)
        pos += len(f.text) + len(ITEM_BREAK)
    packed = Segment(PACKED, ITEM_BREAK.join(f.text for f in fields), SegmentKind.HEADER)
    rest = [s for s in segments if s.kind is not SegmentKind.HEADER]
    return Packed((packed, *rest), tuple(starts), tuple(fields))


def unpack(packed: Packed, findings: Sequence[Finding]) -> list[Finding]:
    """Findings with the location and offsets of the field they lie in."""
    if not packed.fields:
        return list(findings)
    out: list[Finding] = []
    for f in findings:
        if f.location != PACKED:
            out.append(f)
            continue
        i = max(0, bisect.bisect_right(packed.starts, f.start) - 1)
        field, base = packed.fields[i], packed.starts[i]
        start = min(max(f.start - base, 0), len(field.text))
        end = min(max(f.end - base, start), len(field.text))
        out.append(dataclasses.replace(f, location=field.location, start=start, end=end))
    return out
