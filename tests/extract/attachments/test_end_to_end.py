"""Through the real proxy (`sendguard serve`, worker processes, loopback SMTP): a PDF carrying an
SSN is rejected, with the page named in the masked report."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.extract.attachments import samples as s
from tests.test_serve import send
from tests.test_serve import served as served_fixture

pytestmark = pytest.mark.slow

served = served_fixture


def message(pdf: bytes) -> bytes:
    msg = EmailMessage()
    msg["From"] = "billing@example.com"
    msg["To"] = "client@example.org"
    msg["Subject"] = "Votre relevé"
    msg.set_content("Veuillez trouver votre relevé en pièce jointe.")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="statement.pdf")
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def test_pdf_with_an_ssn_is_rejected(served: tuple[int, Path, dict[str, str]]) -> None:
    port, tmp, _ = served
    pdf = s.pdf_reportlab([["Relevé de compte"], s.lines(s.SSN, "SSN")])
    code, text = send(port, message(pdf))
    assert code == 550 and text.startswith("5.7.1"), text
    assert "US_SSN" in text and "attachment[2:statement.pdf]/page[2]" in text and "536-22" not in text
    assert not list((tmp / "outbox").glob("*.eml"))


def test_clean_pdf_is_relayed(served: tuple[int, Path, dict[str, str]]) -> None:
    port, tmp, _ = served
    code, text = send(port, message(s.pdf_reportlab([["Relevé de compte", "Solde: 1 204,00 EUR"]])))
    assert code == 250, text
    assert any(
        b"releve" not in f.read_bytes() and b"statement.pdf" in f.read_bytes()
        for f in (tmp / "outbox").glob("*.eml")
    )


def test_password_protected_pdf_is_held_not_relayed(served: tuple[int, Path, dict[str, str]]) -> None:
    """Unread is never a pass: the default policy holds UNSCANNED_ENCRYPTED for a reviewer."""
    port, tmp, _ = served
    before = len(list((tmp / "outbox").glob("*.eml")))
    code, text = send(port, message(s.pdf_reportlab([s.lines(s.SSN, "SSN")], password="secret")))
    assert code == 250, text  # durably held in the quarantine
    assert len(list((tmp / "outbox").glob("*.eml"))) == before
