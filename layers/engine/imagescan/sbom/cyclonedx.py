"""CycloneDX 1.6 JSON for an analysed image, as SPEC specifies.

The document is built as plain dicts and lists and written by :func:`json.dumps`: cyclonedx-python-lib's object model
and serializer took ~0.2 s for an image of 260 packages, more than the rest of ``imagescan sbom``. The library is only
loaded to validate documents (:func:`validation_errors`), and license-expression only when a license string may be an
SPDX expression (:mod:`imagescan.sbom.licenses`).

The content and order are those the library wrote (:mod:`imagescan.sbom.cdxjson`):

* ``metadata``: the image as the ``container`` component (``bom-ref`` ``image``), the tool, the time;
* ``components``: the operating system and one component per package, the first of each ``bom-ref``
  (``PURL#PATH``), sorted by type, group, name, version and ``bom-ref``;
* ``dependencies``: the image depends on every component, and every component has its own empty entry, by ``ref``;
* ``vulnerabilities`` with ``findings`` (``scan --format cyclonedx``): :mod:`imagescan.sbom.vulnerabilities`.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

import imagescan
from imagescan.sbom.cdxjson import JsonObject, none_last, properties
from imagescan.sbom.licenses import license_entry
from imagescan.sbom.purl import image_purl, package_purl

if TYPE_CHECKING:
    from imagescan.findings import Finding
    from imagescan.models import Package
    from imagescan.scan import ImageAnalysis

PROP_LAYER = "imagescan:layer_diff_id"
PROP_PATH = "imagescan:path"
SPEC_VERSION = "1.6"
SCHEMA_URI = "http://cyclonedx.org/schema/bom-1.6.schema.json"
COMPONENT_TYPES = frozenset({
    "application", "framework", "library", "container", "platform", "operating-system", "device", "device-driver",
    "firmware", "file", "machine-learning-model", "data", "cryptographic-asset",
})


def _component_type(value: str) -> str:
    if value not in COMPONENT_TYPES:
        raise ValueError(f"{value!r} is not a CycloneDX 1.6 component type")
    return value


def _component(pkg: Package, analysis: ImageAnalysis) -> JsonObject:
    purl = package_purl(pkg, analysis.os).to_string()
    pairs = [(PROP_LAYER, pkg.layer_diff_id or ""), (PROP_PATH, pkg.path)]
    if pkg.source_version and pkg.source_version != pkg.version:
        pairs.append(("imagescan:source_version", pkg.source_version))
    pairs += [(f"imagescan:{key}", value) for key, value in pkg.properties.items()]
    component: JsonObject = {"bom-ref": f"{purl}#{pkg.path}"}
    if pkg.namespace is not None:
        component["group"] = pkg.namespace
    if pkg.license:
        component["licenses"] = [license_entry(pkg.license)]
    component["name"] = pkg.name
    component["properties"] = properties(pairs)
    component["purl"] = purl
    supplier = pkg.vendor or pkg.maintainer
    if supplier:
        component["supplier"] = {"name": supplier}
    component["type"] = _component_type(pkg.component_type)
    component["version"] = pkg.version
    return component


def _os_component(analysis: ImageAnalysis) -> JsonObject | None:
    os = analysis.os
    if not os:
        return None
    component: JsonObject = {"bom-ref": f"os:{os.id}@{os.version_id or ''}"}
    if os.pretty_name is not None:
        component["description"] = os.pretty_name
    component.update(name=os.id, properties=properties([(PROP_PATH, os.source)]), type="operating-system")
    if os.version_id is not None:
        component["version"] = os.version_id
    return component


def _image_component(analysis: ImageAnalysis) -> JsonObject:
    ref = analysis.reference
    repository_url = f"{ref.registry}/{ref.repository}" if ref.transport == "docker" else None
    return {
        "bom-ref": "image",
        "name": str(ref),
        "properties": properties([("imagescan:config_digest", analysis.image.config_digest),
                                  ("imagescan:platform", str(analysis.image.platform))]),
        "purl": image_purl(ref.name(), analysis.digest, repository_url).to_string(),
        "type": "container",
        "version": analysis.digest,
    }


def _components(analysis: ImageAnalysis) -> list[JsonObject]:
    os_component = _os_component(analysis)
    components = [os_component] if os_component else []
    seen: set[str] = set()
    for pkg in sorted(analysis.merged.packages, key=lambda p: (str(p.type), p.name, p.version, p.arch or "", p.path)):
        component = _component(pkg, analysis)
        if component["bom-ref"] not in seen:  # the first package of each PURL#PATH
            seen.add(component["bom-ref"])
            components.append(component)
    components.sort(key=lambda c: (c["type"], none_last(c.get("group")), c["name"], none_last(c.get("version")),
                                   c["bom-ref"]))
    return components


def _dependencies(components: list[JsonObject]) -> list[JsonObject]:
    refs = sorted(c["bom-ref"] for c in components)
    image: JsonObject = {"dependsOn": refs, "ref": "image"} if refs else {"ref": "image"}
    return sorted([image, *({"ref": ref} for ref in refs)], key=lambda d: str(d["ref"]))


def _timestamp(value: datetime | None) -> str:
    moment = value or datetime.now(tz=UTC)
    return (moment if moment.tzinfo else moment.astimezone()).isoformat()


def build_document(analysis: ImageAnalysis, *, timestamp: datetime | None = None, serial: UUID | None = None,
                   findings: Sequence[Finding] = ()) -> JsonObject:
    """The image's SBOM as a JSON object; with ``findings`` (``scan --format cyclonedx``), their vulnerabilities as
    the ``vulnerabilities`` section (:mod:`imagescan.sbom.vulnerabilities`)."""
    components = _components(analysis)
    document: JsonObject = {}
    if components:
        document["components"] = components
    document["dependencies"] = _dependencies(components)
    document["metadata"] = {
        "component": _image_component(analysis),
        "timestamp": _timestamp(timestamp),
        "tools": {"components": [{"name": "imagescan", "type": "application", "version": imagescan.__version__}]},
    }
    document["serialNumber"] = (serial or uuid4()).urn
    document["version"] = 1
    if findings:
        from imagescan.sbom.vulnerabilities import to_vulnerabilities  # with vulnerability findings only

        vulnerabilities = to_vulnerabilities(findings)
        if vulnerabilities:
            document["vulnerabilities"] = vulnerabilities
    document.update({"$schema": SCHEMA_URI, "bomFormat": "CycloneDX", "specVersion": SPEC_VERSION})
    return document


def to_json(document: JsonObject) -> str:
    return json.dumps(document, indent=2)


def validation_errors(document: str) -> str | None:
    """None when ``document`` is valid CycloneDX 1.6 JSON, else the validator's message."""
    from cyclonedx.schema import SchemaVersion  # the library and jsonschema take ~1 s to import: only on demand
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(document)
    return None if error is None else str(error)


@contextmanager
def _without_gc() -> Iterator[None]:
    """Writing a document allocates ~10^5 short-lived objects without cycles, and the collections they trigger walk
    the whole analysis (every file of the image) for nothing: ~20 ms on a large image, more than the writing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def sbom_json(analysis: ImageAnalysis, findings: Sequence[Finding] = ()) -> str:
    with _without_gc():
        return to_json(build_document(analysis, findings=findings))
