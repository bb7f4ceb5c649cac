"""Where to look each package up: the advisory ecosystem, the package name advisories use, and the version to
compare.

OS packages are matched only against their vendor's advisories for the exact release of the image's
distribution (``Debian:12``, ``Alpine:v3.18``, ``Amazon Linux:2023``), never against language or upstream data:
vendors backport fixes, so upstream version ranges give false positives on distribution packages.

* Debian (``deb``): advisories name the **source** package (``openssl`` for ``libssl3``) with **source** versions,
  so the binary's ``source_name``/``source_version`` are used (a binNMU ``5.2.15-2+b8`` is source ``5.2.15-2``; a
  binary ``1:2.38.1-5`` built from source ``2.38.1-5`` must be compared without the binary's epoch).
* Alpine (``apk``): the origin package (``source_name``) and the package version (subpackages share it).
* Amazon Linux (``rpm``): ALAS names **binary** rpms, with ``[epoch:]version-release`` (other rpm vendors, when
  their data is added, name source rpms).
* Language packages: the OSV ecosystem of their purl type; the name as that ecosystem writes it (npm
  ``@scope/name``, Maven ``group:artifact``, Go module path, Composer ``vendor/name``).
"""

from __future__ import annotations

from dataclasses import dataclass

from imagescan.models import OSRelease, Package, PackageType
from imagescan.versions import Comparator, UnknownEcosystem, comparator_for, semver_npm
from imagescan.vulndb.names import ecosystem_for_os

LANGUAGE_ECOSYSTEMS: dict[str, str] = {
    PackageType.PYPI: "PyPI",
    PackageType.NPM: "npm",
    PackageType.MAVEN: "Maven",
    PackageType.GOLANG: "Go",
    PackageType.CARGO: "crates.io",
    PackageType.GEM: "RubyGems",
    PackageType.COMPOSER: "Packagist",
    PackageType.NUGET: "NuGet",
}
"""purl type → OSV ecosystem."""

OS_FAMILY_TYPES: dict[str, str] = {
    "Debian": PackageType.DEB, "Alpine": PackageType.APK, "Amazon Linux": PackageType.RPM,
}
"""Distribution ecosystem → the package type its advisories are about."""

SEMVER_NATIVE = frozenset({"npm", "go", "crates.io"})
"""Ecosystems whose own version scheme is SemVer: their comparator also serves ``SEMVER`` ranges."""

UNVERSIONED = frozenset({"", "(devel)", "unknown", "UNKNOWN"})
"""Versions that name no release (Go main modules built from a checkout): nothing to match."""


@dataclass(frozen=True)
class Target:
    ecosystem: str
    name: str
    """The package name as the advisories spell it (the database normalises it further)."""
    version: str
    """The version compared with the advisories' versions."""
    compare: Comparator
    semver: Comparator


def os_ecosystem(os: OSRelease | None) -> str | None:
    """The advisory ecosystem of the image's distribution release, or None when there is none."""
    if os is None:
        return None
    return ecosystem_for_os(os.id, os.version_id, os.version_codename)


def os_label(os: OSRelease | None) -> str:
    """``debian 12.5`` for messages."""
    if os is None:
        return "an unknown distribution"
    return f"{os.id} {os.version_id or os.version_codename or ''}".strip()


def _comparators(ecosystem: str) -> tuple[Comparator, Comparator]:
    compare = comparator_for(ecosystem)
    native = ecosystem.split(":", 1)[0].lower() in SEMVER_NATIVE
    return compare, compare if native else semver_npm.compare


def _language_name(pkg: Package, ecosystem: str) -> str:
    ns = pkg.namespace
    if not ns:
        return pkg.name
    if ecosystem == "npm":
        return f"{ns if ns.startswith('@') else '@' + ns}/{pkg.name}"
    if ecosystem == "Maven":
        return f"{ns}:{pkg.name}"
    return f"{ns}/{pkg.name}"  # Go module path, Composer vendor/name


def os_target(pkg: Package, ecosystem: str) -> Target:
    """The lookup of an OS package in its distribution's ecosystem. Raises :class:`UnknownEcosystem`."""
    compare, semver = _comparators(ecosystem)
    if pkg.type == PackageType.RPM:
        version = f"{pkg.epoch}:{pkg.version}" if pkg.epoch else pkg.version
        binary = ecosystem.split(":", 1)[0] == "Amazon Linux"  # ALAS lists binary rpms; other vendors source rpms
        return Target(ecosystem, pkg.name if binary else pkg.source_name or pkg.name, version, compare, semver)
    name = pkg.source_name or pkg.name
    version = pkg.source_version if pkg.source_name and pkg.source_version else pkg.version
    return Target(ecosystem, name, version, compare, semver)


def language_target(pkg: Package) -> Target | None:
    """The lookup of a language package; None for types with no advisory ecosystem (``generic``)."""
    ecosystem = LANGUAGE_ECOSYSTEMS.get(str(pkg.type))
    if ecosystem is None:
        return None
    try:
        compare, semver = _comparators(ecosystem)
    except UnknownEcosystem:
        return None
    version = pkg.version
    name = _language_name(pkg, ecosystem)
    if ecosystem == "Go" and name in ("stdlib", "toolchain") and version.startswith("go"):
        version = version[2:]  # buildinfo writes go1.21.0; the Go vulnerability database 1.21.0
    return Target(ecosystem, name, version, compare, semver)
