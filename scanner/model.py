"""The domain model shared by every layer: frozen, slotted dataclasses, no I/O.

A message flows through sendguard as

    bytes --extract--> Extraction(segments) --detect--> Finding... --decide--> Verdict

and nothing in this module ever holds a matched value in clear: a `Finding` carries the
category, where it was found (segment location + character offsets) and a *masked* form only.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field


class Group(enum.StrEnum):
    """The four groups of forbidden data named by the platform's privacy policy."""

    GOVERNMENT_ID = "government_id"
    PAYMENT_CARD = "payment_card"
    BANK_ACCOUNT = "bank_account"
    MEDICAL = "medical"
    # not forbidden data but the absence of a reading: text a recipient may receive that the
    # scanner did not read (see `Unscanned`). Fail closed: the policy maps it to an action.
    UNSCANNED = "unscanned"


class Confidence(enum.IntEnum):
    """How sure a detector is.

    LOW: pattern only. MEDIUM: pattern + checksum (or pattern + context where no checksum
    exists). HIGH: pattern + checksum + context.
    """

    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class Action(enum.StrEnum):
    """What the proxy does with a message. Ordered by severity (see `severity`)."""

    PASS = "pass"
    TAG = "tag"
    HOLD = "hold"
    REJECT = "reject"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Action.PASS: 0, Action.TAG: 1, Action.HOLD: 2, Action.REJECT: 3}


class SegmentKind(enum.StrEnum):
    SUBJECT = "subject"
    TEXT = "text"
    HTML = "html"
    ATTACHMENT = "attachment"
    HEADER = "header"  # a header field, a file name or an envelope address
    MARKUP = "markup"  # HTML attributes, URLs, comments, title, CSS strings: one item a line


class Unscanned(enum.StrEnum):
    """Why some of a message was not read. Each becomes a finding of group `Group.UNSCANNED`
    whose category is ``UNSCANNED_<KIND>``; `[unscanned]` in the policy file maps each kind to
    an action (default hold: a reviewer decides). Never a pass by default, except IMAGE:
    images are listed, not text.
    """

    TEXT_LIMIT = "text_limit"  # decoded text past scan.max_text_bytes
    NESTING_LIMIT = "nesting_limit"  # MIME or archive nesting past its limit
    PART_LIMIT = "part_limit"  # more parts / archive members than the limit
    SIZE_LIMIT = "size_limit"  # an attachment (or its uncompressed size/ratio) over its limit
    UNDECODABLE = "undecodable"  # a part that failed to decode or parse
    ENCRYPTED = "encrypted"  # password-protected PDF, archive, office document
    CORRUPT = "corrupt"  # a container we recognise but cannot open
    UNSUPPORTED = "unsupported"  # a container format we do not read
    BUDGET = "budget"  # the per-message or per-attachment time budget ran out
    IMAGE = "image"  # an image or image-only page: not OCR'd

    @property
    def category(self) -> str:
        return f"UNSCANNED_{self.name}"

    def finding(self, location: str, why: str = "") -> Finding:
        """The finding that stands for this unread text at `location`.

        `why` is a short fixed phrase of ours (never message content); it is what a report shows
        in place of a masked value.
        """
        return Finding(
            category=self.category,
            group=Group.UNSCANNED,
            location=location,
            start=0,
            end=0,
            score=1.0,
            confidence=Confidence.HIGH,
            masked=why or f"not read ({self.value.replace('_', ' ')})",
        )

    @classmethod
    def of(cls, finding: Finding) -> Unscanned | None:
        """The kind of an unscanned finding; None for any other finding."""
        if finding.group is not Group.UNSCANNED:
            return None
        return cls[finding.category.removeprefix("UNSCANNED_")]


@dataclass(frozen=True, slots=True)
class Segment:
    """One piece of decoded text and where it came from.

    `location` is what a customer reads in a report: ``subject``, ``body[1]`` (the MIME part
    path, 1-based, nested as ``body[2.1]``), ``attachment[2:report.txt]`` (a file name only
    masked: ``attachment[2:SSN ***-**-****.txt]``), ``header:From``, ``envelope:rcpt[2]``. A
    location never carries a value.
    """

    location: str
    text: str
    kind: SegmentKind = SegmentKind.TEXT
    filename: str | None = None


@dataclass(frozen=True, slots=True)
class Extraction:
    """Everything readable in a message, plus what was wrong with it (never fatal)."""

    segments: tuple[Segment, ...]
    defects: tuple[str, ...] = ()
    truncated: bool = False
    # what could not be read, as `Unscanned` findings (fail closed: the policy decides)
    unscanned: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of forbidden data found in one segment. Never carries the value in clear."""

    category: str
    group: Group
    location: str
    start: int
    end: int
    score: float
    confidence: Confidence
    masked: str
    # keyed digest of the value (`scanner.digest`), for allowlistable categories when a key is
    # configured; compared with a tenant's allowlist, never shown
    digest: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "category": self.category,
            "group": self.group.value,
            "location": self.location,
            "score": round(self.score, 2),
            "confidence": self.confidence.label,
            "masked": self.masked,
        }


@dataclass(frozen=True, slots=True)
class Scanned:
    """What the scanner says of one message: its findings and its extraction's defects."""

    findings: tuple[Finding, ...]
    defects: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    """The policy decision for one message."""

    action: Action
    findings: tuple[Finding, ...] = ()
    # findings that drove the action (a subset of findings), for the report
    reasons: tuple[Finding, ...] = ()
    defects: tuple[str, ...] = ()

    def category_counts(self) -> dict[str, int]:
        """Findings per category, sorted by name: for headers and logs (never values)."""
        return count_categories(self.findings)


def count_categories(findings: Iterable[Finding]) -> dict[str, int]:
    """Findings per category, sorted by name (what logs, reports and the queue show)."""
    out: dict[str, int] = {}
    for f in findings:
        out[f.category] = out.get(f.category, 0) + 1
    return dict(sorted(out.items()))


@dataclass(frozen=True, slots=True)
class Envelope:
    """The SMTP envelope as received, parameters kept for the relay (RFC 5321 §4.1.1.2-3)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    mail_options: tuple[str, ...] = ()
    rcpt_options: tuple[tuple[str, ...], ...] = field(default=())
    client_address: str = ""
    helo: str = ""
