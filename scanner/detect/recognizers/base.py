"""The base of every sendguard recognizer: a presidio `PatternRecognizer` that also knows its
group, its context lists, how to validate itself against the surrounding text and how to mask.

Recognizers stay presidio-shaped (patterns, `validate_result`, a registry) so they can be reused
with an `AnalyzerEngine` and compared with presidio's own; the engine compiles their patterns
once and drives them itself (`Rule`), because presidio's analyzer runs full spaCy on every text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from presidio_analyzer import Pattern, PatternRecognizer

from scanner.detect.context import ContextLexicon, KeywordMatcher
from scanner.detect.masking import mask
from scanner.detect.scoring import Check
from scanner.model import Group

# A candidate number must not be the middle of a longer token or digit group: nothing
# alphanumeric right before/after it, and no "digit + separator" glued on either side
# (so "2024-01-15" or a UUID's last group never start a match).
BEFORE = r"(?<![\w+])(?<!\w[.\-/])"
AFTER = r"(?!\w)(?![.\-/]\w)"
# one optional separator between digit groups: space (NBSP is folded to space), dash or dot
SEP = r"[ \-.]?"

_SEPARATORS = re.compile(r"[\s\-./]+")
# dates (2025-01-15, 15-01-2025, 20250115) and North American phone layouts (555-123-4567):
# licence and passport words are often followed by an expiry date or a phone number
_DATE_OR_PHONE = re.compile(
    r"(?:19|20)\d\d[ \-.]?(?:0[1-9]|1[0-2])[ \-.]?(?:0[1-9]|[12]\d|3[01])"
    r"|(?:0[1-9]|[12]\d|3[01])[ \-.](?:0[1-9]|1[0-2])[ \-.](?:19|20)\d\d"
    r"|\d{3}[ \-.]\d{3}[ \-.]\d{4}"
)


def date_or_phone(value: str) -> bool:
    """True when the whole value is shaped like a date or a North American phone number."""
    return _DATE_OR_PHONE.fullmatch(value) is not None


def compact(value: str) -> str:
    """The value without separators, upper case (what checksums are computed over)."""
    return _SEPARATORS.sub("", value).upper()


@dataclass(frozen=True, slots=True)
class Rule:
    """What the engine runs for one category: compiled patterns, context, validator, mask."""

    category: str
    group: Group
    patterns: tuple[re.Pattern[str], ...]
    positive: KeywordMatcher
    requires_context: bool
    # context only counts in the candidate's own sentence (checked with spaCy when NLP is on)
    sentence_bound: bool
    check: Callable[[str, int, int], tuple[Check, int]]
    mask: Callable[[str], str]
    # the category reported when `check` says Check.LOOKALIKE (TEST_PAYMENT_CARD...)
    lookalike_category: str | None = None


class SendguardRecognizer(PatternRecognizer):
    """Subclasses set the class attributes and usually override `validate_result`.

    Class names must differ from presidio's own: presidio's registry loader looks recognizer
    classes up by ``__name__`` among *all* `EntityRecognizer` subclasses in the process, so a
    ``UsSsnRecognizer`` here would silently replace presidio's in any `AnalyzerEngine` built in
    the same process (tests/detect/test_recognizers.py guards this).
    """

    CATEGORY: ClassVar[str]
    GROUP: ClassVar[Group]
    PATTERNS: ClassVar[tuple[tuple[str, str], ...]]  # (name, regex)
    CONTEXT: ClassVar[tuple[str, ...]]  # names of models/context lists
    REQUIRES_CONTEXT: ClassVar[bool] = False
    SENTENCE_BOUND: ClassVar[bool] = False
    FLAGS: ClassVar[int] = re.IGNORECASE
    KEEP_HEAD: ClassVar[int] = 0
    KEEP_TAIL: ClassVar[int] = 4
    LOOKALIKE_CATEGORY: ClassVar[str | None] = None

    def __init__(self, context_words: list[str] | None = None, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity=self.CATEGORY,
            name=type(self).__name__,
            supported_language=supported_language,
            patterns=[Pattern(name, regex, 0.5) for name, regex in self.PATTERNS],
            context=context_words or [],
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        """True: checksum valid; False: not this identifier; None: nothing to check."""
        return None

    def check(self, text: str, start: int, end: int) -> tuple[Check, int]:
        """Validate text[start:end]; may shorten the match (returns the end actually used)."""
        verdict = self.validate_result(text[start:end])
        if verdict is None:
            return Check.PATTERN, end
        return (Check.CHECKSUM if verdict else Check.INVALID), end

    def mask_value(self, value: str) -> str:
        return mask(value, keep_tail=self.KEEP_TAIL, keep_head=self.KEEP_HEAD)

    def to_rule(self, lexicon: ContextLexicon) -> Rule:
        return Rule(
            category=self.CATEGORY,
            group=self.GROUP,
            patterns=tuple(re.compile(regex, self.FLAGS) for _, regex in self.PATTERNS),
            positive=lexicon.matcher(self.CONTEXT),
            requires_context=self.REQUIRES_CONTEXT,
            sentence_bound=self.SENTENCE_BOUND,
            check=self.check,
            mask=self.mask_value,
            lookalike_category=self.LOOKALIKE_CATEGORY,
        )


def trim_groups(text: str, start: int, end: int, valid: Callable[[str], bool], min_len: int) -> int | None:
    """The longest end <= `end` at a separator boundary for which `valid` holds, or None.

    Spaced patterns are greedy: "FR76 3000 … 189 to" or "4111 1111 1111 1111 2 copies" may take
    one group too many; dropping trailing groups recovers the real value.
    """
    while end - start >= min_len:
        if valid(compact(text[start:end])):
            return end
        cut = max(text.rfind(sep, start, end) for sep in " -.")
        if cut <= start:
            return None
        end = cut
    return None
