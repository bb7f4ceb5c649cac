"""``scan-incomplete`` findings: a scan never reports clean by omission."""

from __future__ import annotations

from imagescan.checks.base import CheckContext
from imagescan.findings import Finding, IncompleteFinding, Severity, finding_id
from imagescan.scan import ImageAnalysis


def _incomplete(
    analysis: ImageAnalysis, code: str, severity: Severity, title: str, *, reason: str | None = None,
    layer_diff_id: str | None = None, path: str | None = None,
) -> IncompleteFinding:
    return IncompleteFinding(
        id=finding_id(analysis.digest, "scan-incomplete", code, layer_diff_id or "", path or ""),
        severity=severity, title=title, code=code, reason=reason, layer_diff_id=layer_diff_id, path=path,
    )


class IncompleteCheck:
    name = "scan-incomplete"
    version = 1

    def run(self, analysis: ImageAnalysis, context: CheckContext) -> list[Finding]:
        out: list[Finding] = []
        for layer in analysis.layers:
            if not layer.complete:
                reasons = "; ".join(
                    w.message for w in layer.warnings if w.code in ("layer-unreadable", "digest-mismatch")
                )
                out.append(_incomplete(
                    analysis, "layer-unreadable", Severity.MEDIUM,
                    f"Layer {layer.diff_id[:19]} could not be fully read: contents may be missing",
                    layer_diff_id=layer.diff_id, reason=reasons,
                ))
            for w in layer.warnings:
                if w.code in ("file-too-large", "malformed-file", "malformed-record", "cataloger-failed"):
                    out.append(_incomplete(analysis, w.code, Severity.LOW, f"{w.path} could not be fully inventoried",
                                           layer_diff_id=layer.diff_id, path=w.path, reason=w.message))
        if analysis.os is None and analysis.merged.packages:
            out.append(_incomplete(analysis, "unknown-os", Severity.LOW,
                                   "The operating system could not be identified; OS packages carry no distro"))
        if not context.vulnerabilities_checked:
            out.append(_incomplete(analysis, "vulnerabilities-not-checked", Severity.INFORMATIONAL,
                                   "Packages were not matched against vulnerability data",
                                   reason="no vulnerability database is used by this scan"))
        return out
