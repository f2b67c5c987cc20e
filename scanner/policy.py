"""Policy: which action for which finding. `decide` is pure and synchronous.

The policy file (TOML, validated by pydantic at the edge) maps each group and confidence level to
an action; the message gets the most severe action any finding maps to. Findings scored below
``thresholds.min_score`` are ignored.

Fail closed: text the scanner did not read is an `Unscanned` finding (group ``unscanned``),
mapped by the ``[unscanned]`` table per kind, default **hold**; only ``image`` defaults to pass
(an image is listed, it is not text we skipped).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field

from scanner.model import Action, Confidence, Finding, Group, Unscanned, Verdict


class _Levels(BaseModel):
    model_config = ConfigDict(extra="forbid")

    high: Action = Action.REJECT
    medium: Action = Action.REJECT
    low: Action = Action.TAG


class _Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_score: float = Field(default=0.3, ge=0.0, le=1.0)


class _UnscannedActions(BaseModel):
    """``[unscanned]``: an action per kind of unread text; kinds not named take ``default``."""

    model_config = ConfigDict(extra="forbid")

    default: Action = Action.HOLD
    kinds: dict[Unscanned, Action] = Field(default_factory=lambda: {Unscanned.IMAGE: Action.PASS})


class PolicyFile(BaseModel):
    """The on-disk schema of config/policy.toml."""

    model_config = ConfigDict(extra="forbid")

    groups: dict[Group, _Levels] = Field(default_factory=dict)
    unscanned: _UnscannedActions = _UnscannedActions()
    thresholds: _Thresholds = _Thresholds()


@dataclass(frozen=True, slots=True)
class Policy:
    actions: Mapping[tuple[Group, Confidence], Action]
    min_score: float = 0.3
    unscanned: Mapping[Unscanned, Action] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_file(cls, path: Path) -> Policy:
        with path.open("rb") as fh:
            return cls.from_model(PolicyFile.model_validate(tomllib.load(fh)))

    @classmethod
    def from_model(cls, model: PolicyFile) -> Policy:
        actions: dict[tuple[Group, Confidence], Action] = {}
        for group in Group:
            if group is Group.UNSCANNED:
                continue
            levels = model.groups.get(group, _default_levels(group))
            actions[(group, Confidence.HIGH)] = levels.high
            actions[(group, Confidence.MEDIUM)] = levels.medium
            actions[(group, Confidence.LOW)] = levels.low
        unscanned = {kind: model.unscanned.kinds.get(kind, model.unscanned.default) for kind in Unscanned}
        return cls(MappingProxyType(actions), model.thresholds.min_score, MappingProxyType(unscanned))

    @classmethod
    def default(cls) -> Policy:
        return cls.from_model(PolicyFile())

    def action_for(self, finding: Finding) -> Action:
        kind = Unscanned.of(finding)
        if kind is not None:
            return self.unscanned.get(kind, Action.HOLD)
        if finding.score < self.min_score:
            return Action.PASS
        return self.actions.get((finding.group, finding.confidence), Action.PASS)


def _default_levels(group: Group) -> _Levels:
    if group is Group.MEDICAL:
        return _Levels(high=Action.HOLD, medium=Action.HOLD, low=Action.TAG)
    return _Levels()


def decide(policy: Policy, findings: Iterable[Finding], defects: Iterable[str] = ()) -> Verdict:
    """The verdict for one message: the most severe action over all findings. Pure."""
    found = tuple(findings)
    action = Action.PASS
    reasons: list[Finding] = []
    for finding in found:
        act = policy.action_for(finding)
        if act.severity > action.severity:
            action, reasons = act, [finding]
        elif act is action and act is not Action.PASS:
            reasons.append(finding)
    return Verdict(action=action, findings=found, reasons=tuple(reasons), defects=tuple(defects))
