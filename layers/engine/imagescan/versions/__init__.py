"""Exact version comparison for every ecosystem the scanner matches, in pure Python.

Each scheme module (:mod:`.dpkg`, :mod:`.rpm`, :mod:`.apk`, :mod:`.pep440`, :mod:`.semver_npm`, :mod:`.golang`,
:mod:`.maven`, :mod:`.rubygems`, :mod:`.composer`, :mod:`.nuget`, :mod:`.cargo`) has ``compare(a, b) -> int``
(-1, 0, 1; use with :func:`functools.cmp_to_key`) that follows that ecosystem's reference implementation, and
raises :class:`InvalidVersion` where the reference would refuse the string. Parsed forms are cached.

:func:`comparator_for` maps an OSV ecosystem name (``Debian:12``, ``Alpine:v3.18``, ``PyPI``...) or a purl type
(``deb``, ``apk``, ``pypi``...) to the comparator.
"""

from __future__ import annotations

from imagescan.versions import apk, cargo, composer, dpkg, golang, maven, nuget, pep440, rpm, rubygems, semver_npm
from imagescan.versions.base import Comparator, InvalidVersion

__all__ = ["Comparator", "InvalidVersion", "UnknownEcosystem", "comparator_for", "compare"]


class UnknownEcosystem(KeyError):
    """No comparator is known for this ecosystem name or purl type."""

    def __str__(self) -> str:
        return f"no version comparator for ecosystem {self.args[0]!r}"


_BY_NAME: dict[str, Comparator] = {
    # OSV ecosystems (the part before ':' of e.g. "Debian:12", "Alpine:v3.18"), compared case-insensitively.
    "debian": dpkg.compare,
    "ubuntu": dpkg.compare,
    "alpine": apk.compare,
    "wolfi": apk.compare,
    "chainguard": apk.compare,
    "minimos": apk.compare,
    "alpaquita": apk.compare,
    "bellsoft hardened containers": apk.compare,
    "red hat": rpm.compare_evr,
    "redhat": rpm.compare_evr,
    "rocky linux": rpm.compare_evr,
    "almalinux": rpm.compare_evr,
    "amazon linux": rpm.compare_evr,
    "suse": rpm.compare_evr,
    "opensuse": rpm.compare_evr,
    "suse linux enterprise server": rpm.compare_evr,
    "mageia": rpm.compare_evr,
    "openeuler": rpm.compare_evr,
    "oracle linux": rpm.compare_evr,
    "centos": rpm.compare_evr,
    "fedora": rpm.compare_evr,
    "photon os": rpm.compare_evr,
    "azure linux": rpm.compare_evr,
    "mariner": rpm.compare_evr,
    "pypi": pep440.compare,
    "npm": semver_npm.compare,
    "go": golang.compare,
    "maven": maven.compare,
    "rubygems": rubygems.compare,
    "packagist": composer.compare,
    "nuget": nuget.compare,
    "crates.io": cargo.compare,
    # purl types (https://github.com/package-url/purl-spec).
    "deb": dpkg.compare,
    "rpm": rpm.compare_evr,
    "apk": apk.compare,
    "golang": golang.compare,
    "gem": rubygems.compare,
    "composer": composer.compare,
    "cargo": cargo.compare,
}


def comparator_for(ecosystem: str) -> Comparator:
    """The ``compare(a, b)`` function for an OSV ecosystem name or purl type.

    OSV release suffixes are ignored (``Debian:12``, ``Ubuntu:22.04:LTS``, ``Alpine:v3.18``,
    ``Amazon Linux:2023``, ``Red Hat:enterprise_linux:9``), case is ignored. Raises :class:`UnknownEcosystem`.
    """
    if not isinstance(ecosystem, str):
        raise UnknownEcosystem(ecosystem)
    name = ecosystem.split(":", 1)[0].strip().lower()
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownEcosystem(ecosystem) from None


def compare(ecosystem: str, a: str, b: str) -> int:
    """Compare two versions of ``ecosystem``: -1, 0 or 1."""
    return comparator_for(ecosystem)(a, b)
