"""Presidio's other national recognizers (ES_NIF, IT_FISCAL_CODE, UK_NHS, ...) as sendguard rules.

They are off by default and enabled by name (`Settings.scan.extra_recognizers`). Their own
patterns, checksums (`validate_result` / `invalidate_result`) and context words are kept; the
context words are matched whole-word in sendguard's window, like every other rule, and the
finding lands in the government_id group.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Sequence
from typing import Any, cast

import regex  # type: ignore[import-untyped]
from presidio_analyzer import PatternRecognizer
from presidio_analyzer import predefined_recognizers as predefined

from scanner.detect.context import KeywordMatcher
from scanner.detect.masking import mask
from scanner.detect.recognizers.base import Rule
from scanner.detect.scoring import Check
from scanner.model import Group

# ours replace presidio's for these entities
_OURS = frozenset(
    {"US_SSN", "US_ITIN", "US_DRIVER_LICENSE", "US_PASSPORT", "US_BANK_NUMBER", "ABA_ROUTING_NUMBER"}
)


def available() -> dict[str, type[PatternRecognizer]]:
    """Entity name -> presidio class, for every country-specific pattern recognizer."""
    out: dict[str, type[PatternRecognizer]] = {}
    for name in predefined.__all__:
        cls = getattr(predefined, name, None)
        if not (inspect.isclass(cls) and issubclass(cls, PatternRecognizer)):
            continue
        if ".country_specific." not in cls.__module__:
            continue
        try:
            entity = cast(Any, cls)().supported_entities[0]
        except Exception:  # a recognizer that cannot be built with defaults is not offered
            continue
        if entity not in _OURS:
            out[entity] = cls
    return out


def _rule(recognizer: PatternRecognizer) -> Rule:
    flags = recognizer.global_regex_flags or (regex.DOTALL | regex.MULTILINE | regex.IGNORECASE)
    sources: list[Any] = getattr(recognizer, "patterns", [])
    patterns = tuple(cast(re.Pattern[str], regex.compile(p.regex, flags=flags)) for p in sources)

    def check(text: str, start: int, end: int) -> tuple[Check, int]:
        value = text[start:end]
        if recognizer.invalidate_result(value):
            return Check.INVALID, end
        verdict: Any = recognizer.validate_result(value)
        if verdict is None:
            return Check.PATTERN, end
        return (Check.CHECKSUM if verdict else Check.INVALID), end

    return Rule(
        category=recognizer.supported_entities[0],
        group=Group.GOVERNMENT_ID,
        patterns=patterns,
        positive=KeywordMatcher(recognizer.context or ()),
        requires_context=False,
        sentence_bound=False,
        check=check,
        mask=lambda value: mask(value, keep_tail=3),
    )


def national_rules(names: Sequence[str]) -> list[Rule]:
    """Rules for the named presidio entities; unknown names raise ValueError listing the valid ones."""
    if not names:
        return []
    classes = available()
    unknown = sorted(set(names) - classes.keys())
    if unknown:
        raise ValueError(f"unknown extra recognizers {unknown}; available: {sorted(classes)}")
    return [_rule(cast(Any, classes[name])()) for name in names]
