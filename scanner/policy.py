"""Policy: which action for which finding. `decide` is pure and synchronous.

The policy file (TOML, validated by pydantic at the edge) maps each group and confidence level to
an action; the message gets the most severe action any finding maps to. Findings scored below
``thresholds.min_score`` are ignored.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field

from scanner.model import Action, Confidence, Finding, Group, Verdict


class _Levels(BaseModel):
    model_config = ConfigDict(extra="forbid")

    high: Action = Action.REJECT
    medium: Action = Action.REJECT
    low: Action = Action.TAG


class _Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_score: float = Field(default=0.3, ge=0.0, le=1.0)


class PolicyFile(BaseModel):
    """The on-disk schema of config/policy.toml."""

    model_config = ConfigDict(extra="forbid")

    groups: dict[Group, _Levels] = Field(default_factory=dict)
    thresholds: _Thresholds = _Thresholds()


@dataclass(frozen=True, slots=True)
class Policy:
    actions: Mapping[tuple[Group, Confidence], Action]
    min_score: float = 0.3

    @classmethod
    def from_file(cls, path: Path) -> Policy:
        with path.open("rb") as fh:
            return cls.from_model(PolicyFile.model_validate(tomllib.load(fh)))

    @classmethod
    def from_model(cls, model: PolicyFile) -> Policy:
        actions: dict[tuple[Group, Confidence], Action] = {}
        for group in Group:
            levels = model.groups.get(group, _default_levels(group))
            actions[(group, Confidence.HIGH)] = levels.high
            actions[(group, Confidence.MEDIUM)] = levels.medium
            actions[(group, Confidence.LOW)] = levels.low
        return cls(MappingProxyType(actions), model.thresholds.min_score)

    @classmethod
    def default(cls) -> Policy:
        return cls.from_model(PolicyFile())

    def action_for(self, finding: Finding) -> Action:
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
