"""Every private of a library sendguard relies on, pinned against the installed version.

Each is used where no public API gives the same thing (the reason is written at the use).
When an upgrade changes one, the test here fails with the name of what moved, instead of
mail being parsed, bounded or answered differently without a word. aiosmtplib's
``_ehlo_or_helo_if_needed`` is no longer used (the relay calls ``is_ehlo_or_helo_needed`` and
``ehlo()``/``helo()``), and is checked as such.
"""

from __future__ import annotations

import collections
import inspect
import re
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

import aiosmtpd.smtp
from aiosmtpd.smtp import SMTP

import scanner
from scanner.detect.digit_windows import Bound
from scanner.extract.mime import raw_payload


def test_email_message_payload_is_what_the_parser_stored() -> None:
    # scanner.extract.mime.raw_payload reads Message._payload: get_payload() re-decodes 8-bit
    # bodies with the declared charset (losing bytes) and raises on a NUL in the charset
    single = BytesParser(policy=compat32).parsebytes(
        b'Content-Type: text/plain; charset="x\x00y"\r\n\r\ncaf\xc3\xa9\r\n'
    )
    assert "_payload" in vars(Message()), "email.message.Message no longer has _payload"
    assert raw_payload(single) == "caf\udcc3\udca9\r\n"  # surrogate-escaped wire bytes
    multi = BytesParser(policy=compat32).parsebytes(
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n\r\none\r\n--b--\r\n'
    )
    parts = raw_payload(multi)
    assert isinstance(parts, list) and len(parts) == 1 and isinstance(parts[0], Message)


def test_re_parser_still_gives_the_tree_digit_windows_reads() -> None:
    # scanner.detect.digit_windows proves each pattern's bounds from re._parser's tree
    from re import _parser  # type: ignore[attr-defined]

    parsed = _parser.parse(r"\d{3}-\d{2}", 0)
    assert hasattr(parsed, "data") and parsed.getwidth() == (6, 6)
    assert Bound.of(re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)")) == Bound(lead=0, reach=12, digits=9, run=4)
    assert Bound.of(re.compile(r"[A-Z]{2}\d{2}")) == Bound(lead=2, reach=4, digits=2, run=2)
    assert Bound.of(re.compile(r"x?\d\d")) == Bound(lead=1, reach=3, digits=2, run=2)


def test_aiosmtpd_handle_client_is_the_session_coroutine() -> None:
    # scanner.smtp overrides SMTP._handle_client to refuse sessions beyond max_sessions
    # before the banner (aiosmtpd has no hook there)
    assert inspect.iscoroutinefunction(SMTP._handle_client)
    assert "self._handle_client()" in inspect.getsource(SMTP.connection_made)


def test_aiosmtpd_size_errors_start_with_the_text_we_rewrite() -> None:
    # scanner.smtp rewrites aiosmtpd's "552 Error: ..." (no enhanced status code) to 552 5.3.4
    source = inspect.getsource(aiosmtpd.smtp)
    assert "'552 Error: Too much mail data'" in source
    assert "'552 Error: message size exceeds fixed maximum message '" in source
    assert "552 Error" in Path(scanner.__file__).parent.joinpath("smtp.py").read_text()


def test_the_relay_uses_no_aiosmtplib_private_but_the_protocols_drain() -> None:
    relay = Path(scanner.__file__).parent.joinpath("relay.py").read_text()
    assert re.search(r"client\._[a-z]", relay) is None
    # the relay writes DATA in slices (scanner.wire) with the transport's flow control, which
    # aiosmtplib keeps private: FlowControlMixin._drain_helper, as in asyncio's StreamWriter
    assert set(re.findall(r"protocol\._[a-z_]+", relay)) == {"protocol._drain_helper"}
    from aiosmtplib.protocol import SMTPProtocol

    assert inspect.iscoroutinefunction(SMTPProtocol._drain_helper)
    assert "self._paused" in inspect.getsource(SMTPProtocol._drain_helper)


def test_aiosmtpd_mail_and_rcpt_still_need_dsn_split_off_first() -> None:
    # scanner.smtp wraps smtp_MAIL/smtp_RCPT (keeping their @syntax for HELP) to take RFC 3461
    # parameters out first: aiosmtpd upper-cases every parameter (ENVID and ORCPT are
    # case-sensitive xtext) and refuses any it does not know with 555. It also gives each session
    # its own command_size_limits, which aiosmtpd keeps on the class (shared by every session).
    mail, rcpt = inspect.getsource(SMTP.smtp_MAIL), inspect.getsource(SMTP.smtp_RCPT)
    assert "addrparams.upper().split()" in mail and "555 MAIL FROM parameters not recognized" in mail
    assert "params.upper().split()" in rcpt and "555 RCPT TO parameters not recognized" in rcpt
    assert hasattr(SMTP.smtp_MAIL, "__smtp_syntax__") and hasattr(SMTP.smtp_RCPT, "__smtp_syntax__")
    assert isinstance(vars(SMTP)["command_size_limits"], collections.defaultdict)
    assert "self.command_size_limits['MAIL'] += 26" in inspect.getsource(SMTP.smtp_EHLO)


def test_aiosmtpd_data_command_privates_the_bounded_reader_uses() -> None:
    # scanner.smtp replaces SMTP.smtp_DATA's line-by-line loop (a Python object per line) with
    # chunked reads: it needs the post-DATA state reset, the hook call and the reader, and gives
    # pipelined bytes read past the end of data back to the reader's buffer
    import asyncio

    for name in ("_set_post_data_state", "_call_handler_hook", "check_helo_needed", "check_auth_needed"):
        assert callable(getattr(SMTP, name, None)), f"aiosmtpd SMTP.{name} moved"
    assert "self._reader" in inspect.getsource(SMTP.connection_made)
    assert "await self._call_handler_hook('DATA')" in inspect.getsource(SMTP.smtp_DATA)
    loop = asyncio.new_event_loop()
    try:
        assert isinstance(asyncio.StreamReader(loop=loop)._buffer, bytearray)
    finally:
        loop.close()
    assert aiosmtpd.smtp.MISSING is not None


def test_aiosmtpd_getaddr_is_what_mail_and_rcpt_parse_paths_with() -> None:
    # scanner.smtp overrides SMTP._getaddr with a fast path for plain <local@domain> paths
    assert callable(getattr(SMTP, "_getaddr", None)), "aiosmtpd SMTP._getaddr moved"
    for command in (SMTP.smtp_MAIL, SMTP.smtp_RCPT):
        assert "self._getaddr(" in inspect.getsource(command), f"{command.__name__} no longer calls _getaddr"


def test_email_message_params_go_through_get_params_preserve() -> None:
    # scanner.extract.parsing.ParsedPart keeps what Message._get_params_preserve parsed per value
    assert callable(getattr(Message, "_get_params_preserve", None)), "Message._get_params_preserve moved"
    for method in (Message.get_params, Message.get_param):
        assert "self._get_params_preserve(" in inspect.getsource(method), f"{method.__name__} changed"
