"""The SBOM as cyclonedx-python-lib's object model and ``JsonV1Dot6`` serializer write it: the oracle that
:mod:`imagescan.sbom.cyclonedx` (plain dicts, no library at run time) is compared with, on random analyses.

It maps the analysis and the findings to the library's model the way the engine did before it dropped the model, and
lets the library order, deduplicate and serialize.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.impact_analysis import ImpactAnalysisAffectedStatus, ImpactAnalysisResponse, ImpactAnalysisState
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
from cyclonedx.model.tool import ToolRepository
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
from cyclonedx.output.json import JsonV1Dot6

import imagescan
from imagescan.findings import Finding, VulnerabilityFinding
from imagescan.models import Package
from imagescan.sbom.cyclonedx import PROP_LAYER, PROP_PATH
from imagescan.sbom.purl import image_purl, package_purl
from imagescan.sbom.vulnerabilities import component_ref
from imagescan.scan import ImageAnalysis
from imagescan.vulndb.severity import label_for_score

_LICENSES = LicenseFactory()
_OSV_PREFIXES = ("PYSEC-", "GO-", "RUSTSEC-", "DSA-", "DLA-", "DTSA-", "DEBIAN-")


def library_license(value: str) -> dict[str, Any]:
    """``make_from_string``'s verdict in the JSON form of a ``licenses`` item."""
    made = _LICENSES.make_from_string(value)
    if isinstance(made, LicenseExpression):
        return {"expression": made.value}
    assert isinstance(made, DisjunctiveLicense)
    return {"license": {"id": made.id}} if made.id else {"license": {"name": made.name}}


def _component(pkg: Package, analysis: ImageAnalysis) -> Component:
    purl = package_purl(pkg, analysis.os)
    properties = [Property(name=PROP_LAYER, value=pkg.layer_diff_id or ""), Property(name=PROP_PATH, value=pkg.path)]
    if pkg.source_version and pkg.source_version != pkg.version:
        properties.append(Property(name="imagescan:source_version", value=pkg.source_version))
    properties += [Property(name=f"imagescan:{key}", value=value) for key, value in sorted(pkg.properties.items())]
    return Component(
        type=ComponentType(pkg.component_type), group=pkg.namespace, name=pkg.name, version=pkg.version, purl=purl,
        bom_ref=f"{purl.to_string()}#{pkg.path}",
        licenses=[_LICENSES.make_from_string(pkg.license)] if pkg.license else None,
        supplier=OrganizationalEntity(name=pkg.vendor or pkg.maintainer) if pkg.vendor or pkg.maintainer else None,
        properties=properties,
    )


def _uri(url: str) -> XsUri | None:
    try:
        return XsUri(url)
    except Exception:
        return None


def _id_source(ident: str) -> VulnerabilitySource:
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
        source=source, severity=VulnerabilitySeverity(finding.severity.lower().replace("informational", "info")),
        method=VulnerabilityScoreSource.OTHER,
        justification=f"severity from {finding.severity_source}" if finding.severity_source else None,
    )]
    cvss = finding.cvss
    if cvss and cvss.vector:
        method = VulnerabilityScoreSource.get_from_vector(cvss.vector)
        if method is VulnerabilityScoreSource.OTHER and (cvss.version or "").startswith("2"):
            method = VulnerabilityScoreSource.CVSS_V2
        score = None if cvss.score is None else Decimal(str(cvss.score))
        severity = None if cvss.score is None else VulnerabilitySeverity(
            label_for_score(cvss.score).lower().replace("informational", "info"))
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


def _vulnerability(finding: VulnerabilityFinding) -> Vulnerability:
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
    return Vulnerability(
        bom_ref=f"vulnerability:{finding.id}", id=finding.vulnerability_id,
        source=VulnerabilitySource(name=finding.data_source),
        references=[VulnerabilityReference(id=alias, source=_id_source(alias)) for alias in finding.aliases],
        ratings=_ratings(finding), description=finding.description or finding.title,
        recommendation=finding.remediation or f"No fixed version is available ({finding.fix_state})",
        advisories=[VulnerabilityAdvisory(url=uri) for uri in map(_uri, finding.references) if uri],
        analysis=_analysis(finding),
        affects=[BomTarget(ref=component_ref(finding), versions=[
            BomTargetVersionRange(version=finding.installed_version, status=ImpactAnalysisAffectedStatus.AFFECTED),
        ])],
        properties=props,
    )


def library_json(analysis: ImageAnalysis, *, timestamp: datetime, serial: UUID,
                 findings: Sequence[Finding] = ()) -> str:
    ref = analysis.reference
    repository_url = f"{ref.registry}/{ref.repository}" if ref.transport == "docker" else None
    image = Component(
        type=ComponentType.CONTAINER, name=str(ref), version=analysis.digest,
        purl=image_purl(ref.name(), analysis.digest, repository_url), bom_ref="image",
        properties=[Property(name="imagescan:config_digest", value=analysis.image.config_digest),
                    Property(name="imagescan:platform", value=str(analysis.image.platform))],
    )
    tools = ToolRepository(components=[Component(type=ComponentType.APPLICATION, name="imagescan",
                                                 version=imagescan.__version__)])
    components: list[Component] = []
    if analysis.os:
        components.append(Component(
            type=ComponentType.OPERATING_SYSTEM, name=analysis.os.id, version=analysis.os.version_id,
            bom_ref=f"os:{analysis.os.id}@{analysis.os.version_id or ''}", description=analysis.os.pretty_name,
            properties=[Property(name=PROP_PATH, value=analysis.os.source)],
        ))
    seen: set[str] = set()
    for pkg in sorted(analysis.merged.packages, key=lambda p: (str(p.type), p.name, p.version, p.arch or "", p.path)):
        component = _component(pkg, analysis)
        if str(component.bom_ref) not in seen:
            seen.add(str(component.bom_ref))
            components.append(component)
    bom = Bom(components=components, serial_number=serial,
              metadata=BomMetaData(component=image, tools=tools, timestamp=timestamp))
    bom.register_dependency(image, components)
    bom.vulnerabilities.update(_vulnerability(f) for f in findings if isinstance(f, VulnerabilityFinding))
    return str(JsonV1Dot6(bom).output_as_string(indent=2))
