"""Policy files map (group, confidence) to actions; the most severe action wins."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from scanner.assets import config_dir
from scanner.model import Action, Confidence, Finding, Group, Unscanned
from scanner.policy import Policy, PolicyFile, decide


def finding(group: Group, conf: Confidence, score: float = 0.9, category: str = "X") -> Finding:
    return Finding(category, group, "body[1]", 0, 4, score, conf, "****")


@pytest.mark.parametrize(
    ("group", "conf", "action"),
    [
        (Group.GOVERNMENT_ID, Confidence.HIGH, Action.REJECT),
        (Group.GOVERNMENT_ID, Confidence.MEDIUM, Action.REJECT),
        (Group.GOVERNMENT_ID, Confidence.LOW, Action.TAG),
        (Group.PAYMENT_CARD, Confidence.HIGH, Action.REJECT),
        (Group.BANK_ACCOUNT, Confidence.MEDIUM, Action.REJECT),
        (Group.BANK_ACCOUNT, Confidence.LOW, Action.TAG),
        (Group.MEDICAL, Confidence.HIGH, Action.HOLD),
        (Group.MEDICAL, Confidence.MEDIUM, Action.HOLD),
        (Group.MEDICAL, Confidence.LOW, Action.TAG),
    ],
)
def test_shipped_policy_matches_the_documented_defaults(
    group: Group, conf: Confidence, action: Action
) -> None:
    shipped = Policy.from_file(config_dir() / "policy.toml")
    assert decide(shipped, [finding(group, conf)]).action is action
    assert decide(Policy.default(), [finding(group, conf)]).action is action


def test_most_severe_action_wins_and_reasons_are_the_drivers() -> None:
    f_tag = finding(Group.GOVERNMENT_ID, Confidence.LOW, category="A")
    f_hold = finding(Group.MEDICAL, Confidence.HIGH, category="B")
    f_rej = finding(Group.PAYMENT_CARD, Confidence.HIGH, category="C")
    v = decide(Policy.default(), [f_tag, f_hold, f_rej])
    assert v.action is Action.REJECT and v.reasons == (f_rej,)
    assert v.findings == (f_tag, f_hold, f_rej)


def test_no_findings_pass() -> None:
    assert decide(Policy.default(), []).action is Action.PASS


def test_scores_below_threshold_are_ignored() -> None:
    v = decide(Policy.default(), [finding(Group.PAYMENT_CARD, Confidence.HIGH, score=0.1)])
    assert v.action is Action.PASS


def test_custom_policy_file(tmp_path: Path) -> None:
    p = tmp_path / "p.toml"
    p.write_text('[groups.medical]\nhigh = "reject"\n[groups.payment_card]\nhigh = "hold"\n')
    pol = Policy.from_file(p)
    assert decide(pol, [finding(Group.MEDICAL, Confidence.HIGH)]).action is Action.REJECT
    assert decide(pol, [finding(Group.PAYMENT_CARD, Confidence.HIGH)]).action is Action.HOLD
    # unspecified levels keep their defaults
    assert decide(pol, [finding(Group.MEDICAL, Confidence.LOW)]).action is Action.TAG


@pytest.mark.parametrize(
    "text",
    [
        '[groups.medical]\nhigh = "explode"\n',
        '[groups.nope]\nhigh = "tag"\n',
        "[thresholds]\nmin_score = 2\n",
    ],
)
def test_bad_policy_files_are_refused(tmp_path: Path, text: str) -> None:
    p = tmp_path / "p.toml"
    p.write_text(text)
    with pytest.raises(ValidationError):
        Policy.from_file(p)


def test_policy_file_schema_is_strict() -> None:
    with pytest.raises(ValidationError):
        PolicyFile.model_validate({"unknown": 1})


@pytest.mark.parametrize("kind", [k for k in Unscanned if k is not Unscanned.IMAGE])
def test_unread_text_is_held_by_default_in_code_and_shipped_file(kind: Unscanned) -> None:
    shipped = Policy.from_file(config_dir() / "policy.toml")
    for policy in (Policy.default(), shipped):
        verdict = decide(policy, [kind.finding("body[1]")])
        assert verdict.action is Action.HOLD
        assert verdict.reasons[0].category == f"UNSCANNED_{kind.name}"


def test_images_are_listed_not_held_and_kinds_are_configurable() -> None:
    assert decide(Policy.default(), [Unscanned.IMAGE.finding("attachment[2]")]).action is Action.PASS
    policy = Policy.from_model(
        PolicyFile.model_validate({"unscanned": {"default": "reject", "kinds": {"encrypted": "tag"}}})
    )
    assert decide(policy, [Unscanned.BUDGET.finding("body[1]")]).action is Action.REJECT
    assert decide(policy, [Unscanned.ENCRYPTED.finding("attachment[2]")]).action is Action.TAG
    with pytest.raises(ValidationError):
        PolicyFile.model_validate({"unscanned": {"kinds": {"not_a_kind": "hold"}}})


def test_unscanned_finding_round_trips_its_kind_and_ignores_min_score() -> None:
    f = Unscanned.TEXT_LIMIT.finding("body[3]", "not read: over the text limit")
    assert Unscanned.of(f) is Unscanned.TEXT_LIMIT
    assert Unscanned.of(finding(Group.GOVERNMENT_ID, Confidence.HIGH)) is None
    strict = Policy.from_model(PolicyFile.model_validate({"thresholds": {"min_score": 1.0}}))
    assert decide(strict, [f]).action is Action.HOLD
