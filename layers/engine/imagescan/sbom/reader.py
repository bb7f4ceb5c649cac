"""Reading a CycloneDX JSON SBOM (ours, Syft's, Trivy's, cdxgen's) back into an :class:`Inventory` to match.

Every package comes from a component's purl (packageurl-python): type, namespace, name, version, and for OS
packages the ``arch``, ``epoch`` and ``upstream`` qualifiers; the producers' own conventions for source packages,
epochs and layers are in :mod:`imagescan.sbom.peers`. No Debian package is lost for having its source in
``upstream=`` or an epoch in its version. The OS comes from the operating-system component, else from the OS
purls' ``distro`` qualifier (``debian-12``, ``alpine-3.18``; Trivy's bare ``3.18.4`` with the purl namespace).

Components without a purl, with an unreadable purl, or of a purl type nothing matches are skipped, counted, and
reported as warnings; components that are not packages (files, certificates, data) are counted only. A document
that is not CycloneDX JSON raises :class:`SbomError` with a one-line reason.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packageurl import PackageURL

from imagescan.errors import ScanError
from imagescan.match.inventory import Inventory
from imagescan.models import OS_PACKAGE_TYPES, OSRelease, Package, PackageType, ScanWarning
from imagescan.sbom import peers

MAX_SBOM = 512 * 1024 * 1024
PACKAGE_COMPONENTS = frozenset({"library", "application", "framework", "firmware"})
"""Component types that are packages; files, data, certificates, containers and devices are not."""
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
_HEX_RE = re.compile(r"^[0-9a-f]{64}")
_DISTRO_RE = re.compile(r"^(?P<id>[a-z][a-z0-9._ -]*?)-(?P<version>[0-9][0-9a-z._-]*)$")
_TYPES = {t.value for t in PackageType}
_ARCH_PLATFORMS = {"amd64": "amd64", "x86_64": "amd64", "arm64": "arm64", "aarch64": "arm64", "ppc64le": "ppc64le",
                   "ppc64el": "ppc64le", "s390x": "s390x", "i386": "386", "i686": "386"}
_MAX_NAMES = 8


class SbomError(ScanError):
    """The file is not a CycloneDX JSON SBOM imagescan can read."""


@dataclass
class SbomInventory:
    inventory: Inventory
    warnings: list[ScanWarning] = field(default_factory=list)
    tool: str | None = None
    """``NAME VERSION`` of the producer, from ``metadata.tools``."""
    image_name: str | None = None
    """``metadata.component.name``: the image as the producer named it."""
    platform: str | None = None
    """``OS/ARCH`` when the SBOM says (ours), else derived from the packages' arch; None when unknown."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Components not read as packages, by reason: ``no-purl``, ``bad-purl``, ``unsupported-type``, ``no-version``,
    ``not-a-package``, ``source-package-entry`` (cdxgen), ``rpm-signing-key`` (``gpg-pubkey``), ``duplicate``."""


def read_sbom(path: str | Path) -> SbomInventory:
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = f.read(MAX_SBOM + 1)
    except OSError as exc:
        raise SbomError(f"{path}: cannot read the SBOM: {exc.strerror or exc}") from exc
    if len(data) > MAX_SBOM:
        raise SbomError(f"{path}: larger than {MAX_SBOM} bytes")
    return parse_sbom(data, str(path))


def _document(data: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise SbomError(f"{what}: not a CycloneDX JSON SBOM: not UTF-8 text") from exc
    except RecursionError as exc:
        raise SbomError(f"{what}: not a CycloneDX JSON SBOM: JSON nested too deeply") from exc
    except ValueError as exc:
        hint = " (CycloneDX XML is not supported: give the JSON form)" if data.lstrip()[:1] == b"<" else ""
        raise SbomError(f"{what}: not a CycloneDX JSON SBOM: invalid JSON{hint}") from exc
    if not isinstance(doc, dict):
        raise SbomError(f"{what}: not a CycloneDX JSON SBOM: the document is not a JSON object")
    if doc.get("bomFormat") != "CycloneDX":
        kind = "an SPDX document" if "spdxVersion" in doc else "no \"bomFormat\": \"CycloneDX\""
        raise SbomError(f"{what}: not a CycloneDX JSON SBOM: {kind}")
    spec = doc.get("specVersion")
    if not isinstance(spec, str) or not spec.startswith("1."):
        raise SbomError(f"{what}: unsupported CycloneDX specVersion {spec!r}")
    if not isinstance(doc.get("components", []), list):
        raise SbomError(f"{what}: \"components\" is not a list")
    return doc


def _walk(components: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    stack = list(reversed(components))
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            out.append(item)
            nested = item.get("components")
            if isinstance(nested, list):
                stack.extend(reversed(nested))
    return out


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _purl(component: dict[str, Any]) -> PackageURL | str | None:
    """The parsed purl; None when there is none; the error text when it cannot be parsed."""
    raw = component.get("purl")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str):
        return "not a string"
    try:
        return PackageURL.from_string(raw.strip())
    except ValueError as exc:
        return str(exc) or "unparseable"


def _qualifiers(purl: PackageURL) -> dict[str, str]:
    q = purl.qualifiers
    if isinstance(q, dict):
        return {str(k): str(v) for k, v in q.items() if v is not None}
    return {}


class _Reader:
    def __init__(self, doc: dict[str, Any], what: str) -> None:
        self.doc = doc
        self.what = what
        self.components = _walk(doc.get("components") or [])
        self.skipped: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}
        self.source_of: dict[str, peers.Source] = {}
        """cdxgen: ``TYPE/BINARY`` → the source entry whose evidence lists that binary."""
        self.own_source: dict[str, peers.Source] = {}
        """cdxgen: ``TYPE/NAME`` → the source entry of that name (a binary named like its source)."""
        self.distros: Counter[tuple[str, str]] = Counter()

    def skip(self, reason: str, component: dict[str, Any], detail: str = "") -> None:
        self.skipped[reason] += 1
        label = _text(component.get("name")) or _text(component.get("bom-ref")) or "(unnamed)"
        names = self.examples.setdefault(reason, [])
        if len(names) < _MAX_NAMES:
            names.append(f"{label} ({detail})" if detail else label)

    def packages(self) -> list[Package]:
        parsed: list[tuple[dict[str, Any], PackageURL, peers.Properties]] = []
        for component in self.components:
            kind = component.get("type") if isinstance(component.get("type"), str) else None
            if kind == "operating-system" or kind == "container":
                continue
            if kind not in PACKAGE_COMPONENTS:
                self.skipped["not-a-package"] += 1
                continue
            purl = _purl(component)
            if purl is None:
                self.skip("no-purl", component)
                continue
            if isinstance(purl, str):
                self.skip("bad-purl", component, purl)
                continue
            props = peers.properties(component)
            if peers.is_source_tagged(component):
                src = peers.Source(purl.name, _os_version(purl, purl.type))
                for binary in peers.built_from(component):
                    self.source_of[f"{purl.type}/{binary}"] = src
                self.own_source.setdefault(f"{purl.type}/{purl.name}", src)
                if not peers.is_installed(props):
                    self.skipped["source-package-entry"] += 1
                    continue
            parsed.append((component, purl, props))
        out: list[Package] = []
        seen: set[tuple[str, str | None, str, str, str | None, str]] = set()
        for component, purl, props in parsed:
            pkg = self.package(component, purl, props)
            if pkg is None:
                continue
            key = (str(pkg.type), pkg.namespace, pkg.name, pkg.version, pkg.arch, pkg.path)
            if key in seen:
                self.skipped["duplicate"] += 1
                continue
            seen.add(key)
            out.append(pkg)
        return out

    def package(self, component: dict[str, Any], purl: PackageURL, props: peers.Properties) -> Package | None:
        if purl.type not in _TYPES:
            self.skip("unsupported-type", component, f"pkg:{purl.type}")
            return None
        version = purl.version or _text(component.get("version"))
        if not version:
            self.skip("no-version", component)
            return None
        path, layer = peers.location(props)
        common: dict[str, Any] = {"type": PackageType(purl.type), "name": purl.name, "path": path,
                                  "layer_diff_id": layer, "license": _license(component),
                                  "maintainer": _supplier(component)}
        if component.get("type") == "application":
            common["component_type"] = "application"
        if purl.type == "rpm" and purl.name == "gpg-pubkey":
            self.skipped["rpm-signing-key"] += 1  # as the rpm cataloger: a key rpm imported, not software
            return None
        if purl.type not in OS_PACKAGE_TYPES:
            return Package(namespace=purl.namespace or None, version=version, qualifiers=_qualifiers(purl),
                           **common)
        return self.os_package(purl, props, common)

    def os_package(self, purl: PackageURL, props: peers.Properties, common: dict[str, Any]) -> Package:
        q = _qualifiers(purl)
        distro = q.get("distro")
        if distro:
            self.distros[(purl.namespace or "", distro)] += 1
        version = _os_version(purl, purl.type)
        epoch: int | None = None
        if purl.type == "rpm":
            version, epoch = _rpm_version(version, q.get("epoch"))
        source = self._source(purl, props)
        name = purl.name
        source_name = source.name or name
        source_version = None if purl.type == "apk" else source.version or version  # apk: the origin's is ours
        arch = q.get("arch")
        arch = None if not arch or arch in ("None", "(none)") else arch  # Trivy writes arch=None for rpm keys
        return Package(version=version, arch=arch, epoch=epoch, source_name=source_name,
                       source_version=source_version, **common)

    def _source(self, purl: PackageURL, props: peers.Properties) -> peers.Source:
        kind = purl.type
        candidates = [
            peers.from_upstream(_qualifiers(purl).get("upstream"), kind),
            peers.from_imagescan(props),
            peers.from_trivy(props, kind),
            peers.from_syft(props, kind),
            self.source_of.get(f"{kind}/{purl.name}", peers.Source()),
            self.own_source.get(f"{kind}/{purl.name}", peers.Source()),
        ]
        name = next((c.name for c in candidates if c.name), None)
        version = next((c.version for c in candidates if c.version), None)
        return peers.Source(name, version)

    def warnings(self) -> list[ScanWarning]:
        texts = {
            "no-purl": "components without a purl were skipped",
            "bad-purl": "components with an unreadable purl were skipped",
            "unsupported-type": "components of a purl type imagescan cannot match were skipped",
            "no-version": "components without a version were skipped",
        }
        out = []
        for code, text in texts.items():
            count = self.skipped.get(code, 0)
            if count:
                names = ", ".join(self.examples.get(code, []))
                more = "…" if count > len(self.examples.get(code, [])) else ""
                out.append(ScanWarning(code=f"sbom-{code}", message=f"{count} {text}: {names}{more}"))
        return out


def _supplier(component: dict[str, Any]) -> str | None:
    supplier = component.get("supplier")
    return _text(supplier.get("name")) if isinstance(supplier, dict) else None


def _license(component: dict[str, Any]) -> str | None:
    """The component's license when it names exactly one (an SPDX id, a name or an expression)."""
    licenses = component.get("licenses")
    if not isinstance(licenses, list) or len(licenses) != 1 or not isinstance(licenses[0], dict):
        return None
    entry = licenses[0]
    if _text(entry.get("expression")):
        return _text(entry.get("expression"))
    inner = entry.get("license")
    if isinstance(inner, dict):
        return _text(inner.get("id")) or _text(inner.get("name"))
    return None


def _os_version(purl: PackageURL, kind: str) -> str:
    """The version as the package manager writes it: dpkg's keeps the epoch (Trivy moves it to a qualifier)."""
    version = purl.version or ""
    epoch = _qualifiers(purl).get("epoch")
    if kind == "deb" and epoch and epoch != "0" and not re.match(r"^\d+:", version):
        return f"{epoch}:{version}"
    return version


def _rpm_version(version: str, epoch_qualifier: str | None) -> tuple[str, int | None]:
    epoch: int | None = None
    match = re.match(r"^(\d+):(.+)$", version)
    if match:
        epoch, version = int(match.group(1)), match.group(2)
    if epoch_qualifier and epoch_qualifier.isdigit():
        epoch = int(epoch_qualifier)
    return version, epoch


def _os_from_component(reader: _Reader) -> OSRelease | None:
    for component in reader.components:
        if component.get("type") != "operating-system":
            continue
        props = peers.properties(component)
        name = peers.first(props, "syft:distro:id") or _text(component.get("name"))
        if not name:
            continue
        version = peers.first(props, "syft:distro:versionID") or _text(component.get("version"))
        return OSRelease(
            id=peers.os_id(name),
            version_id=version.split()[0] if version else None,
            pretty_name=peers.first(props, "syft:distro:prettyName") or _text(component.get("description")),
            version_codename=peers.first(props, "syft:distro:versionCodename"),
            id_like=[v for k, vs in sorted(props.items()) if k.startswith("syft:distro:idLike") for v in vs],
            source=peers.first(props, "imagescan:path") or "",
        )
    return None


def _os_from_purls(reader: _Reader) -> OSRelease | None:
    if not reader.distros:
        return None
    (namespace, distro), _ = reader.distros.most_common(1)[0]
    match = _DISTRO_RE.match(distro.lower())
    if match:
        os_name, version = match.group("id"), match.group("version")
    elif distro[:1].isdigit() and namespace:
        os_name, version = namespace, distro
    else:
        return None
    codenames = {c.get("distro_name") for c in _os_purl_qualifiers(reader)} - {None}
    return OSRelease(id=peers.os_id(os_name), version_id=version,
                     version_codename=codenames.pop() if len(codenames) == 1 else None, source="purl distro")


def _os_purl_qualifiers(reader: _Reader) -> list[dict[str, str]]:
    out = []
    for component in reader.components:
        purl = _purl(component)
        if isinstance(purl, PackageURL) and purl.type in OS_PACKAGE_TYPES:
            out.append(_qualifiers(purl))
    return out


def _digest(meta: dict[str, Any], data: bytes) -> tuple[str, bool]:
    """The image digest the SBOM names (manifest, else config/image id), or the file's own hash (False)."""
    image = meta.get("component") if isinstance(meta.get("component"), dict) else {}
    assert isinstance(image, dict)
    version = _text(image.get("version"))
    if version and _DIGEST_RE.match(version):
        return version, True
    purl = _purl(image)
    if isinstance(purl, PackageURL) and purl.version and _DIGEST_RE.match(purl.version):
        return purl.version, True
    props = peers.properties(image)
    for repo_digest in props.get(peers.TRIVY + "RepoDigest", []):
        candidate = repo_digest.rpartition("@")[2]
        if _DIGEST_RE.match(candidate):
            return candidate, True
    image_id = peers.first(props, peers.TRIVY + "ImageID")
    if image_id and _DIGEST_RE.match(image_id):
        return image_id, True
    config = peers.first(props, "oci:image:manifest:Config") or peers.first(peers.properties(meta),
                                                                             "oci:image:manifest:Config")
    if config and _HEX_RE.match(config):
        return f"sha256:{config[:64]}", True
    return "sha256:" + hashlib.sha256(data).hexdigest(), False


def _tool(meta: dict[str, Any]) -> str | None:
    tools = meta.get("tools")
    items = tools.get("components") if isinstance(tools, dict) else tools
    named = [t for t in items if isinstance(t, dict) and _text(t.get("name"))] if isinstance(items, list) else []
    if not named:
        return None
    tool = named[-1]  # cdxgen lists its plugins (trivy, trustinspector) before itself
    return f"{_text(tool.get('name'))} {_text(tool.get('version')) or ''}".strip()


def _platform(meta: dict[str, Any], packages: list[Package]) -> str | None:
    image = meta.get("component") if isinstance(meta.get("component"), dict) else {}
    assert isinstance(image, dict)
    declared = peers.first(peers.properties(image), "imagescan:platform")
    if declared:
        return declared
    arches = Counter(_ARCH_PLATFORMS[p.arch] for p in packages if p.arch in _ARCH_PLATFORMS)
    return f"linux/{arches.most_common(1)[0][0]}" if arches else None


def parse_sbom(data: bytes, what: str = "SBOM") -> SbomInventory:
    """The inventory of a CycloneDX JSON document. Raises :class:`SbomError` when it is not one."""
    doc = _document(data, what)
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    reader = _Reader(doc, what)
    packages = reader.packages()
    os = _os_from_component(reader) or _os_from_purls(reader)
    digest, named = _digest(meta, data)
    warnings = reader.warnings()
    if not named:
        warnings.append(ScanWarning(code="sbom-no-digest", message="the SBOM names no image digest: finding ids "
                                    "are derived from the SBOM file's own sha256"))
    if os is None and any(p.type in OS_PACKAGE_TYPES for p in packages):
        warnings.append(ScanWarning(code="sbom-no-os", message="the SBOM names no operating system, in an "
                                    "operating-system component or in the packages' distro qualifier"))
    image = meta.get("component") if isinstance(meta.get("component"), dict) else {}
    assert isinstance(image, dict)
    return SbomInventory(
        inventory=Inventory(reference=f"sbom:{what}", digest=digest, os=os, packages=packages),
        warnings=warnings, tool=_tool(meta), image_name=_text(image.get("name")),
        platform=_platform(meta, packages), skipped=dict(reader.skipped),
    )
