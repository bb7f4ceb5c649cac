"""Package URLs for what the catalogers find, in the forms SPEC lists (packageurl-python)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from packageurl import PackageURL

if TYPE_CHECKING:  # the models are only read here: the SBOM writer imports this without loading pydantic
    from imagescan.models import OSRelease, Package

_OS_TYPES = ("deb", "rpm", "apk")  # PackageType's OS package types (a StrEnum: its members equal these strings)
_DEFAULT_OS = {"deb": "debian", "apk": "alpine"}


def _qualifiers(pkg: Package, os: OSRelease | None) -> dict[str, str]:
    q: dict[str, str] = {}
    if pkg.arch:
        q["arch"] = pkg.arch
    if pkg.epoch:
        q["epoch"] = str(pkg.epoch)
    distro = os.distro_qualifier() if os else None
    if distro:
        q["distro"] = distro
    if pkg.source_name and pkg.source_name != pkg.name:
        q["upstream"] = pkg.source_name
    return q


def os_namespace(pkg_type: str, os: OSRelease | None) -> str | None:
    """The purl namespace of an OS package: the distro's os-release ID (``debian``, ``ubuntu``, ``amzn``)."""
    if os and os.id:
        return os.id
    return _DEFAULT_OS.get(str(pkg_type))


def package_purl(pkg: Package, os: OSRelease | None) -> PackageURL:
    if pkg.type in _OS_TYPES:
        namespace, qualifiers = os_namespace(str(pkg.type), os), _qualifiers(pkg, os)
    else:
        namespace, qualifiers = pkg.namespace, dict(pkg.qualifiers)
    name = pkg.name
    if not name.strip(" \t\r\n/"):
        # packageurl strips blanks and slashes from a name and cannot write an empty one: a package database
        # that names a package "/" keeps its package, under the percent-encoded name.
        name = quote(name, safe="") or "%00"
    return PackageURL(type=str(pkg.type), namespace=namespace, name=name, version=pkg.version,
                      qualifiers=qualifiers or None)


def image_purl(name: str, digest: str, repository_url: str | None = None) -> PackageURL:
    qualifiers = {"repository_url": repository_url} if repository_url else {}
    return PackageURL(type="oci", name=name.lower(), version=digest, qualifiers=qualifiers)
