"""The CycloneDX 1.6 ``vulnerabilities`` section of ``scan --format cyclonedx``, from vulnerability findings.

One entry per finding (a vulnerability on one installed package), so that each keeps its own fixed version,
analysis and recommendation:

* ``id`` the vulnerability id, ``source`` the feed it was matched from, ``references`` its aliases (NVD, GitHub
  Advisories, OSV links where the id is one of theirs);
* ``ratings``: the reported severity with where it came from (vendor first), and the CVSS score and vector when
  known;
* ``affects``: the component's ``bom-ref`` (``PURL#PATH``, as the SBOM writes it) with the installed version;
* ``analysis`` where no fix is available: state ``exploitable`` (the vendor lists the installed version as
  affected) with response ``will_not_fix`` (``wont-fix``) or ``can_not_fix`` (``not-fixed``, ``end-of-life``), and
  the vendor's reason as ``detail``. No ``justification``: CycloneDX defines those for ``not_affected`` only, and
  not-affected entries never become findings;
* ``recommendation``: the upgrade that fixes it; ``properties``: ``imagescan:known_exploited``, ``imagescan:epss``,
  ``imagescan:fix_state``, ``imagescan:finding_id``, ``imagescan:severity_source``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from cyclonedx.model import Property, XsUri
from cyclonedx.model.impact_analysis import ImpactAnalysisAffectedStatus, ImpactAnalysisResponse, ImpactAnalysisState
from cyclonedx.model.vulnerability import (
    BomTarget,
    BomTargetVersionRange,
    Vulnerability,
    VulnerabilityAdvisory,
    VulnerabilityAnalysis,
    VulnerabilityRating,
    VulnerabilityReference,
    VulnerabilityScoreSource,
    VulnerabilitySeverity,
    VulnerabilitySource,
)

from imagescan.findings import Severity, VulnerabilityFinding
from imagescan.vulndb.severity import label_for_score

_SEVERITY = {
    Severity.CRITICAL: VulnerabilitySeverity.CRITICAL,
    Severity.HIGH: VulnerabilitySeverity.HIGH,
    Severity.MEDIUM: VulnerabilitySeverity.MEDIUM,
    Severity.LOW: VulnerabilitySeverity.LOW,
    Severity.INFORMATIONAL: VulnerabilitySeverity.INFO,
}
_OSV_PREFIXES = ("PYSEC-", "GO-", "RUSTSEC-", "DSA-", "DLA-", "DTSA-", "DEBIAN-")


def component_ref(finding: VulnerabilityFinding) -> str:
    """The ``bom-ref`` the SBOM gives the finding's package (``sbom.cyclonedx``: ``PURL#PATH``)."""
    return f"{finding.purl}#{finding.path or ''}"


def _uri(url: str) -> XsUri | None:
    try:
        return XsUri(url)
    except Exception:  # the library's InvalidUriException and friends: a bad URL is left out, not fatal
        return None


def id_source(ident: str) -> VulnerabilitySource:
    """Who publishes an id, with the page about it where that is certain."""
    if ident.startswith("CVE-"):
        return VulnerabilitySource(name="NVD", url=_uri(f"https://nvd.nist.gov/vuln/detail/{ident}"))
    if ident.startswith("GHSA-"):
        return VulnerabilitySource(name="GitHub Advisories", url=_uri(f"https://github.com/advisories/{ident}"))
    if ident.startswith(_OSV_PREFIXES):
        return VulnerabilitySource(name="OSV", url=_uri(f"https://osv.dev/vulnerability/{ident}"))
    return VulnerabilitySource(name=ident.split("-", 1)[0])


def _ratings(finding: VulnerabilityFinding) -> list[VulnerabilityRating]:
    source = VulnerabilitySource(name=finding.data_source)
    ratings = [VulnerabilityRating(
        source=source, severity=_SEVERITY[finding.severity], method=VulnerabilityScoreSource.OTHER,
        justification=f"severity from {finding.severity_source}" if finding.severity_source else None,
    )]
    cvss = finding.cvss
    if cvss and cvss.vector:
        method = VulnerabilityScoreSource.get_from_vector(cvss.vector)
        if method is VulnerabilityScoreSource.OTHER and (cvss.version or "").startswith("2"):
            method = VulnerabilityScoreSource.CVSS_V2
        score = None if cvss.score is None else Decimal(str(cvss.score))
        severity = None if cvss.score is None else VulnerabilitySeverity(label_for_score(cvss.score).lower()
                                                                         .replace("informational", "info"))
        ratings.append(VulnerabilityRating(source=source, score=score, severity=severity, method=method,
                                           vector=cvss.vector))
    return ratings


def _analysis(finding: VulnerabilityFinding) -> VulnerabilityAnalysis | None:
    if finding.fix_state == "fixed":
        return None
    response = (ImpactAnalysisResponse.WILL_NOT_FIX if finding.fix_state == "wont-fix"
                else ImpactAnalysisResponse.CAN_NOT_FIX)
    detail = finding.fix_state_reason or {
        "not-fixed": "no fixed version is available yet",
        "wont-fix": "the vendor will not fix it",
        "end-of-life": "the package is no longer supported in this release",
    }.get(finding.fix_state)
    if detail and finding.data_source not in detail:
        detail += f" ({finding.data_source})"
    return VulnerabilityAnalysis(state=ImpactAnalysisState.EXPLOITABLE, responses=[response],
                                 detail=f"{finding.fix_state}: {detail}")


def _properties(finding: VulnerabilityFinding) -> list[Property]:
    props = [
        Property(name="imagescan:finding_id", value=finding.id),
        Property(name="imagescan:fix_state", value=finding.fix_state),
        Property(name="imagescan:known_exploited", value="true" if finding.known_exploited else "false"),
    ]
    if finding.epss is not None:
        props.append(Property(name="imagescan:epss", value=f"{finding.epss:g}"))
    if finding.severity_source:
        props.append(Property(name="imagescan:severity_source", value=finding.severity_source))
    if finding.source_package:
        props.append(Property(name="imagescan:source_package", value=finding.source_package))
    return props


def to_vulnerability(finding: VulnerabilityFinding) -> Vulnerability:
    advisories = [VulnerabilityAdvisory(url=uri) for uri in (_uri(u) for u in finding.references) if uri]
    recommendation = finding.remediation or f"No fixed version is available ({finding.fix_state})"
    return Vulnerability(
        bom_ref=f"vulnerability:{finding.id}",
        id=finding.vulnerability_id,
        source=VulnerabilitySource(name=finding.data_source),
        references=[VulnerabilityReference(id=alias, source=id_source(alias)) for alias in finding.aliases],
        ratings=_ratings(finding),
        description=finding.description or finding.title,
        recommendation=recommendation,
        advisories=advisories,
        analysis=_analysis(finding),
        affects=[BomTarget(ref=component_ref(finding), versions=[
            BomTargetVersionRange(version=finding.installed_version, status=ImpactAnalysisAffectedStatus.AFFECTED),
        ])],
        properties=_properties(finding),
    )


def to_vulnerabilities(findings: Iterable[object]) -> list[Vulnerability]:
    """The ``vulnerabilities`` entries of the vulnerability findings among ``findings``, in their order."""
    return [to_vulnerability(f) for f in findings if isinstance(f, VulnerabilityFinding)]
