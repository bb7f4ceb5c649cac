"""Package URLs for what the catalogers find, in the forms SPEC lists (packageurl-python)."""

from __future__ import annotations

from packageurl import PackageURL

from imagescan.models import OSRelease, Package, PackageType


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
    return {PackageType.DEB: "debian", PackageType.APK: "alpine"}.get(PackageType(pkg_type))


def package_purl(pkg: Package, os: OSRelease | None) -> PackageURL:
    if pkg.type in (PackageType.DEB, PackageType.RPM, PackageType.APK):
        return PackageURL(
            type=str(pkg.type), namespace=os_namespace(str(pkg.type), os), name=pkg.name,
            version=pkg.version, qualifiers=_qualifiers(pkg, os),
        )
    return PackageURL(type=str(pkg.type), namespace=pkg.namespace, name=pkg.name, version=pkg.version,
                      qualifiers=dict(pkg.qualifiers) or None)


def image_purl(name: str, digest: str, repository_url: str | None = None) -> PackageURL:
    qualifiers = {"repository_url": repository_url} if repository_url else {}
    return PackageURL(type="oci", name=name.lower(), version=digest, qualifiers=qualifiers)
