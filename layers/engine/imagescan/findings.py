"""Findings, one model per ``kind`` of SPEC's JSON report, and their stable IDs.

Every finding has a stable ``id``: the same finding on the same image always gets the same one
(:func:`finding_id` over the image digest, the kind and what identifies the finding within the image).
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict


class Severity(StrEnum):
    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    INFORMATIONAL = "INFORMATIONAL"

    @property
    def rank(self) -> int:
        """0 for CRITICAL … 4 for INFORMATIONAL."""
        return list(Severity).index(self)

    def at_least(self, other: Severity) -> bool:
        return self.rank <= other.rank


def finding_id(image_digest: str, kind: str, *parts: str) -> str:
    blob = "\0".join((image_digest, kind, *parts)).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


class Finding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    kind: str
    severity: Severity
    title: str
    description: str | None = None
    remediation: str | None = None


class Cvss(BaseModel):
    vector: str
    score: float | None = None
    version: str | None = None


class VulnerabilityFinding(Finding):
    kind: Literal["vulnerability"] = "vulnerability"
    vulnerability_id: str
    aliases: list[str] = []
    purl: str
    package_name: str
    installed_version: str
    fixed_version: str | None = None
    fix_state: Literal["fixed", "not-fixed", "wont-fix", "end-of-life"]
    known_exploited: bool = False
    epss: float | None = None
    cvss: Cvss | None = None
    data_source: str
    layer_diff_id: str | None = None
    path: str | None = None
    references: list[str] = []
    source_package: str | None = None
    """The source package the vendor's advisory is about (Debian source, apk origin, source rpm) when it differs
    from ``package_name``: ``openssl`` for ``libssl3``."""
    source_version: str | None = None
    """The version compared with the advisory when it differs from ``installed_version``: the source version of a
    Debian binary (binNMU ``+b1`` suffixes, a binary-only epoch) or the rpm ``epoch:version-release``.
    ``fixed_version`` is on the same scale."""
    severity_source: str | None = None
    """Where ``severity`` came from: the vendor's rating (``debian-tracker urgency``, ``alas severity``,
    ``database_specific.severity``...), ``cvss_v3`` when computed from a score, ``unrated`` when no source rated it
    (reported as MEDIUM)."""
    fix_state_reason: str | None = None
    """Who decided a ``not-fixed``/``wont-fix``/``end-of-life`` state, and why, as the vendor data says it."""


class SecretFinding(Finding):
    kind: Literal["secret"] = "secret"
    rule: str
    path: str
    """A file path in the image, or ``config:Env``, ``config:Labels``, ``history:N``."""
    layer_diff_id: str | None = None
    deleted: bool = False
    """True when a later layer removed the file: the bytes still ship in the image."""
    line: int | None = None
    masked: str
    """A preview with the secret masked: never the clear value."""
    fingerprint: str
    """sha256 of the secret: the same secret anywhere has the same fingerprint."""


class MisconfigurationFinding(Finding):
    kind: Literal["misconfiguration"] = "misconfiguration"
    rule: str
    path: str | None = None
    config: str | None = None
    """The image config field (``User``, ``ExposedPorts``, ``history[3]``) when the finding is about the config."""
    evidence: str


class UnwantedSoftwareFinding(Finding):
    kind: Literal["unwanted-software"] = "unwanted-software"
    rule: str
    purl: str | None = None
    path: str | None = None


class EndOfLifeFinding(Finding):
    kind: Literal["end-of-life"] = "end-of-life"
    product: str
    cycle: str
    eol_date: str | None = None
    purl: str | None = None
    os: str | None = None
    rule: str | None = None
    """The hygiene rule (``eol-os``, ``eol-runtime``, ``eol-extended-support``, ``eol-approaching``)."""


class IncompleteFinding(Finding):
    """``scan-incomplete``: something could not be checked, and why."""

    kind: Literal["scan-incomplete"] = "scan-incomplete"
    code: str
    reason: str | None = None
    layer_diff_id: str | None = None
    path: str | None = None
