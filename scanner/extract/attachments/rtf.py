"""RTF (Rich Text Format 1.9.1): the text a word processor shows, without its control words.

A small tokenizer rather than a dependency: the format is a stream of groups, control words
and text. Text comes from plain characters, ``\\'hh`` (in the document's code page, ``\\ansicpg``,
default windows-1252), ``\\uN`` (with its ``\\ucN`` fallback characters skipped) and the escapes
``\\\\ \\{ \\}``; ``\\par``/``\\line``/``\\row`` end a line, ``\\tab``/``\\cell`` are tabs. Groups that
are not text (font and colour tables, stylesheet, pictures, ``\\*`` destinations a reader skips)
are skipped as a reader skips them, except fields' results and annotations, which are read.
"""

from __future__ import annotations

import codecs
import re

from scanner.extract.attachments.walk import Stop, Walk
from scanner.model import Unscanned

_TOKEN = re.compile(
    rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\([^a-zA-Z])|([{}])|([^\\{}\r\n]+)|[\r\n]+"
)
_SKIP = frozenset(
    {b"fonttbl", b"colortbl", b"stylesheet", b"info", b"pict", b"header", b"footer", b"listtable",
     b"listoverridetable", b"revtbl", b"rsidtbl", b"generator", b"xmlnstbl", b"themedata",
     b"colorschememapping", b"datastore", b"latentstyles", b"object", b"objdata", b"fldinst",
     b"filetbl", b"pgdsctbl", b"bkmkstart", b"bkmkend"}
)  # fmt: skip
_READ_STARRED = frozenset({b"annotation", b"atnid", b"footnote"})  # \* destinations with visible text
_BREAKS = {
    b"par": "\n",
    b"line": "\n",
    b"row": "\n",
    b"sect": "\n",
    b"page": "\n",
    b"tab": "\t",
    b"cell": "\t",
}
_MAX_GROUP_DEPTH = 1000


def read_rtf(data: bytes, where: str, walk: Walk, depth: int, read_file: object) -> None:
    walk.text(f"{where}/body", rtf_text(data, walk))


def rtf_text(data: bytes, walk: Walk | None = None) -> str:
    out: list[str] = []
    codec = "cp1252"
    pending = bytearray()  # \'hh bytes of one character (a multi-byte code page needs them together)
    stack: list[tuple[bool, int]] = []  # (skipping, uc) of the enclosing groups
    skipping, uc, to_skip, starred = False, 1, 0, False
    for n, m in enumerate(_TOKEN.finditer(data)):
        if walk is not None and n & 0xFFFF == 0:
            walk.check_time()
        word, arg, hexbyte, symbol, brace, text = m.groups()
        if hexbyte is not None:
            if to_skip:
                to_skip -= 1
            elif not skipping:
                pending.append(int(hexbyte, 16))
            continue
        if pending:
            out.append(_decode(bytes(pending), codec))
            pending.clear()
        if brace == b"{":
            if len(stack) >= _MAX_GROUP_DEPTH:
                raise Stop(Unscanned.CORRUPT, "not read: RTF nested too deep")
            stack.append((skipping, uc))
            starred = False
        elif brace == b"}":
            skipping, uc = stack.pop() if stack else (False, 1)
            starred = False
        elif symbol is not None:
            if symbol == b"*":
                starred = True
            elif not skipping and symbol in b"\\{}":
                out.append(symbol.decode())
            elif not skipping and symbol == b"~":
                out.append("\u00a0")
        elif word is not None:
            if word in _SKIP or (starred and word not in _READ_STARRED):
                skipping = True
            elif word == b"ansicpg" and arg:
                codec = _codec(arg.decode(), codec)
            elif word == b"uc" and arg:
                uc = int(arg)
            elif word == b"u" and arg and not skipping:
                out.append(chr(int(arg) % 65536))
                to_skip = uc
            elif word in _BREAKS and not skipping:
                out.append(_BREAKS[word])
            starred = False
        elif text is not None and not skipping:
            if to_skip:
                cut = min(to_skip, len(text))
                text, to_skip = text[cut:], to_skip - cut
            out.append(text.decode(codec, "replace"))
    if pending:
        out.append(_decode(bytes(pending), codec))
    return "".join(out)


def _decode(data: bytes, codec: str) -> str:
    return data.decode(codec, "replace")


def _codec(page: str, default: str) -> str:
    try:
        return codecs.lookup(f"cp{page}").name
    except LookupError:
        return default
