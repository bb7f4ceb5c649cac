"""Turns rule hits into report findings: severity, description and remediation from the rule catalogue, the policy
applied (disabled rules and ignored subjects produce nothing, severities may be overridden), and a stable ID from
the image digest, the rule and what the finding is about."""

from __future__ import annotations

from collections.abc import Iterable

from imagescan.findings import (
    EndOfLifeFinding,
    Finding,
    IncompleteFinding,
    MisconfigurationFinding,
    Severity,
    UnwantedSoftwareFinding,
    finding_id,
)
from imagescan.hygiene.policy import Policy
from imagescan.hygiene.rules import Rule, rule


class Emitter:
    def __init__(self, digest: str, policy: Policy) -> None:
        self.digest = digest
        self.policy = policy
        self.findings: list[Finding] = []

    def _prepare(self, rule_id: str, kind: str, key: str, subjects: Iterable[str]) -> tuple[Rule, Severity] | None:
        entry = rule(rule_id)
        if entry.kind != kind:
            raise ValueError(f"rule {rule_id} reports {entry.kind}, not {kind}")
        severity = self.policy.decide(entry, [key, *subjects])
        if severity is None:
            return None
        return entry, severity

    def _description(self, entry: Rule, detail: str | None) -> str:
        return f"{detail}\n\n{entry.rationale}" if detail else entry.rationale

    def misconfiguration(self, rule_id: str, key: str, title: str, evidence: str, *, path: str | None = None,
                         config: str | None = None, detail: str | None = None,
                         subjects: Iterable[str] = ()) -> None:
        prepared = self._prepare(rule_id, "misconfiguration", key, [*(s for s in (path, config) if s), *subjects])
        if prepared is None:
            return
        entry, severity = prepared
        self.findings.append(MisconfigurationFinding(
            id=finding_id(self.digest, entry.kind, entry.id, key), severity=severity, title=title,
            description=self._description(entry, detail), remediation=entry.remediation, rule=entry.id,
            path=path, config=config, evidence=evidence,
        ))

    def unwanted(self, rule_id: str, key: str, title: str, *, purl: str | None = None, path: str | None = None,
                 detail: str | None = None, subjects: Iterable[str] = ()) -> None:
        prepared = self._prepare(rule_id, "unwanted-software", key, [*(s for s in (path, purl) if s), *subjects])
        if prepared is None:
            return
        entry, severity = prepared
        self.findings.append(UnwantedSoftwareFinding(
            id=finding_id(self.digest, entry.kind, entry.id, key), severity=severity, title=title,
            description=self._description(entry, detail), remediation=entry.remediation, rule=entry.id,
            purl=purl, path=path,
        ))

    def end_of_life(self, rule_id: str, key: str, title: str, *, product: str, cycle: str, eol_date: str | None,
                    purl: str | None = None, os: str | None = None, detail: str | None = None) -> None:
        prepared = self._prepare(rule_id, "end-of-life", key, [product, f"{product}@{cycle}"])
        if prepared is None:
            return
        entry, severity = prepared
        self.findings.append(EndOfLifeFinding(
            id=finding_id(self.digest, entry.kind, entry.id, key), severity=severity, title=title,
            description=self._description(entry, detail), remediation=entry.remediation, product=product,
            cycle=cycle, eol_date=eol_date, purl=purl, os=os, rule=entry.id,
        ))

    def incomplete(self, rule_id: str, key: str, title: str, reason: str, *, path: str | None = None,
                   subjects: Iterable[str] = ()) -> None:
        prepared = self._prepare(rule_id, "scan-incomplete", key, subjects)
        if prepared is None:
            return
        entry, severity = prepared
        self.findings.append(IncompleteFinding(
            id=finding_id(self.digest, entry.kind, entry.id, key), severity=severity, title=title,
            description=entry.rationale, remediation=entry.remediation, code=entry.id, reason=reason, path=path,
        ))
