"""CycloneDX 1.6 JSON for an analysed image (cyclonedx-python-lib), as SPEC specifies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID, uuid4

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion

import imagescan
from imagescan.findings import Finding
from imagescan.models import Package
from imagescan.sbom.purl import image_purl, package_purl
from imagescan.sbom.vulnerabilities import to_vulnerabilities
from imagescan.scan import ImageAnalysis

PROP_LAYER = "imagescan:layer_diff_id"
PROP_PATH = "imagescan:path"
SCHEMA = SchemaVersion.V1_6
_licenses = LicenseFactory()


def _component(pkg: Package, analysis: ImageAnalysis) -> Component:
    purl = package_purl(pkg, analysis.os)
    properties = [Property(name=PROP_LAYER, value=pkg.layer_diff_id or ""), Property(name=PROP_PATH, value=pkg.path)]
    if pkg.source_version and pkg.source_version != pkg.version:
        properties.append(Property(name="imagescan:source_version", value=pkg.source_version))
    properties += [Property(name=f"imagescan:{key}", value=value) for key, value in sorted(pkg.properties.items())]
    return Component(
        type=ComponentType(pkg.component_type),
        group=pkg.namespace,
        name=pkg.name,
        version=pkg.version,
        purl=purl,
        bom_ref=f"{purl.to_string()}#{pkg.path}",
        licenses=[_licenses.make_from_string(pkg.license)] if pkg.license else None,
        supplier=OrganizationalEntity(name=pkg.vendor or pkg.maintainer) if pkg.vendor or pkg.maintainer else None,
        properties=properties,
    )


def build_bom(analysis: ImageAnalysis, *, timestamp: datetime | None = None, serial: UUID | None = None,
              findings: Sequence[Finding] = ()) -> Bom:
    """The image's SBOM; with ``findings`` (``scan --format cyclonedx``), their vulnerabilities as the
    ``vulnerabilities`` section (:mod:`imagescan.sbom.vulnerabilities`)."""
    ref = analysis.reference
    repository_url = f"{ref.registry}/{ref.repository}" if ref.transport == "docker" else None
    image = Component(
        type=ComponentType.CONTAINER,
        name=str(ref),
        version=analysis.digest,
        purl=image_purl(ref.name(), analysis.digest, repository_url),
        bom_ref="image",
        properties=[
            Property(name="imagescan:config_digest", value=analysis.image.config_digest),
            Property(name="imagescan:platform", value=str(analysis.image.platform)),
        ],
    )
    tools = ToolRepository(components=[Component(type=ComponentType.APPLICATION, name="imagescan",
                                                 version=imagescan.__version__)])
    components: list[Component] = []
    if analysis.os:
        components.append(Component(
            type=ComponentType.OPERATING_SYSTEM, name=analysis.os.id, version=analysis.os.version_id,
            bom_ref=f"os:{analysis.os.id}@{analysis.os.version_id or ''}",
            description=analysis.os.pretty_name,
            properties=[Property(name=PROP_PATH, value=analysis.os.source)],
        ))
    seen: set[str] = set()
    for pkg in sorted(analysis.merged.packages, key=lambda p: (str(p.type), p.name, p.version, p.arch or "", p.path)):
        component = _component(pkg, analysis)
        if str(component.bom_ref) in seen:
            continue
        seen.add(str(component.bom_ref))
        components.append(component)
    bom = Bom(
        components=components,
        serial_number=serial or uuid4(),
        metadata=BomMetaData(component=image, tools=tools, timestamp=timestamp or datetime.now(tz=UTC)),
    )
    bom.register_dependency(image, components)
    bom.vulnerabilities.update(to_vulnerabilities(findings))
    return bom


def to_json(bom: Bom) -> str:
    return str(JsonV1Dot6(bom).output_as_string(indent=2))


def validation_errors(document: str) -> str | None:
    """None when ``document`` is valid CycloneDX 1.6 JSON, else the validator's message."""
    from cyclonedx.validation.json import JsonStrictValidator  # jsonschema takes ~1 s to import: only on demand

    error = JsonStrictValidator(SCHEMA).validate_str(document)
    return None if error is None else str(error)


def sbom_json(analysis: ImageAnalysis, findings: Sequence[Finding] = ()) -> str:
    return to_json(build_bom(analysis, findings=findings))
