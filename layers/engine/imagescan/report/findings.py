"""Findings an image analysis yields before any vulnerability matching: what could not be checked.

Every finding has a stable ``id``: the same finding on the same image always gets the same one.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from imagescan.scan import ImageAnalysis


class Severity(StrEnum):
    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    INFORMATIONAL = "INFORMATIONAL"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)

    def at_least(self, other: Severity) -> bool:
        return self.rank <= other.rank


class Finding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    kind: str
    severity: Severity
    title: str


class IncompleteFinding(Finding):
    """``scan-incomplete``: something could not be checked, and why."""

    kind: str = "scan-incomplete"
    code: str
    reason: str | None = None
    layer_diff_id: str | None = None
    path: str | None = None


def finding_id(image_digest: str, kind: str, *parts: str) -> str:
    blob = "\0".join((image_digest, kind, *parts)).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


def _incomplete(
    analysis: ImageAnalysis, code: str, severity: Severity, title: str, *, reason: str | None = None,
    layer_diff_id: str | None = None, path: str | None = None,
) -> IncompleteFinding:
    return IncompleteFinding(
        id=finding_id(analysis.digest, "scan-incomplete", code, layer_diff_id or "", path or ""),
        severity=severity, title=title, code=code, reason=reason, layer_diff_id=layer_diff_id, path=path,
    )


def incomplete_findings(analysis: ImageAnalysis, vulnerabilities_checked: bool = False) -> list[Finding]:
    """``scan-incomplete`` findings: a scan never reports clean by omission."""
    out: list[Finding] = []
    for layer in analysis.layers:
        if not layer.complete:
            reasons = "; ".join(w.message for w in layer.warnings if w.code in ("layer-unreadable", "digest-mismatch"))
            out.append(_incomplete(analysis, "layer-unreadable", Severity.MEDIUM,
                                   f"Layer {layer.diff_id[:19]} could not be fully read: contents may be missing",
                                   layer_diff_id=layer.diff_id, reason=reasons))
        for w in layer.warnings:
            if w.code in ("file-too-large", "malformed-file", "cataloger-failed"):
                out.append(_incomplete(analysis, w.code, Severity.LOW, f"{w.path} could not be inventoried",
                                       layer_diff_id=layer.diff_id, path=w.path, reason=w.message))
    if analysis.os is None and analysis.merged.packages:
        out.append(_incomplete(analysis, "unknown-os", Severity.LOW,
                               "The operating system could not be identified; OS packages carry no distro"))
    if not vulnerabilities_checked:
        out.append(_incomplete(analysis, "vulnerabilities-not-checked", Severity.INFORMATIONAL,
                               "Packages were not matched against vulnerability data",
                               reason="no vulnerability database is used by this scan"))
    return out
