"""What each SBOM producer writes besides the purl, read back into :class:`~imagescan.models.Package` fields.

Seen in real documents (tests/sbom/data, made by the tools themselves):

* **imagescan**: ``upstream=SOURCE`` when the source package differs; properties ``imagescan:source_version`` (when
  it differs from the version), ``imagescan:layer_diff_id``, ``imagescan:path``. dpkg versions carry the epoch.
* **Syft** 1.18: ``upstream=SOURCE`` or ``upstream=SOURCE@SOURCE_VERSION`` (a binNMU, or a binary whose epoch the
  source lacks); rpm ``upstream=NAME-VERSION-RELEASE.src.rpm``; properties ``syft:metadata:source``,
  ``syft:metadata:sourceVersion``, ``syft:metadata:originPackage`` (apk), ``syft:metadata:sourceRpm``, and
  ``syft:location:N:path`` / ``syft:location:N:layerID``. dpkg versions carry the epoch.
* **Trivy** 0.76: the epoch only as the ``epoch`` qualifier (the purl version has none); properties
  ``aquasecurity:trivy:SrcName``, ``SrcVersion``, ``SrcRelease``, ``SrcEpoch``, ``LayerDiffID`` and ``FilePath``.
  Its OS component and ``distro`` qualifier use Trivy's family names (``redhat``, ``amazon``) and, for Alpine,
  a bare version (``distro=3.18.4``).
* **cdxgen** 12 (OS packages through its bundled Trivy): no operating-system component (the OS is only in the
  purls' ``distro``/``distro_name``), purl versions with the epoch *and* an ``epoch`` qualifier, and extra
  components for source packages, tagged ``source``, whose ``evidence.identity`` lists the binaries built from
  them (technique ``filename``). A source entry is also an installed package only when it carries Trivy's
  ``PkgID`` property (a binary named like its source, ``util-linux``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from imagescan.catalog.rpm.record import split_source_rpm

TRIVY = "aquasecurity:trivy:"
OS_IDS = {
    "redhat": "rhel", "amazon": "amzn", "alma": "almalinux", "oracle": "ol", "cbl-mariner": "mariner",
    "suse linux enterprise server": "sles", "suse linux enterprise micro": "sle-micro",
    "opensuse.leap": "opensuse-leap", "opensuse.tumbleweed": "opensuse-tumbleweed", "opensuse-leap": "opensuse-leap",
}
"""Trivy's OS family names → os-release ``ID``; other names (debian, ubuntu, alpine, rocky, ...) are the same."""
DB_PATHS = ("var/lib/dpkg/status", "lib/apk/db/installed", "var/lib/rpm/", "usr/lib/sysimage/rpm/",
            "usr/share/rpm/")


def os_id(name: str) -> str:
    key = name.strip().lower()
    return OS_IDS.get(key, key.replace(" ", "-"))


Properties = dict[str, list[str]]


def properties(component: dict[str, Any]) -> Properties:
    out: Properties = {}
    raw = component.get("properties")
    for prop in raw if isinstance(raw, list) else []:
        if isinstance(prop, dict) and isinstance(prop.get("name"), str) and isinstance(prop.get("value"), str):
            out.setdefault(prop["name"], []).append(prop["value"])
    return out


def first(props: Properties, name: str) -> str | None:
    values = props.get(name)
    return values[0].strip() or None if values else None


@dataclass(frozen=True)
class Source:
    name: str | None = None
    version: str | None = None


def from_upstream(value: str | None, pkg_type: str) -> Source:
    """The ``upstream`` qualifier: ``NAME``, Syft's ``NAME@VERSION``, or (rpm) a source rpm file name."""
    if not value or not value.strip():
        return Source()
    value = value.strip()
    if pkg_type == "rpm" and value.endswith(".rpm"):
        split = split_source_rpm(value)
        return Source(*split) if split else Source()
    name, _, version = value.partition("@")
    return Source(name.strip() or None, version.strip() or None)


def from_trivy(props: Properties, pkg_type: str) -> Source:
    name = first(props, TRIVY + "SrcName")
    version = first(props, TRIVY + "SrcVersion")
    if not name:  # cdxgen's Trivy: the dpkg Source field as given, "NAME" or "NAME (VERSION)"
        package_source = first(props, TRIVY + "PackageSource")
        match = re.match(r"^([^\s(]+)(?:\s*\(([^)]+)\))?$", package_source or "")
        return Source(match.group(1), match.group(2)) if match else Source()
    if version and pkg_type in ("deb", "rpm"):
        release = first(props, TRIVY + "SrcRelease")
        version = f"{version}-{release}" if release else version
        epoch = first(props, TRIVY + "SrcEpoch")
        if pkg_type == "deb" and epoch and epoch != "0":
            version = f"{epoch}:{version}"
    return Source(name, version)


def from_syft(props: Properties, pkg_type: str) -> Source:
    if pkg_type == "rpm":
        srpm = first(props, "syft:metadata:sourceRpm")
        return from_upstream(srpm, "rpm") if srpm else Source()
    name = first(props, "syft:metadata:source") or first(props, "syft:metadata:originPackage")
    return Source(name, first(props, "syft:metadata:sourceVersion"))


def from_imagescan(props: Properties) -> Source:
    return Source(None, first(props, "imagescan:source_version"))


def is_source_tagged(component: dict[str, Any]) -> bool:
    """A cdxgen source-package component (which may also be an installed binary of the same name)."""
    tags = component.get("tags")
    return isinstance(tags, list) and "source" in tags


def is_installed(props: Properties) -> bool:
    """cdxgen: a source-tagged component is also an installed package when Trivy gave it a package id."""
    return TRIVY + "PkgID" in props


def built_from(component: dict[str, Any]) -> Iterator[str]:
    """The binary package names a cdxgen source component's evidence lists."""
    evidence = component.get("evidence")
    identity = evidence.get("identity") if isinstance(evidence, dict) else None
    identities = identity if isinstance(identity, list) else [identity] if isinstance(identity, dict) else []
    for ident in identities:
        methods = ident.get("methods") if isinstance(ident, dict) else None
        for method in methods if isinstance(methods, list) else []:
            if isinstance(method, dict) and method.get("technique") == "filename" \
                    and isinstance(method.get("value"), str) and "/" not in method["value"]:
                yield method["value"]


def location(props: Properties) -> tuple[str, str | None]:
    """(path, layer diff_id) of a component, from whichever producer's properties it carries."""
    path = first(props, "imagescan:path") or first(props, TRIVY + "FilePath") or ""
    layer = first(props, "imagescan:layer_diff_id") or first(props, TRIVY + "LayerDiffID")
    if not path or not layer:
        syft = _syft_location(props)
        if syft:
            path, layer = path or syft[0], layer or syft[1]
    return path.lstrip("/"), layer


def _syft_location(props: Properties) -> tuple[str, str | None] | None:
    """Syft lists every file that evidences a package, each with the layer holding it. The path is the package
    database; the layer is that of the package's own files (``info/NAME.md5sums``, its copyright file): the shared
    database file was last written by whichever layer last changed *any* package."""
    found: list[tuple[str, str | None]] = []
    for index in _indexes(props):
        path = first(props, f"syft:location:{index}:path")
        if path:
            found.append((path.lstrip("/"), first(props, f"syft:location:{index}:layerID")))
    if not found:
        return None
    databases = [f for f in found if _is_database(f[0])]
    own = [f for f in found if not _is_database(f[0]) and f[1]]
    path = databases[0][0] if databases else found[0][0]
    layer = own[0][1] if own else (databases[0][1] if databases else found[0][1])
    return path, layer


def _is_database(path: str) -> bool:
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in DB_PATHS) \
        or path.startswith("var/lib/dpkg/status.d/")


def _indexes(props: Iterable[str]) -> list[int]:
    out = set()
    for name in props:
        parts = name.split(":")
        if len(parts) == 4 and parts[:2] == ["syft", "location"] and parts[2].isdigit():
            out.add(int(parts[2]))
    return sorted(out)
