"""Parsing message bytes with the stdlib (compat32, see `scanner.extract`), bounded in memory.

Pure and synchronous. The stdlib parser keeps a Python object per line, so two shapes of
hostile input are taken apart before it sees them: runs of blank lines (they carry no text and
no MIME structure beyond the first), and the body of a large single-part message (set in one
piece, exactly as the parser would store it).

Parts are `ParsedPart`: reading one part asks for its Content-Type parameters four or five
times (file name, charset, format, delsp, the parameters scanned as text), and the stdlib
parses the header value again on each call; a part parses each value once.
"""

from __future__ import annotations

import email.policy
import re
from email.message import Message
from email.parser import BytesParser
from email.policy import Policy
from typing import Any

__all__ = ["ParsedPart", "fewer_blank_lines", "parse"]

_MISSING = object()


class ParsedPart(Message):
    """A `Message` that keeps the parsed parameters of each header value it was asked about.

    Per part and per header name, kept with the value object they were parsed from: a header
    set or replaced later gets another object and is parsed again, so results never go stale.
    The part, and so what it keeps, lives as long as the one message it belongs to.
    """

    def __init__(self, policy: Policy = email.policy.compat32) -> None:
        super().__init__(policy)
        self._params: dict[str, tuple[object, list[tuple[str, Any]]]] = {}

    def _get_params_preserve(self, failobj: Any, header: str) -> Any:
        value = self.get(header, _MISSING)
        if value is _MISSING:
            return failobj
        key = header.lower()
        kept = self._params.get(key)
        if kept is None or kept[0] is not value:
            kept = self._params[key] = (value, super()._get_params_preserve(failobj, header))  # type: ignore[misc]
        return list(kept[1])  # a copy: get_params(unquote=False) hands its list to the caller


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
            head = BytesParser(ParsedPart, policy=email.policy.compat32).parsebytes(raw[: sep + 4])
            if not head.defects and head.get_content_maintype() not in ("multipart", "message"):
                # what BytesParser stores: the body as ASCII + surrogate escapes
                head.set_payload(raw[sep + 4 :].decode("ascii", "surrogateescape"))
                return head
    return BytesParser(ParsedPart, policy=email.policy.compat32).parsebytes(raw)


_SINGLE_PART_BYTES = 1 << 20
_HEADER_BYTES = 1 << 20
