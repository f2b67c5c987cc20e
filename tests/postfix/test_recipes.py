"""The README's Postfix recipes are the shipped files that tests/postfix runs, word for word."""

from __future__ import annotations

import pytest

from tests.postfix.harness import REPO, SHIPPED


@pytest.mark.parametrize("path", ["after-queue/main.cf", "after-queue/master.cf", "before-queue/master.cf"])
def test_readme_quotes_the_tested_file(path: str) -> None:
    readme = (REPO / "README.md").read_text()
    assert f"```\n{(SHIPPED / path).read_text().strip()}\n```" in readme


def test_shipped_files_use_no_deprecated_or_unsafe_settings() -> None:
    text = "".join(p.read_text() for p in SHIPPED.rglob("*.cf"))
    assert "disable_dns_lookups" not in text  # deprecated since Postfix 2.11
    assert "smtpd_relay_restrictions=\n" in text.replace(" ", "")  # re-injection may relay anywhere
    assert "cleanup_service_name=sendguard-cleanup" in text
