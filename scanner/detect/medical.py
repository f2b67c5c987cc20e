"""Medical records detector (stub; the medical lexicon work replaces this module).

The interface is what the engine calls: a cheap `needs_nlp` pre-check per segment, then
`detect` with the spaCy doc when one was asked for. Pure and synchronous.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from scanner.model import Finding, Segment

if TYPE_CHECKING:
    from spacy.tokens import Doc


class MedicalDetector:
    def __init__(self, models_dir: Path) -> None:
        self.models_dir = models_dir

    def needs_nlp(self, text: str) -> bool:
        """Cheap check: True when a spaCy doc of this text would help `detect`."""
        return False

    def detect(self, segment: Segment, doc: Doc | None) -> list[Finding]:
        return []
