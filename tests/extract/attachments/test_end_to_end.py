"""Through the real proxy (`sendguard serve`, worker processes, loopback SMTP): a PDF carrying an
SSN is rejected, with the page named in the masked report."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.extract.attachments import samples as s
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


def send(port: int, data: bytes) -> tuple[int, str]:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as c:
        c.ehlo("client.test")
        c.mail("billing@example.com")
        c.rcpt("client@example.org")
        code, text = c.data(data)
        return code, text.decode()


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
    assert len(list((tmp / "outbox").glob("*.eml"))) == 1
