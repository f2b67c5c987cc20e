"""Policy per tenant: loading (errors name the line), tenant resolution, allowlists, overrides, rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.digest import value_digest
from scanner.model import Action, Confidence, Envelope, Finding, Group, Unscanned
from scanner.tenants import PolicyError, decide_for, load_book

KEY = b"server-key"
IBAN = "FR76 3000 6000 0112 3456 7890 189"
POLICY = f"""
[groups.medical]
high = "hold"

[tenants.acme]
domains = ["acme.example"]
language = "fr"
senders = ["payroll@acme.example", "@hr.acme.example"]
allow_digests = ["{value_digest(KEY, IBAN)}"]

[tenants.acme.groups.payment_card]
high = "hold"

[tenants.clinic]
care_provider = true
health_recipient_domains = ["hospital.example"]

[tenants.nocontract]
health_recipient_domains = ["hospital.example"]
"""


def finding(
    group: Group, category: str = "X", conf: Confidence = Confidence.HIGH, digest: str | None = None
) -> Finding:
    return Finding(category, group, "body[1]", 0, 4, 0.9, conf, "****", digest)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    p = tmp_path / "policy.toml"
    p.write_text(POLICY)
    return p


def env(sender: str = "billing@acme.example", *rcpts: str) -> Envelope:
    return Envelope(sender, rcpts or ("c@example.org",))


def test_tenant_from_header_then_sender_domain(path: Path) -> None:
    book = load_book(path)
    assert book.tenant_of("beta", "x@acme.example") == "beta"
    assert book.tenant_of(None, "x@ACME.example") == "acme"
    assert book.tenant_of(None, "x@other.example") is None and book.tenant_of(None, "") is None
    assert book.language_of("acme") == "fr" and book.language_of(None) is None


@pytest.mark.parametrize(
    ("tenant", "envelope", "found", "action", "rule"),
    [
        (None, env(), finding(Group.PAYMENT_CARD), Action.REJECT, "groups.payment_card.high"),
        ("acme", env(), finding(Group.PAYMENT_CARD), Action.HOLD, "tenants.acme.groups.payment_card.high"),
        (
            "acme",
            env(),
            finding(Group.PAYMENT_CARD, conf=Confidence.MEDIUM),
            Action.REJECT,
            "groups.payment_card.medium",
        ),
        (
            "acme",
            env(),
            finding(Group.BANK_ACCOUNT, "IBAN", digest=value_digest(KEY, IBAN.replace(" ", "").lower())),
            Action.PASS,
            "tenants.acme.allow_digests",
        ),
        (
            "acme",
            env(),
            finding(Group.BANK_ACCOUNT, "IBAN", digest=value_digest(KEY, "DE89370400440532013000")),
            Action.REJECT,
            "groups.bank_account.high",
        ),
        (
            None,
            env(),
            finding(Group.BANK_ACCOUNT, "IBAN", digest=value_digest(KEY, IBAN)),
            Action.REJECT,
            "groups.bank_account.high",
        ),
        (
            "acme",
            env("payroll@acme.example"),
            finding(Group.GOVERNMENT_ID),
            Action.PASS,
            "tenants.acme.senders",
        ),
        (
            "acme",
            env("anyone@hr.acme.example"),
            finding(Group.GOVERNMENT_ID),
            Action.PASS,
            "tenants.acme.senders",
        ),
        (
            "acme",
            env("payroll@acme.example"),
            Unscanned.ENCRYPTED.finding("attachment[2:a.zip]"),
            Action.HOLD,
            "unscanned.encrypted",
        ),
        (
            "clinic",
            env("d@clinic.example", "a@hospital.example", "b@HOSPITAL.example"),
            finding(Group.MEDICAL),
            Action.PASS,
            "tenants.clinic.health_recipient_domains",
        ),
        (
            "clinic",
            env("d@clinic.example", "a@hospital.example", "b@gmail.example"),
            finding(Group.MEDICAL),
            Action.HOLD,
            "groups.medical.high",
        ),
        (
            "nocontract",
            env("d@x.example", "a@hospital.example"),
            finding(Group.MEDICAL),
            Action.HOLD,
            "groups.medical.high",
        ),
    ],
)
def test_rulings(
    path: Path, tenant: str | None, envelope: Envelope, found: Finding, action: Action, rule: str
) -> None:
    verdict, (ruling,) = decide_for(load_book(path), tenant, envelope, [found])
    assert (ruling.action, ruling.rule) == (action, rule)
    assert verdict.action is action


def test_verdict_reasons_are_the_most_severe(path: Path) -> None:
    found = [finding(Group.PAYMENT_CARD), finding(Group.GOVERNMENT_ID), finding(Group.MEDICAL)]
    verdict, rulings = decide_for(load_book(path), "acme", env(), found)
    assert verdict.action is Action.REJECT and verdict.reasons == (found[1],)
    assert [r.action for r in rulings] == [Action.HOLD, Action.REJECT, Action.HOLD]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ('high = "hold"\n\n[tenants.clinic]', 'high = "shred"\n\n[tenants.clinic]'),
            "line 12: tenants.acme.groups.payment_card.high",
        ),
        (("care_provider = true", "care_provider = maybe"), "line 15"),  # TOML syntax: tomllib's line
        (('language = "fr"', 'language = "de"'), "line 7: tenants.acme.language"),
        (
            ('domains = ["acme.example"]', 'domains = ["acme.example"]\ncolour = "blue"'),
            "line 7: tenants.acme.colour",
        ),
        (('allow_digests = ["', 'allow_digests = ["FF'), "line 9: tenants.acme.allow_digests"),
    ],
)
def test_invalid_file_is_refused_naming_the_line(path: Path, edit: tuple[str, str], message: str) -> None:
    path.write_text(POLICY.replace(*edit))
    with pytest.raises(
        PolicyError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")
    ):
        load_book(path)


def test_shipped_policy_loads() -> None:
    from scanner.assets import config_dir

    assert load_book(config_dir() / "policy.toml").tenants == {}


def test_engine_digests_allowlistable_values_where_it_finds_them() -> None:
    """The digest is made in the detection engine (the worker), from the value it matched."""
    from scanner.detect import build_engine
    from scanner.model import Segment

    text = f"Virement sur l'IBAN {IBAN} merci. Carte bancaire 4111 1111 1111 1111. SSN 536-22-8843."
    found = build_engine(nlp=False, digest_key="server-key").detect([Segment("body[1]", text)])
    by = {f.category: f for f in found}
    assert by["IBAN"].digest == value_digest(KEY, IBAN)
    # a published test card is its own category (tagged), still digested for a tenant's allowlist
    assert by["TEST_PAYMENT_CARD"].digest == value_digest(KEY, "4111111111111111")
    assert all(f.digest is None for f in found if f.group.value not in ("bank_account", "payment_card"))
    assert all(f.digest is None for f in build_engine(nlp=False).detect([Segment("body[1]", text)]))
