"""Tolerant decoders for mail: transfer encodings, charsets and RFC 2047 encoded words.

Pure and synchronous; none of these functions raises on any input. Where the input is broken
they recover what a mail client would show and report what was wrong through a `Note`
callback (a short name and a detail that never quotes message content).

Why not only the stdlib: ``email.header.decode_header`` raises ``HeaderParseError`` on a bad
base64 encoded word and leaves unterminated or unknown-charset words undecoded, and
``Message.get_payload(decode=True)`` returns base64 text *still encoded* when its length is
off by one (bpo-27397). Senders of forbidden data do not have to write correct MIME, so these
paths must recover instead.
"""

from __future__ import annotations

import binascii
import codecs
import contextlib
import re
from collections.abc import Callable
from email.message import Message

__all__ = [
    "Note",
    "b64decode_tolerant",
    "decode_header_value",
    "decode_text",
    "raw_header",
    "raw_payload",
    "transfer_decode",
    "unflow",
    "unfold_8bit",
    "uudecode_blocks",
]

Note = Callable[[str, str], None]
"""Receives (name, detail) for every problem found, e.g. ("UnknownCharset", "'x-foo'")."""


def _ignore(name: str, detail: str) -> None:
    return None


# --- transfer encodings (RFC 2045 §6) ---------------------------------------------------------

_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/=]")
_MAX_B64_CHUNKS = 1000


def b64decode_tolerant(data: bytes, note: Note = _ignore) -> bytes:
    """Base64 that survives junk characters, missing or inner padding and a stray last char."""
    data = data.translate(None, b" \t\r\n\x0b\x0c")
    if _B64_JUNK.search(data):
        note("InvalidBase64CharactersDefect", "")
        data = _B64_JUNK.sub(b"", data)
    if len(data) % 4:
        note("InvalidBase64PaddingDefect", "")
    chunks = data.rstrip(b"=").split(b"=")
    if len(chunks) > _MAX_B64_CHUNKS:  # "A=A=A=..." junk: read it as one stream instead
        note("InvalidBase64PaddingDefect", "")
        chunks = [b"".join(chunks)]
    out: list[bytes] = []
    # Padding ends a quantum (RFC 4648 §4); concatenated encodings restart after it.
    for chunk in chunks:
        if len(chunk) % 4 == 1:  # one sextet cannot make a byte: drop it
            note("InvalidBase64LengthDefect", "")
            chunk = chunk[:-1]
        if chunk:
            out.append(binascii.a2b_base64(chunk + b"=" * (-len(chunk) % 4)))
    return b"".join(out)


def raw_header(msg: Message, name: str) -> str | None:
    """The first raw value of a header, unprocessed by any policy (compat32 may wrap 8-bit
    values in a ``Header`` object on `get`; the stored string is what was on the wire)."""
    lname = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == lname:
            return str(value)
    return None


def raw_payload(part: Message) -> object:
    """The payload as the parser stored it: a list of parts, or a str of surrogate-escaped bytes.

    Not ``get_payload()``: on a body with raw 8-bit bytes that re-decodes them with the declared
    charset and errors="replace" — losing them before our own charset fallbacks — and raises
    ValueError when the charset parameter holds a NUL.
    """
    return getattr(part, "_payload", None)


def transfer_decode(part: Message, note: Note = _ignore) -> bytes:
    """The Content-Transfer-Encoding-decoded body bytes of a non-multipart part."""
    payload = raw_payload(part)
    if not isinstance(payload, str):
        return b""
    # BytesParser stores bodies as ASCII + surrogateescape: this gives the wire bytes back.
    raw = payload.encode("utf-8", "surrogateescape")
    cte = (raw_header(part, "content-transfer-encoding") or "").strip().lower()
    if cte in ("", "7bit", "8bit", "binary"):
        return raw
    if cte == "base64":
        return b64decode_tolerant(raw, note)
    if cte == "quoted-printable":
        return binascii.a2b_qp(raw)  # leaves malformed "=XY" as is, like mail clients
    if cte in ("x-uuencode", "uuencode", "x-uue", "uue"):
        decoded = part.get_payload(decode=True)
        return decoded if isinstance(decoded, bytes) else raw
    # Misspellings seen in the wild ("base-64", "quoted_printable", "8-bit"...).
    note("UnknownTransferEncoding", _shown(cte))
    if "64" in cte:
        return b64decode_tolerant(raw, note)
    if "quoted" in cte:
        return binascii.a2b_qp(raw)
    return raw


# --- charsets ---------------------------------------------------------------------------------

_LABEL_OK = re.compile(r"[a-z0-9._:+-]{1,40}")
# Labels that in practice mean "8-bit, guess": RFC 1428 unknown-8bit and friends.
_GUESS_LABELS = frozenset({"ascii", "us-ascii", "ansi_x3.4-1968", "us", "iso646-us", "646", "cp367"})
# WHATWG Encoding Standard: these labels are decoded as windows-1252 by every browser and mail
# client (C1 control codes are never what the sender meant).
_WINDOWS_1252 = frozenset(
    {"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819", "ibm819", "windows-1252",
     "x-cp1252", "cp1252", "iso_8859-1:1987", "iso-ir-100", "csisolatin1"}
)  # fmt: skip
# Supersets used in place of the declared charset (what clients do; strictly more decodable).
_SUPERSETS = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030",
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932",
    "euc-kr": "cp949", "ks_c_5601-1987": "cp949", "big5": "big5hkscs", "iso-8859-8-i": "iso8859-8",
    "windows-874": "cp874", "tis-620": "cp874", "x-mac-roman": "mac-roman", "utf8": "utf-8",
}  # fmt: skip
# Python-only codecs that no mail client knows: honouring them would let a sender show the
# recipient one text and us another.
_REFUSED = frozenset(
    {"unicode-escape", "raw-unicode-escape", "punycode", "idna", "undefined", "charmap", "palmos"}
)
# Encodings whose bytes are not ASCII-transparent (pure-ASCII data may still need decoding).
_NOT_ASCII_SAFE = ("utf-16", "utf-32", "utf-7", "iso2022", "hz")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))  # fmt: skip
_SURROGATE = re.compile("[\ud800-\udfff]")
_META_CHARSET = re.compile(rb"<meta[^>]{0,300}?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:+-]{1,40})", re.I)


def _shown(label: str) -> str:
    """A sender-chosen label fit for a defect note: printable, short, quoted."""
    return repr(re.sub(r"[^\x21-\x7e]", "?", label)[:40])


def _codec(label: str) -> str | None:
    label = _SUPERSETS.get(label, label)
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _REFUSED:
        return None
    return info.name


def _decode(data: bytes, codec: str, final: bool, errors: str = "strict") -> str:
    # An incremental decoder so that text cut at the size bound mid-character still decodes.
    return codecs.getincrementaldecoder(codec)(errors).decode(data, final)


def _guess(data: bytes, final: bool) -> tuple[str, str]:
    """Valid utf-8; else mostly-valid utf-8 with U+FFFD for the broken bytes (one bad byte
    must not turn every accent of a utf-8 text into mojibake); else windows-1252; else
    latin-1, which cannot fail. Returns the text and what it was read as."""
    try:
        return _decode(data, "utf-8", final), "utf-8"
    except UnicodeDecodeError:
        pass
    text = _decode(data, "utf-8", final, "replace")
    bad = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    good = len(text) - len(text.encode("ascii", "ignore")) - bad
    if good >= bad > 0:
        return text, f"utf-8 with {bad} invalid sequences replaced"
    try:
        return _decode(data, "cp1252", final), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def decode_text(
    data: bytes, label: str | None, note: Note = _ignore, *, html: bool = False, final: bool = True
) -> str:
    """Bytes → str by the declared charset `label`, with the fallbacks mail clients apply.

    A byte-order mark wins over the label; an HTML part without a label uses its ``<meta
    charset>``; no label or an ASCII label → utf-8, else windows-1252 (silently: that is what
    unlabeled 8-bit mail almost always is); ISO-8859-1 labels → windows-1252 (WHATWG); an
    unknown label → the same guess plus an ``UnknownCharset`` note; a label the bytes do not
    fit → the same guess plus a ``CharsetFallback`` note. Line ends are normalised to ``\\n``. Set
    `final` False when `data` was cut at a size bound (a trailing partial character is dropped).
    """
    for bom, bom_codec in _BOMS:
        if data.startswith(bom):
            return _decode(data, bom_codec, final, "replace").replace("\r\n", "\n")
    if label is None and html:
        m = _META_CHARSET.search(data, 0, 4096)
        label = m.group(1).decode("ascii") if m else None
    text: str
    clean = (label or "").strip().strip("\"'").strip().lower()
    if not clean or clean in _GUESS_LABELS:
        text = _guess(data, final)[0]
    elif clean in _WINDOWS_1252:
        try:
            text = _decode(data, "cp1252", final)
        except UnicodeDecodeError:  # 0x81, 0x8d... undefined in cp1252: latin-1 C1 controls
            text = data.decode("latin-1")
    else:
        codec = _codec(clean) if _LABEL_OK.fullmatch(clean) else None
        if codec is None:
            text, used = _guess(data, final)
            note("UnknownCharset", f"{_shown(clean)}, read as {used}")
        elif data.isascii() and not codec.startswith(_NOT_ASCII_SAFE):
            text = data.decode("ascii")
        else:
            try:
                text = _decode(data, codec, final)
            except UnicodeDecodeError:
                text = _fallback(data, clean, final, note)
    # UTF-7 can encode lone surrogates; no consumer wants them (ASCII text has none)
    if not text.isascii() and _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    return text.replace("\r\n", "\n")


def _fallback(data: bytes, label: str, final: bool, note: Note) -> str:
    text, used = _guess(data, final)
    note("CharsetFallback", f"declared {_shown(label)}, read as {used}")
    return text


def unflow(text: str, delsp: bool = False) -> str:
    """Join the soft line breaks of ``text/plain; format=flowed`` (RFC 3676 §4.2), so that a
    number the recipient's client shows on one line is on one line for the detectors too.

    A line ending in a space continues on the next line of the same quote depth; space
    stuffing is undone (§4.4); the signature separator "-- " never flows; with DelSp=yes the
    trailing space itself is removed (§4.1).
    """
    out: list[str] = []
    flowing, prev_depth = False, -1
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]
        if flowing and depth == prev_depth:
            out[-1] += content
        else:
            out.append(line[:depth] + content)
        flowing = content.endswith(" ") and content != "-- "
        if flowing and delsp:
            out[-1] = out[-1][:-1]
        prev_depth = depth
    return "\n".join(out)


# --- RFC 2047 encoded words ---------------------------------------------------------------------

# RFC 2047 §2. Tolerant on purpose: no whitespace required around a word (§5 says so, clients
# ignore it), spaces allowed inside (broken Q encoders), and a word cut off at the end of the
# header (a truncated long subject) still decodes. `[^?]*` cannot run past a "?", so matching
# stays linear.
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,80})\?([QqBb])\?([^?]*)(?:\?=|\Z)")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_LINE_BREAK = re.compile(r"[\r\n]+")


def unfold_8bit(value: str) -> str:
    """Unfold a raw header value and read its raw 8-bit bytes (surrogate-escaped by the parser)."""
    if "\n" in value or "\r" in value:  # most values are one line: nothing to unfold
        value = _LINE_BREAK.sub(" ", _FOLD.sub("", value))
    if value.isascii():  # no raw 8-bit byte (the parser escapes them as surrogates): as it is
        return value
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # lone surrogates that did not come from the parser
        raw = value.encode("utf-8", "replace")
    return _guess(raw, True)[0] if not raw.isascii() else value


def decode_header_value(value: str) -> str:
    """A raw header value (as compat32 stores it) → the text a mail client shows.

    Unfolds (RFC 5322 §2.2.3), reads raw 8-bit bytes as utf-8 else windows-1252 (RFC 6532
    allows utf-8; older clients send their local charset), then decodes encoded words,
    dropping the whitespace between adjacent ones (RFC 2047 §6.2) and joining the bytes of
    adjacent words in one charset before decoding, so a character split across two words
    survives. Never raises.
    """
    value = unfold_8bit(value)
    if "=?" not in value:
        return value
    out: list[str] = []
    run_charset: str | None = None
    run: list[bytes] = []
    pos = 0
    for m in _ENCODED_WORD.finditer(value):
        gap = value[pos : m.start()]
        charset = m.group(1).split("*", 1)[0].lower()  # RFC 2231 §5: charset*language
        adjacent = bool(run) and (not gap or gap.isspace())  # only whitespace since the last word
        if run and (not adjacent or charset != run_charset):
            out.append(decode_text(b"".join(run), run_charset))
            run = []
        if not adjacent:
            out.append(gap)
        run_charset = charset
        payload = m.group(3).encode("utf-8", "replace")
        run.append(
            b64decode_tolerant(payload) if m.group(2) in "Bb" else binascii.a2b_qp(payload, header=True)
        )
        pos = m.end()
    if run:
        out.append(decode_text(b"".join(run), run_charset))
    out.append(value[pos:])
    return "".join(out)


# --- inline uuencode (pre-MIME attachments inside text/plain) -----------------------------------

# begin and end lines, found in one pass and paired in order: a lazy "begin (.*?) end" would
# rescan to the end of the text from every unmatched "begin" line (quadratic on hostile text)
_UU_END = re.compile(r"^end[ \t]*$", re.M)
_UU_MARK = re.compile(r"^(?:(begin) [0-7]{3,4} [^\n]*|end[ \t]*)$", re.M)
_MAX_UU_BLOCKS = 100


def uudecode_blocks(text: str) -> list[bytes]:
    """The decoded bytes of every ``begin 644 name`` ... ``end`` block in a plain text.

    Clients (and humans with uudecode) still open them; line by line, tolerant of bad lines.
    """
    out: list[bytes] = []
    if _UU_END.search(text) is None:  # no block ends: nothing to decode (and no begin to walk)
        return out
    start = -1
    for m in _UU_MARK.finditer(text):
        if m.group(1):
            start = m.end() + 1
            continue
        if start < 0:
            continue
        block, start = text[start : m.start()], -1
        if len(out) >= _MAX_UU_BLOCKS:
            break
        data = bytearray()
        for line in block.encode("latin-1", "replace").splitlines():
            if not line or line in (b"`", b" "):
                continue
            try:
                data += binascii.a2b_uu(line)
            except binascii.Error:
                # a line whose length byte lies: decode what its characters hold
                with contextlib.suppress(binascii.Error):
                    data += binascii.a2b_uu(line[:1] + line[1:].rstrip()[: (line[0] - 32 & 63) * 4 // 3 + 1])
        out.append(bytes(data))
    return out
