"""The dispatcher against a loopback receiver that verifies signatures (Standard Webhooks)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from scanner._errors import RelayPermanentError
from scanner.events.dispatch import Dispatcher, sign
from scanner.events.journal import Journal, Rejection
from scanner.events.model import EventType, event
from scanner.events.outbox import SqlOutbox, Status
from scanner.model import Action, Confidence, Envelope, Finding, Group, Verdict
from scanner.quarantine.store import SqlQuarantineStore
from scanner.reports.dsn import Report
from scanner.settings import WebhookEndpoint, WebhookSettings
from tests.events.conftest import SECRET, Receiver
from tests.fakes import FakeRelay

SSN = Finding("US_SSN", Group.GOVERNMENT_ID, "body[1]", 5, 16, 0.9, Confidence.HIGH, "***-**-6789")


def settings(url: str, **kw: object) -> WebhookSettings:
    base: dict[str, object] = {
        "url": url,
        "secret": SecretStr(SECRET),
        "min_backoff": 0.01,
        "max_backoff": 0.05,
    }
    return WebhookSettings.model_validate(base | kw)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def test_signature_is_hmac_sha256_over_id_timestamp_body() -> None:
    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    headers = sign(SECRET, "msg_1", at, b'{"a":1}')
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    expected = base64.b64encode(
        hmac.new(key, f'msg_1.{int(at.timestamp())}.{{"a":1}}'.encode(), hashlib.sha256).digest()
    )
    assert headers["webhook-signature"] == "v1," + expected.decode()
    assert headers["webhook-timestamp"] == str(int(at.timestamp()))


async def test_events_delivered_signed_and_masked(store: SqlQuarantineStore, receiver: Receiver) -> None:
    conf = settings(receiver.url)
    box = SqlOutbox(store)
    journal = Journal(store, conf)
    env = Envelope("shop@example.com", ("c@example.org",))
    verdict = Verdict(Action.REJECT, (SSN,), (SSN,))
    await journal.rejected(Rejection("REF1", "acme", env, datetime.now(UTC), verdict, "reply"), None)
    await journal.emit(event(EventType.TAGGED, "REF2", None, datetime.now(UTC), (SSN,)))
    dispatcher = Dispatcher(box, conf, FakeRelay(), store.sealer)
    try:
        assert await dispatcher.round() == 2
    finally:
        await dispatcher.close()
    assert receiver.bad_signatures == 0 and receiver.deliveries == 2
    by_type = {b["type"]: b for b in receiver.events.values()}
    rejected = by_type["message.rejected"]["data"]
    assert rejected == {  # type: ignore[comparison-overlap]
        "reference": "REF1",
        "tenant": "acme",
        "categories": {"US_SSN": 1},
        "findings": [
            {
                "category": "US_SSN",
                "group": "government_id",
                "confidence": "high",
                "location": "body[1]",
                "masked": "***-**-6789",
            }
        ],
    }
    assert "shop@example.com" not in json.dumps(receiver.events)  # no envelope either
    assert await box.counts() == {Status.DELIVERED: 2}


async def test_endpoint_down_then_up_retries_until_delivered(
    store: SqlQuarantineStore, receiver: Receiver
) -> None:
    conf = settings(receiver.url)
    box, clock = SqlOutbox(store), Clock()
    journal = Journal(store, conf)
    dispatcher = Dispatcher(box, conf, FakeRelay(), store.sealer, clock=clock, rng=random.Random(1))
    await journal.emit(event(EventType.HELD, "REF3", "acme", clock.now, (SSN,)))
    try:
        receiver.status = 503
        assert await dispatcher.round() == 0  # claimed, none delivered
        await receiver.down()
        assert await dispatcher.round() == -1  # backing off: nothing due yet
        clock.now += timedelta(seconds=1)
        assert await dispatcher.round() == 0  # connection refused: retried too
        (item,) = await box.list(Status.PENDING)
        assert item.attempts == 2 and item.last_error == "endpoint unreachable: ConnectError"
        await receiver.up()
        receiver.status = 200
        clock.now += timedelta(seconds=1)
        assert await dispatcher.round() == 1
    finally:
        await dispatcher.close()
    assert len(receiver.events) == 1 and dispatcher.counters == {"retried": 2, "delivered": 1}


async def test_dead_letter_after_the_configured_age(store: SqlQuarantineStore, receiver: Receiver) -> None:
    conf = settings(receiver.url, dead_after_hours=1)
    box, clock = SqlOutbox(store), Clock()
    dispatcher = Dispatcher(box, conf, FakeRelay(), store.sealer, clock=clock)
    await Journal(store, conf).emit(event(EventType.HELD, "REF4", None, clock.now))
    receiver.status = 500
    try:
        await dispatcher.round()
        clock.now += timedelta(hours=2)
        await dispatcher.round()
    finally:
        await dispatcher.close()
    (dead,) = await box.list(Status.DEAD)
    assert dead.last_error == "endpoint answered 500"


async def test_tenant_endpoint_takes_precedence_over_the_default(
    store: SqlQuarantineStore, receiver: Receiver
) -> None:
    other = Receiver(secret="whsec_" + base64.b64encode(b"another-tenant-secret-32-bytes!!").decode())
    await other.up()
    conf = settings(
        receiver.url, tenants={"beta": WebhookEndpoint(url=other.url, secret=SecretStr(other.secret))}
    )
    journal = Journal(store, conf)
    await journal.emit(event(EventType.HELD, "A", "acme", datetime.now(UTC)))
    await journal.emit(event(EventType.HELD, "B", "beta", datetime.now(UTC)))
    dispatcher = Dispatcher(SqlOutbox(store), conf, FakeRelay(), store.sealer)
    try:
        await dispatcher.round()
    finally:
        await dispatcher.close()
        await other.down()
    assert [b["data"]["reference"] for b in receiver.events.values()] == ["A"]  # type: ignore[index]
    assert [b["data"]["reference"] for b in other.events.values()] == ["B"]  # type: ignore[index]
    assert other.bad_signatures == receiver.bad_signatures == 0


async def test_no_endpoint_no_event_queued(store: SqlQuarantineStore) -> None:
    journal = Journal(store, WebhookSettings())
    await journal.emit(event(EventType.HELD, "A", "acme", datetime.now(UTC)))
    assert await SqlOutbox(store).counts() == {}


async def test_report_mail_goes_through_the_relay_and_a_5xx_is_dead_at_once(
    store: SqlQuarantineStore,
) -> None:
    conf = WebhookSettings(min_backoff=0.01)
    relay = FakeRelay()
    journal = Journal(store, conf)
    env = Envelope("shop@example.com", ("c@example.org",))
    verdict = Verdict(Action.REJECT, (SSN,), (SSN,))
    report = Report(Envelope("", ("shop@example.com",)), b"Subject: report\r\n\r\nmasked\r\n")
    await journal.rejected(Rejection("REF5", None, env, datetime.now(UTC), verdict, "dsn"), report)
    await journal.rejected(Rejection("REF6", None, env, datetime.now(UTC), verdict, "dsn"), report)
    box = SqlOutbox(store)
    dispatcher = Dispatcher(box, conf, relay, store.sealer)
    try:
        assert await dispatcher.round() == 2
        assert [(e.mail_from, e.rcpt_tos, d) for e, d in relay.delivered] == [
            ("", ("shop@example.com",), report.data)
        ] * 2
        relay.fail_with = RelayPermanentError("upstream 550 no such user", code=550, status="5.1.1")
        await journal.rejected(Rejection("REF7", None, env, datetime.now(UTC), verdict, "dsn"), report)
        await dispatcher.round()
    finally:
        await dispatcher.close()
    (dead,) = await box.list(Status.DEAD)
    assert dead.reference == "REF7" and dead.attempts == 1


@pytest.mark.parametrize(
    "conf",
    [
        {"url": "http://127.0.0.1:9/"},
        {"url": "http://127.0.0.1:9/", "secret": "whsec_not base64!"},
        {"url": "http://127.0.0.1:9/", "secret": "whsec_c2hvcnQ="},
        {"tenants": {"acme": {"url": "http://127.0.0.1:9/", "secret": "whsec_"}}},
    ],
)
def test_unusable_webhook_settings_refuse_to_start(conf: dict[str, object]) -> None:
    from scanner.events.service import check_secrets

    with pytest.raises(ValueError, match="webhooks:"):
        check_secrets(WebhookSettings.model_validate(conf))
    check_secrets(WebhookSettings(url="http://127.0.0.1:9/", secret=SecretStr(SECRET)))


async def test_report_without_a_final_reply_is_never_sent_twice(store: SqlQuarantineStore) -> None:
    from scanner._errors import RelayAmbiguousError

    relay = FakeRelay(fail_with=RelayAmbiguousError("upstream closed after DATA"))
    env = Envelope("shop@example.com", ("c@example.org",))
    report = Report(Envelope("", ("shop@example.com",)), b"Subject: r\r\n\r\nx\r\n")
    verdict = Verdict(Action.REJECT, (SSN,), (SSN,))
    await Journal(store, WebhookSettings()).rejected(
        Rejection("REF8", None, env, datetime.now(UTC), verdict, "dsn"), report
    )
    box = SqlOutbox(store)
    dispatcher = Dispatcher(box, WebhookSettings(), relay, store.sealer)
    try:
        assert await dispatcher.round() == 0
        assert await dispatcher.round() == -1  # dead, not retried
    finally:
        await dispatcher.close()
    (dead,) = await box.list(Status.DEAD)
    assert dead.last_error == "no final reply from the upstream after DATA"
