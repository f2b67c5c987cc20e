"""The console in a real browser: Debian's headless Chromium driven by Playwright, the app served
by uvicorn on loopback, releases relayed over real SMTP to an aiosmtpd sink.

Skipped when /usr/bin/chromium is absent, unless SENDGUARD_REQUIRE_BROWSER=1 (CI), then it fails.
Screenshots go to $SENDGUARD_SCREENSHOT_DIR when set (docs/screenshots/ is made that way), else
to the test's tmp dir.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from scanner.ports import QuarantineStore
from scanner.quarantine.model import Account, Role
from scanner.quarantine.store import open_store
from scanner.relay import SmtpRelay
from scanner.review import create_app, hash_password, serve_review
from scanner.settings import QuarantineSettings, RelaySettings, ReviewSettings
from tests.review.fakes import CARD, CARD_MASKED, SSN, SSN_MASKED, events_of, held
from tests.review.sink import start_sink

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "a reviewer passphrase"


def _need_browser() -> None:
    why = None
    if not CHROMIUM.exists():
        why = f"{CHROMIUM} not installed (apt-get install chromium)"
    else:
        try:
            import playwright.async_api  # noqa: F401
        except ImportError:
            why = "playwright (python package) not installed"
    if why is None:
        return
    if os.environ.get("SENDGUARD_REQUIRE_BROWSER") == "1":
        pytest.fail(f"SENDGUARD_REQUIRE_BROWSER=1 but {why}")
    pytest.skip(why)


def _mail(subject: str, body: str, sender: str, to: str, *, attachment: bool = False) -> bytes:
    msg = EmailMessage(policy=SMTP)  # CRLF line endings, as received over SMTP
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Fri, 27 Nov 2026 09:14:02 +0000"
    msg["Message-ID"] = f"<{len(body)}.{subject.replace(' ', '')}@mail.example>"
    msg.set_content(body)
    if attachment:
        msg.add_attachment(
            b"%PDF-1.7\n...", maintype="application", subtype="pdf", filename="invoice-2231.pdf"
        )
    return msg.as_bytes()


async def _seed(store: QuarantineStore, now: datetime) -> bytes:
    target = _mail(
        "Your November statement",
        "Dear Mr Martin,\r\n\r\nAs requested, here are the details we hold for you:\r\n"
        f"  Social Security number: {SSN}\r\n  Card on file: {CARD}\r\n\r\n"
        "Please keep this email for your records.\r\n\r\nBilling team, Acme Bank\r\n",
        "billing@acme-bank.example",
        "j.martin@example.org",
        attachment=True,
    )
    await store.hold(held("0d3f9c2a7b1e", target, now - timedelta(minutes=12), tenant="acme-bank",
                          sender="billing@acme-bank.example"))  # fmt: skip
    others = [
        (
            "c81e728d9d4c",
            "Claim update",
            f"Member SSN {SSN} approved.",
            "claims@carehealth.example",
            "carehealth",
            3,
        ),
        ("eccbc87e4b5c", "Refund", f"Refund to card {CARD}.", "support@shopfast.example", "shopfast", 26),
        ("a87ff679a2f3", "Payroll", f"Employee SSN {SSN}, card {CARD}.", "hr@globex.example", "globex", 50),
    ]
    for mid, subject, body, sender, tenant, hours in others:
        data = _mail(subject, body, sender, "someone@example.net")
        await store.hold(held(mid, data, now - timedelta(hours=hours), tenant=tenant, sender=sender))
    return target


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("SENDGUARD_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture
async def console(
    tmp_path: Path,
) -> AsyncIterator[tuple[str, QuarantineStore, bytes, list[tuple[str, list[str], bytes]]]]:
    _need_browser()
    controller, sink = start_sink()
    store = await open_store(
        QuarantineSettings(url=f"sqlite+aiosqlite:///{tmp_path}/q.db", key_file=tmp_path / "q.key")
    )
    await store.put_account(Account("dana", Role.REVIEWER, hash_password(PASSWORD)))
    original = await _seed(store, datetime.now(UTC))
    relay = SmtpRelay(RelaySettings(host=controller.hostname, port=controller.port, timeout=10))
    app = create_app(store, relay, ReviewSettings())
    server = await serve_review(app, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.port}", store, original, sink.received
    finally:
        await server.stop()
        await relay.close()
        await store.close()
        controller.stop()


async def test_log_in_open_release_once(
    console: tuple[str, QuarantineStore, bytes, list[tuple[str, list[str], bytes]]], shots: Path
) -> None:
    from playwright.async_api import async_playwright

    base, store, original, received = console
    elsewhere: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 860})
            context.on("request", lambda req: None if req.url.startswith(base) else elsewhere.append(req.url))
            page = await context.new_page()

            await page.goto(f"{base}/")
            assert page.url == f"{base}/login"
            await page.fill("input[name=username]", "dana")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/")
            assert "Held mail" in await page.inner_text("h1")
            await page.screenshot(path=str(shots / "queue.png"))

            await page.click("a.msg:has-text('billing@acme-bank.example')")
            await page.wait_for_url(f"{base}/messages/0d3f9c2a7b1e")
            html = await page.content()
            assert SSN not in html and CARD not in html
            assert SSN_MASKED in html and CARD_MASKED in html
            assert "invoice-****.pdf" in html and "invoice-2231" not in html  # names masked like locations
            await page.screenshot(path=str(shots / "message.png"), full_page=True)

            # a second tab on the same message: a reviewer who will click Release late
            stale = await context.new_page()
            await stale.goto(page.url)

            await page.click("#release")
            await page.wait_for_url(f"{base}/messages/0d3f9c2a7b1e?notice=released")
            assert "Released" in await page.inner_text(".notice")
            assert await page.locator("#release").count() == 0  # nothing left to click twice

            await stale.click("#release")  # the stale form still carries a valid CSRF token
            await stale.wait_for_url(f"{base}/messages/0d3f9c2a7b1e?notice=not_held")
            assert "Nothing sent" in await stale.inner_text(".notice")
        finally:
            await browser.close()

    assert len(received) == 1
    mail_from, rcpt_tos, data = received[0]
    assert (mail_from, rcpt_tos) == ("billing@acme-bank.example", ["client@example.org"])
    assert data == original
    assert elsewhere == []
    assert [e.action for e in await events_of(store)].count("release") == 1
