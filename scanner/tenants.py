"""Policy per tenant: the policy file's ``[tenants.<name>]`` tables, and decisions that say which rule
decided. Pure and synchronous (loading reads one file).

    [tenants.acme]
    domains = ["acme.example"]        # MAIL FROM domains naming this tenant when no tenant header
    language = "fr"                   # of its rejection reports
    senders = ["payroll@acme.example", "@hr.acme.example"]    # allowlisted senders
    care_provider = true              # a care-provider agreement: medical data may go to ...
    health_recipient_domains = ["clinic.example"]              # ... these domains (every recipient)
    allow_digests = ["<64 hex>"]      # its own IBANs / test card numbers (`sendguard policy digest`)
    [tenants.acme.groups.payment_card]
    high = "hold"                     # overrides of the default [groups] actions

An allowlist never covers unread text: `Unscanned` findings keep their ``[unscanned]`` action
(fail closed). The tenant is the configured header's value when present, else the tenant whose
``domains`` holds the sender's domain, else none (the default policy).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from scanner.model import Action, Confidence, Envelope, Finding, Group, Unscanned, Verdict
from scanner.policy import Policy, PolicyFile

_HEX64 = re.compile(r"[0-9a-f]{64}")


class _LevelOverrides(BaseModel):
    """A tenant's ``[tenants.X.groups.G]``: only the levels it names change."""

    model_config = ConfigDict(extra="forbid")

    high: Action | None = None
    medium: Action | None = None
    low: Action | None = None


class TenantFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    domains: list[str] = Field(default_factory=list)
    language: Literal["en", "fr"] | None = None
    groups: dict[Group, _LevelOverrides] = Field(default_factory=dict)
    senders: list[str] = Field(default_factory=list)
    care_provider: bool = False
    health_recipient_domains: list[str] = Field(default_factory=list)
    allow_digests: list[str] = Field(default_factory=list)

    @field_validator("allow_digests")
    @classmethod
    def _hex(cls, values: list[str]) -> list[str]:
        for v in values:
            if not _HEX64.fullmatch(v):
                raise ValueError("each digest is 64 lower-case hex characters (sendguard policy digest)")
        return values


class PolicyBookFile(PolicyFile):
    """config/policy.toml with its tenants."""

    tenants: dict[str, TenantFile] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TenantPolicy:
    name: str
    policy: Policy
    overridden: frozenset[tuple[Group, Confidence]]
    language: str | None = None
    senders: frozenset[str] = frozenset()
    health_domains: frozenset[str] = frozenset()
    digests: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PolicyBook:
    default: Policy
    tenants: Mapping[str, TenantPolicy] = field(default_factory=lambda: MappingProxyType({}))
    domains: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def tenant_of(self, header_value: str | None, mail_from: str) -> str | None:
        if header_value:
            return header_value
        return self.domains.get(mail_from.rpartition("@")[2].lower()) if "@" in mail_from else None

    def language_of(self, tenant: str | None) -> str | None:
        t = self.tenants.get(tenant) if tenant else None
        return t.language if t else None


class PolicyError(ValueError):
    """A policy file that does not validate; the message names the file and line."""


def load_book(path: Path) -> PolicyBook:
    """Read and validate `path`; `PolicyError` (naming the line) if it does not validate."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read: {type(exc).__name__}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: {exc}") from None  # tomllib names line and column
    try:
        model = PolicyBookFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        line = line_of(text, loc)
        where = f"line {line}" if line else "file"
        raise PolicyError(f"{path}: {where}: {'.'.join(loc)}: {err['msg']}") from None
    return book_from_model(model)


def book_from_model(model: PolicyBookFile) -> PolicyBook:
    default = Policy.from_model(model)
    tenants: dict[str, TenantPolicy] = {}
    domains: dict[str, str] = {}
    for name, t in model.tenants.items():
        actions = dict(default.actions)
        for group, levels in t.groups.items():
            for conf in Confidence:
                chosen = getattr(levels, conf.label)
                if chosen is not None:
                    actions[(group, conf)] = chosen
        tenants[name] = TenantPolicy(
            name,
            Policy(MappingProxyType(actions), default.min_score, default.unscanned),
            frozenset(k for k in actions if _named(t, k)),
            t.language,
            frozenset(s.lower() for s in t.senders),
            frozenset(d.lower() for d in t.health_recipient_domains) if t.care_provider else frozenset(),
            frozenset(t.allow_digests),
        )
        for domain in t.domains:
            domains[domain.lower()] = name
    return PolicyBook(default, MappingProxyType(tenants), MappingProxyType(domains))


def _named(t: TenantFile, key: tuple[Group, Confidence]) -> bool:
    levels = t.groups.get(key[0])
    return levels is not None and getattr(levels, key[1].label) is not None


def line_of(text: str, loc: Sequence[str]) -> int | None:
    """The line of the TOML table or key at `loc` (the deepest that can be found), 1-based."""
    lines = text.splitlines()
    best: int | None = None
    start, end = 0, len(lines)
    for depth in range(len(loc), 0, -1):
        header = re.compile(
            r"^\s*\[\s*" + r"\s*\.\s*".join(rf'"?{re.escape(p)}"?' for p in loc[:depth]) + r"\s*\]"
        )
        for i, line in enumerate(lines):
            if header.match(line):
                best, start = i + 1, i + 1
                end = next(
                    (j for j in range(i + 1, len(lines)) if lines[j].lstrip().startswith("[")), len(lines)
                )
                break
        if best is not None:
            rest = loc[depth:]
            if rest:
                key = re.compile(rf'^\s*"?{re.escape(rest[0])}"?\s*=')
                for j in range(start, end):
                    if key.match(lines[j]):
                        return j + 1
            return best
    if loc:  # a top-level key
        key = re.compile(rf'^\s*"?{re.escape(loc[0])}"?\s*=')
        for i, line in enumerate(lines):
            if key.match(line):
                return i + 1
    return None


# --- decisions -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ruling:
    """One finding, the action it maps to and the rule that said so (no value: masked form only)."""

    finding: Finding
    action: Action
    rule: str


def _sender_allowed(t: TenantPolicy, mail_from: str) -> bool:
    sender = mail_from.lower()
    return sender in t.senders or ("@" + sender.rpartition("@")[2]) in t.senders


def rule_for(book: PolicyBook, tenant: str | None, envelope: Envelope, finding: Finding) -> Ruling:
    t = book.tenants.get(tenant) if tenant else None
    policy = t.policy if t else book.default
    kind = Unscanned.of(finding)
    if kind is not None:  # fail closed: no allowlist covers text we did not read
        return Ruling(finding, policy.action_for(finding), f"unscanned.{kind.value}")
    if finding.score < policy.min_score:
        return Ruling(finding, Action.PASS, "thresholds.min_score")
    if t is not None:
        prefix = f"tenants.{t.name}"
        if finding.digest is not None and finding.digest in t.digests:
            return Ruling(finding, Action.PASS, f"{prefix}.allow_digests")
        if _sender_allowed(t, envelope.mail_from):
            return Ruling(finding, Action.PASS, f"{prefix}.senders")
        if (
            finding.group is Group.MEDICAL
            and t.health_domains
            and envelope.rcpt_tos
            and all(r.rpartition("@")[2].lower() in t.health_domains for r in envelope.rcpt_tos)
        ):
            return Ruling(finding, Action.PASS, f"{prefix}.health_recipient_domains")
        key = (finding.group, finding.confidence)
        level = finding.confidence.label
        if key in t.overridden:
            return Ruling(
                finding, policy.action_for(finding), f"{prefix}.groups.{finding.group.value}.{level}"
            )
    rule = f"groups.{finding.group.value}.{finding.confidence.label}"
    return Ruling(finding, policy.action_for(finding), rule)


def decide_for(
    book: PolicyBook,
    tenant: str | None,
    envelope: Envelope,
    findings: Iterable[Finding],
    defects: Iterable[str] = (),
) -> tuple[Verdict, list[Ruling]]:
    """The verdict (most severe action, as `scanner.policy.decide`) and each finding's ruling."""
    rulings = [rule_for(book, tenant, envelope, f) for f in findings]
    action = Action.PASS
    reasons: list[Finding] = []
    for r in rulings:
        if r.action.severity > action.severity:
            action, reasons = r.action, [r.finding]
        elif r.action is action and action is not Action.PASS:
            reasons.append(r.finding)
    verdict = Verdict(action, tuple(r.finding for r in rulings), tuple(reasons), tuple(defects))
    return verdict, rulings
