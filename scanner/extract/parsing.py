"""Parsing message bytes with the stdlib (compat32, see `scanner.extract`), bounded in memory.

Pure and synchronous. The stdlib parser keeps a Python object per line, so two shapes of
hostile input are taken apart before it sees them: runs of blank lines (they carry no text and
no MIME structure beyond the first), and the body of a large single-part message (set in one
piece, exactly as the parser would store it).
"""

from __future__ import annotations

import email.policy
import re
from email.message import Message
from email.parser import BytesParser

__all__ = ["fewer_blank_lines", "parse"]

# The stdlib parser keeps a Python object per line (~50 bytes each): 26 MB of empty lines made
# a worker grow by ~650 MB. Runs of blank lines carry no text and no MIME structure beyond the
# first (the one ending a header block): past this many line breaks, longer runs become one.
_MANY_LINES = 100_000
# a line break, blank lines, a line break: one character class, so `re` runs it in one C loop
# (a repeated group would keep per-iteration state: gigabytes on a 26 MB run)
_BLANK_RUN = re.compile(rb"\n[\r\n \t]*\n")


def fewer_blank_lines(raw: bytes) -> bytes:
    if raw.count(b"\n") <= _MANY_LINES:
        return raw
    return _BLANK_RUN.sub(b"\n\r\n", raw)


def parse(raw: bytes) -> Message:
    """The parsed message. A large single-part message gets its body set in one piece instead
    of line by line (the parser's per-line objects cost ~50 bytes a line: 8 M short lines took
    a worker to 780 MB), when its header block parses cleanly on its own; else the whole parse."""
    if len(raw) > _SINGLE_PART_BYTES:
        sep = raw.find(b"\r\n\r\n", 0, _HEADER_BYTES)
        if sep > 0:
            head = BytesParser(policy=email.policy.compat32).parsebytes(raw[: sep + 4])
            if not head.defects and head.get_content_maintype() not in ("multipart", "message"):
                # what BytesParser stores: the body as ASCII + surrogate escapes
                head.set_payload(raw[sep + 4 :].decode("ascii", "surrogateescape"))
                return head
    return BytesParser(policy=email.policy.compat32).parsebytes(raw)


_SINGLE_PART_BYTES = 1 << 20
_HEADER_BYTES = 1 << 20
