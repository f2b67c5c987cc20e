"""sendguard's own non-delivery report: an RFC 3464 ``multipart/report``. Pure.

Three parts (RFC 3462 ``multipart/report; report-type=delivery-status``):

1. ``text/plain``: for a person, in English or French — reference, masked findings and where.
2. ``message/delivery-status`` (RFC 3464 §2): per-message fields (``Reporting-MTA``,
   ``Original-Envelope-Id`` from ENVID, ``Arrival-Date``), then per recipient
   ``Original-Recipient`` (from ORCPT), ``Final-Recipient``, ``Action: failed``,
   ``Status: 5.7.1`` (RFC 3463: delivery not authorized, message refused) and
   ``Diagnostic-Code``. Only recipients whose NOTIFY asks for failures are listed (RFC 3461 §4.1).
3. ``text/rfc822-headers`` (RFC 3462 §3): a fixed set of the original's headers, as with
   ``RET=HDRS`` whatever RET said — never the body. The Subject is the only header the scanner
   reads; each finding in it is replaced by its masked form, and a subject whose findings cannot
   be placed is withheld entirely (fail closed).

Never sent to the null reverse-path (RFC 3464 §2, RFC 5321 §4.5.5); sent *from* it, with
``Auto-Submitted: auto-replied`` (RFC 3834 §5), so it cannot loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.mime.text import MIMEText
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import format_datetime, make_msgid

from scanner.dsn import EnvelopeDsn, dsn_of, is_xtext, xtext_decode
from scanner.extract.mime import decode_header_value
from scanner.model import Envelope, Finding, Verdict

_QP_UTF8 = Charset("utf-8")
_QP_UTF8.body_encoding = QP  # readable in any client, and greppable in tests
# the headers a report repeats (the Subject masked); everything else is left out
KEPT_HEADERS = ("Date", "From", "Sender", "Reply-To", "To", "Cc", "Message-ID", "In-Reply-To", "Subject")
MAX_FINDINGS_SHOWN = 50


@dataclass(frozen=True, slots=True)
class _Texts:
    subject: str
    intro: tuple[str, ...]
    more: str
    outro: tuple[str, ...]
    rcpts: str


_TEXT: dict[str, _Texts] = {
    "en": _Texts(
        subject="Undelivered Mail: refused by data protection (ref {ref})",
        intro=(
            "Your message was not delivered to any of the recipients listed below.",
            "",
            "It contains personal data that this platform does not allow in email",
            "(government ID numbers, full card or bank account numbers, medical records).",
            "",
            "Reference: {ref}",
            "",
            "What was found (values masked) and where:",
        ),
        more="  ... and {n} more",
        outro=(
            "",
            "Remove or mask these values (for example keep only the last 4 digits),",
            "then send the message again. Quote the reference if you contact support.",
        ),
        rcpts="Recipients:",
    ),
    "fr": _Texts(
        subject="Message non distribué : refusé par la protection des données (réf. {ref})",
        intro=(
            "Votre message n'a été remis à aucun des destinataires ci-dessous.",
            "",
            "Il contient des données personnelles que cette plateforme n'autorise pas par e-mail",
            "(numéros d'identité, numéros complets de carte ou de compte bancaire, données médicales).",
            "",
            "Référence : {ref}",
            "",
            "Ce qui a été trouvé (valeurs masquées) et où :",
        ),
        more="  ... et {n} de plus",
        outro=(
            "",
            "Supprimez ou masquez ces valeurs (par exemple en ne gardant que les 4 derniers chiffres),",
            "puis renvoyez le message. Indiquez la référence si vous contactez le support.",
        ),
        rcpts="Destinataires :",
    ),
}


@dataclass(frozen=True, slots=True)
class Report:
    """A report ready for the relay: from the null sender to the original sender."""

    envelope: Envelope
    data: bytes


def notified_recipients(envelope: Envelope, dsn: EnvelopeDsn) -> list[int]:
    """Indexes of the recipients whose NOTIFY asks for a failure report (unset counts as yes)."""
    return [i for i, r in enumerate(dsn.recipients) if r.wants_failure()]


def build_report(
    envelope: Envelope,
    data: bytes,
    verdict: Verdict,
    reference: str,
    *,
    hostname: str,
    language: str,
    arrived: datetime,
    now: datetime,
) -> Report | None:
    """The report for a rejected message, or None when none may be sent (null sender, NOTIFY=NEVER)."""
    if not envelope.mail_from:
        return None
    dsn = dsn_of(envelope)
    listed = notified_recipients(envelope, dsn)
    if not listed:
        return None
    text = _TEXT.get(language, _TEXT["en"])
    msg = MIMEMultipart("report", report_type="delivery-status")
    msg["From"] = f"Mail Delivery System <MAILER-DAEMON@{hostname}>"
    msg["To"] = envelope.mail_from
    msg["Subject"] = Header(text.subject.format(ref=reference), "utf-8")  # type: ignore[assignment]
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=hostname)
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Sendguard-Reference"] = reference
    human = MIMENonMultipart("text", "plain")
    human.set_payload(_human(text, verdict, reference, [envelope.rcpt_tos[i] for i in listed]), _QP_UTF8)
    msg.attach(human)
    status = Message()
    status["Content-Type"] = "message/delivery-status"
    for fields in _delivery_status(envelope, dsn, listed, reference, hostname, arrived):
        block = Message()
        for name, value in fields:
            block[name] = value
        status.attach(block)
    msg.attach(status)
    msg.attach(MIMEText(masked_headers(data, verdict.findings), "rfc822-headers", "us-ascii"))
    report_env = Envelope(mail_from="", rcpt_tos=(envelope.mail_from,))
    return Report(report_env, msg.as_bytes(policy=compat32.clone(linesep="\r\n")))


def _human(text: _Texts, verdict: Verdict, reference: str, rcpts: Sequence[str]) -> str:
    lines = [line.format(ref=reference) for line in text.intro]
    shown = verdict.reasons or verdict.findings
    for f in shown[:MAX_FINDINGS_SHOWN]:
        lines.append(f"  - {f.category} ({f.group.value}, {f.confidence.label}) in {f.location}: {f.masked}")
    if len(shown) > MAX_FINDINGS_SHOWN:
        lines.append(text.more.format(n=len(shown) - MAX_FINDINGS_SHOWN))
    lines += ["", text.rcpts, *(f"  {r}" for r in rcpts), *text.outro]
    return "\n".join(lines) + "\n"


def _printable(value: str) -> str | None:
    """RFC 3464 fields are US-ASCII text: a decoded xtext that is not stays undecoded."""
    return value if value.isascii() and value.isprintable() else None


def _delivery_status(
    envelope: Envelope,
    dsn: EnvelopeDsn,
    listed: Sequence[int],
    reference: str,
    hostname: str,
    arrived: datetime,
) -> list[list[tuple[str, str]]]:
    """The per-message block, then one block per listed recipient (RFC 3464 §2.2, §2.3)."""
    head = [("Reporting-MTA", f"dns; {hostname}")]
    if dsn.envid and is_xtext(dsn.envid):
        head.append(("Original-Envelope-Id", _printable(xtext_decode(dsn.envid)) or dsn.envid))
    head.append(("Arrival-Date", format_datetime(arrived)))
    blocks = [head]
    for i in listed:
        block = []
        orcpt = dsn.recipients[i].orcpt
        if orcpt:
            addr_type, _, addr = orcpt.partition(";")
            block.append(("Original-Recipient", f"{addr_type}; {_printable(xtext_decode(addr)) or addr}"))
        block += [
            ("Final-Recipient", f"rfc822; {envelope.rcpt_tos[i]}"),
            ("Action", "failed"),
            ("Status", "5.7.1"),
            ("Diagnostic-Code", f"smtp; 550 5.7.1 Message refused: personal data (ref {reference})"),
        ]
        blocks.append(block)
    return blocks


def masked_subject(values: Sequence[str], findings: Sequence[Finding]) -> list[str] | None:
    """The Subject lines with every finding replaced by its masked form; None if one cannot be placed.

    The extractor reads all Subject headers decoded and joined by newlines (`scanner.extract`);
    finding offsets are into that text, so the same decoding places them.
    """
    text = "\n".join(decode_header_value(v) for v in values)
    spans = sorted(
        (f.start, f.end, f.masked) for f in findings if f.location == "subject" and f.end > f.start
    )
    out, pos = [], 0
    for start, end, masked in spans:
        if start < pos or end > len(text):
            return None
        out += [text[pos:start], masked]
        pos = end
    out.append(text[pos:])
    return "".join(out).split("\n")


def masked_headers(data: bytes, findings: Sequence[Finding]) -> str:
    """The kept headers of the original (see `KEPT_HEADERS`), Subject masked."""
    head = BytesHeaderParser(policy=compat32).parsebytes(data[:65536])
    subjects = [str(v) for k, v in head.raw_items() if k.lower() == "subject"]
    masked = masked_subject(subjects, findings) if subjects else []
    if any(f.location == "subject" and f.end <= f.start for f in findings):
        masked = None  # an unplaceable subject finding (e.g. unscanned): withhold it
    lines = []
    for name in KEPT_HEADERS:
        if name == "Subject":
            if masked is None:
                lines.append("Subject: [withheld: it contains personal data]")
            lines += [_header_line("Subject", value) for value in masked or ()]
            continue
        for value in head.get_all(name, []):
            lines.append(_header_line(name, decode_header_value(str(value))))
    return "\n".join(lines) + "\n"


def _header_line(name: str, value: str) -> str:
    value = " ".join(value.split())
    if value.isascii():
        return f"{name}: {value}"
    return f"{name}: {Header(value, 'utf-8').encode()}"
