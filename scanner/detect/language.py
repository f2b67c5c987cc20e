"""A cheap English/French guess per segment, from stopword counts. Pure.

Good enough to pick a spaCy model; identifier context lists do not depend on it (English and
French keywords are always both consulted).
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-zàâäçéèêëîïôöùûüœ']+", re.IGNORECASE)
_EN = frozenset(
    {
        *("the", "and", "of", "to", "in", "is", "that", "for", "it", "with", "as", "was", "on", "be"),
        *("this", "are", "by", "at", "from", "have", "not", "you", "your", "i", "we", "he", "she"),
        *("they", "his", "her", "our", "an", "or", "but", "which", "would", "there", "their", "will"),
        *("can", "has", "had", "been", "were"),
    }
)
_FR = frozenset(
    {
        *("le", "la", "les", "de", "des", "du", "un", "une", "et", "est", "en", "que", "qui", "dans"),
        *("pour", "pas", "sur", "au", "aux", "avec", "ce", "cette", "il", "elle", "nous", "vous"),
        *("ils", "sont", "été", "être", "par", "plus", "ne", "se", "son", "sa", "ses", "leur"),
        *("mais", "ou", "où", "très", "j'ai", "c'est"),
    }
)
# enough words to decide; reading further changes little and costs time on long bodies
_SAMPLE = 4000


def guess_language(text: str) -> str:
    """'fr' when French stopwords outnumber English ones, else 'en'."""
    en = fr = 0
    for word in _WORD.findall(text[:_SAMPLE].lower()):
        if word in _EN:
            en += 1
        if word in _FR:
            fr += 1
    return "fr" if fr > en else "en"
