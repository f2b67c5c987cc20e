"""What an HTML part delivers outside its text flow: attributes, URLs, comments, title, CSS strings.

Pure and synchronous. A recipient receives all of it -- a tooltip (``title``), a pre-filled form
field (``value``, ``placeholder``), a screen-reader label (``aria-label``), a ``data-*`` value a
script or a tracking pixel sends on, a link whose query string carries a card number
(``href=".../confirm?card=4111..."``, ``mailto:?body=``), an Outlook conditional comment (HTML
that Outlook renders), ``<title>`` and CSS ``content:`` strings -- so all of it is scanned.

Each item becomes one line of the ``<part>/markup`` segment. An item is not a sentence: items
are kept apart by `ITEM_BREAK`, a blank stretch wider than every context window of the
detectors (keywords 60/30 characters, a routing number 80), so an item's context is its own
words only (``card=`` in a URL parameter, ``aria-label="SSN 536-22-8843"``) and two numbers
in neighbouring items never vouch for each other (a tracking id beside another is not a
routing number beside an account). Only items that can hold an identifier are kept (five
digits, or a character outside ASCII that normalisation may fold into one), which keeps the
segment small on ordinary newsletters. URLs are percent-decoded (twice: double encoding is decoded by
the receiving server in turn) and each of their parameters (split at ``?``/``&``/``#``/``;``)
is an item of its own, read as ``name=value``.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import unquote_plus

__all__ = ["ITEM_BREAK", "MAX_ITEMS", "Markup", "decode_url", "flat_markup"]

ITEM_BREAK = "\n" + " " * 96 + "\n"

# attributes whose value is shown or sent as text
_TEXT_ATTRS = frozenset(
    {"title", "value", "placeholder", "aria-label", "aria-description", "alt", "label", "summary",
     "content", "name", "download", "abbr", "cite"}
)  # fmt: skip
# attributes holding a URL (RFC 3986): percent-decoded
_URL_ATTRS = frozenset({"href", "src", "action", "background", "poster", "longdesc", "formaction", "srcset"})
# an item worth scanning: five digits (every identifier we detect has more), or a non-ASCII
# character normalisation may fold into a digit; short ids and sizes in URLs are not read
# (anchored `match`: the two classes are disjoint, so it is one linear pass; possessive `*+`, as
# giving back a non-digit could never let [0-9] match, so a failing match does not walk back)
_FIVE_DIGITS = re.compile(r"(?:[^0-9]*+[0-9]){5}")


def _worth(text: str) -> bool:
    # a character outside ASCII: `isascii` reads the flag str keeps, instead of a scan
    return not text.isascii() or _FIVE_DIGITS.match(text) is not None


_CSS_CONTENT = re.compile(r"content\s*:\s*(?:\"([^\"]{0,2000})\"|'([^']{0,2000})')", re.IGNORECASE)
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})\s?")
_URL_SEPARATORS = re.compile(r"[?&#;]")
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")
_COMMENT_TAGS = re.compile(r"<[^>]*>|\[if [^\]]{0,100}\]>?|<!\[endif\]")
_SPACES = re.compile(r"\s+")
# bounds on hostile documents: items kept, characters per item
MAX_ITEMS = 20_000
_MAX_ITEM_CHARS = 8192


def _css_strings(css: str) -> list[str]:
    out: list[str] = []
    for m in _CSS_CONTENT.finditer(css):
        value = m.group(1) if m.group(1) is not None else m.group(2)
        out.append(_CSS_ESCAPE.sub(lambda e: _codepoint(e.group(1)), value))
    return out


def _codepoint(hex_digits: str) -> str:
    cp = int(hex_digits, 16)
    return chr(cp) if 0 < cp <= 0x10FFFF and not 0xD800 <= cp <= 0xDFFF else "\ufffd"


def decode_url(url: str) -> list[str]:
    """A URL as the server behind it reads it: percent-decoded (twice at most), split into its
    address and each parameter."""
    for _ in range(2):
        if not _PERCENT.search(url) and "+" not in url:
            break
        url = unquote_plus(url, errors="replace")
    return _URL_SEPARATORS.split(url)


class Markup:
    """Accumulates the markup items of one document (see module doc)."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: list[str] = []

    def add(self, item: str) -> None:
        if len(self._items) < MAX_ITEMS and _worth(item):
            item = _SPACES.sub(" ", item[:_MAX_ITEM_CHARS]).strip()
            if item:
                self._items.append(item)

    def attributes(self, attrs: dict[str, str | None]) -> None:
        for name, value in attrs.items():
            if not value:
                continue
            if name in _URL_ATTRS:
                # a URL with nothing to decode and too few digits has no part worth reading
                if "%" in value or "+" in value or _worth(value):
                    for part in decode_url(value):
                        self.add(part)
            elif name in _TEXT_ATTRS or name.startswith("data-"):
                self.add(value)
            elif name == "style" and "content" in value.lower():
                for text in _css_strings(value):
                    self.add(text)

    def comment(self, content: str) -> None:
        """A comment; Outlook's conditional comments hold HTML, read here as its text."""
        if _worth(content):
            self.add(unescape(_COMMENT_TAGS.sub(" ", content)))

    def element_text(self, tag: str, text: str) -> None:
        if tag == "style":
            for value in _css_strings(text):
                self.add(value)
        else:
            self.add(text)

    def text(self) -> str:
        return ITEM_BREAK.join(self._items)


_FLAT_ATTR = re.compile(r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")
_FLAT_TAG = re.compile(
    r"<!--(.*?)(?:-->|\Z)|<(title|style)\b[^>]*>(.*?)(?:</\2\s*>|\Z)|<[a-zA-Z][^>]*>", re.S | re.I
)


def flat_markup(html: str) -> str:
    """The markup items of a document too deep to parse as a tree, read by a linear regex pass."""
    markup = Markup()
    for m in _FLAT_TAG.finditer(html):
        if len(markup._items) >= MAX_ITEMS:
            break
        if m.group(1) is not None:
            markup.comment(m.group(1))
        elif m.group(2) is not None:
            markup.element_text(m.group(2).lower(), unescape(m.group(3)))
        else:
            attrs = {
                a.group(1).lower(): unescape(next(v for v in a.group(2, 3, 4) if v is not None))
                for a in _FLAT_ATTR.finditer(m.group(0))
            }
            markup.attributes(dict(attrs))
    return markup.text()
