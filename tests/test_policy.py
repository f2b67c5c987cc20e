"""Policy files map (group, confidence) to actions; the most severe action wins."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from scanner.assets import config_dir
from scanner.model import Action, Confidence, Finding, Group
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
