"""`Finding.digest` on bank-account findings: what a per-tenant allowlist of own accounts needs."""

from __future__ import annotations

import pytest

from scanner.detect import DetectionEngine, build_engine
from scanner.digest import value_digest
from tests.detect.conftest import scan

IBAN = "FR14 2004 1010 0505 0001 3M02 606"


@pytest.fixture(scope="module")
def keyed() -> DetectionEngine:
    return build_engine(nlp=False, digest_key="deployment secret")


@pytest.mark.parametrize(
    "text",
    [
        f"Mon IBAN : {IBAN}",
        f"Mon IBAN : {IBAN.replace(' ', '')}",
        f"Mon IBAN : {IBAN.lower()}",
        f"Pour régler par virement : IBAN {IBAN}",  # PAYEE_BANK_ACCOUNT: same account, same digest
    ],
)
def test_same_account_same_digest(keyed: DetectionEngine, text: str) -> None:
    (found,) = scan(keyed, text)
    assert found.digest == value_digest(b"deployment secret", IBAN)


def test_digest_reveals_nothing_and_depends_on_the_key(keyed: DetectionEngine) -> None:
    (found,) = scan(keyed, f"Mon IBAN : {IBAN}")
    digest = found.digest
    assert digest is not None and len(digest) == 64
    compact = IBAN.replace(" ", "")
    assert not any(compact[i : i + 4] in digest.upper() for i in range(4, len(compact) - 4))
    assert digest != value_digest(b"another secret", IBAN)
    assert "digest" not in found.as_dict()  # never in reports


@pytest.mark.parametrize("text", ["SSN 054-28-6917", "Routing 021000021, account number 4829103345"])
def test_no_digest_for_guessable_values(keyed: DetectionEngine, text: str) -> None:
    found = scan(keyed, text)
    assert found and all(f.digest is None for f in found)


def test_no_key_no_digest(fast_engine: DetectionEngine) -> None:
    (found,) = scan(fast_engine, f"Mon IBAN : {IBAN}")
    assert found.digest is None
