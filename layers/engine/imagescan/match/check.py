"""The image check that matches an image's packages against the vulnerability database.

It runs only when the scan has a database (:attr:`CheckContext.vulndb`); without one the ``scan-incomplete`` check
reports ``vulnerabilities-not-checked``. What matching could not check (:class:`MatchNote`) becomes a
``scan-incomplete`` finding here, so a scan never looks clean by omission.
"""

from __future__ import annotations

from imagescan.checks.base import CheckContext
from imagescan.findings import Finding, IncompleteFinding, Severity, finding_id
from imagescan.match.inventory import Inventory, inventory_from_analysis
from imagescan.match.matcher import MatchNote, MatchResult, match_inventory
from imagescan.scan import ImageAnalysis

NOTE_SEVERITY = {
    "no-advisory-data": Severity.MEDIUM,
    "unknown-distro": Severity.MEDIUM,
    "invalid-version": Severity.LOW,
    "unmatchable-advisory": Severity.LOW,
}
"""A whole distribution or ecosystem left unchecked weighs more than one package or one advisory."""

_TITLES = {
    "no-advisory-data": "Packages not checked for vulnerabilities: {subject} has no advisory data",
    "unknown-distro": "OS packages not checked for vulnerabilities: the distribution is unknown",
    "invalid-version": "Package not checked for vulnerabilities: unparseable version ({subject})",
    "unmatchable-advisory": "Advisories that could not be evaluated for {subject}",
}


def note_finding(digest: str, note: MatchNote) -> IncompleteFinding:
    """The ``scan-incomplete`` finding of one note."""
    title = _TITLES.get(note.code, "Vulnerability matching incomplete: {subject}").format(subject=note.subject)
    return IncompleteFinding(
        id=finding_id(digest, "scan-incomplete", "match", note.code, note.subject, note.path or ""),
        severity=NOTE_SEVERITY.get(note.code, Severity.LOW), title=title, code=note.code, reason=note.message,
        layer_diff_id=note.layer_diff_id, path=note.path,
    )


def result_findings(inventory: Inventory, result: MatchResult) -> list[Finding]:
    """Vulnerability findings plus a ``scan-incomplete`` finding per note."""
    return [*result.findings, *(note_finding(inventory.digest, note) for note in result.notes)]


class VulnerabilityCheck:
    name = "vulnerabilities"
    version = 1

    def run(self, analysis: ImageAnalysis, context: CheckContext) -> list[Finding]:
        if context.vulndb is None:
            return []
        inventory = inventory_from_analysis(analysis)
        return result_findings(inventory, match_inventory(inventory, context.vulndb))
