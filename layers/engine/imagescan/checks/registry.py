"""The one explicit list of image checks a scan runs, and the function that runs them all."""

from __future__ import annotations

from imagescan.checks.base import CheckContext, ImageCheck
from imagescan.checks.incomplete import IncompleteCheck
from imagescan.findings import Finding
from imagescan.hygiene import hygiene_checks
from imagescan.match.check import VulnerabilityCheck
from imagescan.scan import ImageAnalysis
from imagescan.secrets.check import SecretsCheck


def default_checks() -> list[ImageCheck]:
    return [IncompleteCheck(), VulnerabilityCheck(), SecretsCheck(), *hygiene_checks()]


def run_checks(analysis: ImageAnalysis, context: CheckContext, checks: list[ImageCheck] | None = None) -> list[Finding]:
    findings: list[Finding] = []
    for check in checks if checks is not None else default_checks():
        findings.extend(check.run(analysis, context))
    return sorted(findings, key=lambda f: (f.severity.rank, f.kind, f.title, f.id))
