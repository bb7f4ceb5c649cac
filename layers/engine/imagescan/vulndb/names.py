"""Ecosystem and package-name normalisation, shared by the builder (when it stores) and the store (when it looks up).

Ecosystems use OSV spelling (``PyPI``, ``Go``, ``crates.io``, ``Debian:12``, ``Alpine:v3.18``) plus
``Amazon Linux:<release>``, which is not an official OSV ecosystem. See docs/database.md.
"""

from __future__ import annotations

import re

DEBIAN_CODENAMES: dict[str, str] = {
    "woody": "3.0", "sarge": "3.1", "etch": "4", "lenny": "5", "squeeze": "6", "wheezy": "7", "jessie": "8",
    "stretch": "9", "buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14",
    "duke": "15", "sid": "unstable",
}
"""Debian codename → the release part of the ``Debian:<release>`` ecosystem."""

_CANON: dict[str, str] = {
    name.lower(): name
    for name in (
        "PyPI", "Go", "npm", "Maven", "crates.io", "RubyGems", "Packagist", "NuGet", "Hex", "Pub", "CRAN",
        "Hackage", "SwiftURL", "GitHub Actions", "Debian", "Ubuntu", "Alpine", "Amazon Linux", "Rocky Linux",
        "AlmaLinux", "Red Hat", "SUSE", "openSUSE", "Wolfi", "Chainguard", "Photon OS", "Mageia", "Linux",
        "Android", "OSS-Fuzz", "ConanCenter", "Bitnami", "Alpaquita",
    )
}
_AMAZON_RELEASES = {"2023": "2023", "al2023": "2023", "2": "2", "al2": "2", "1": "1", "al1": "1"}
_PEP503 = re.compile(r"[-_.]+")


def normalize_ecosystem(ecosystem: str) -> str:
    """The stored spelling of an ecosystem: ``pypi`` → ``PyPI``, ``Alpine:3.18.4`` → ``Alpine:v3.18``,
    ``Debian:bookworm`` → ``Debian:12``, ``Debian:12.5`` → ``Debian:12``,
    ``Amazon Linux:AL2023`` → ``Amazon Linux:2023``. Unknown ecosystems are kept as given (trimmed)."""
    base, sep, release = ecosystem.strip().partition(":")
    base = _CANON.get(base.strip().lower(), base.strip())
    release = release.strip()
    if not sep:
        return base
    if base == "Alpine":
        match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)*", release)
        if match:
            release = f"v{match.group(1)}.{match.group(2)}"
    elif base == "Debian":
        lowered = release.lower()
        if lowered in DEBIAN_CODENAMES:
            release = DEBIAN_CODENAMES[lowered]
        elif re.fullmatch(r"\d+(\.\d+)*", release) and not release.startswith("3."):
            release = release.split(".")[0]
    elif base == "Amazon Linux":
        lowered = release.lower().replace(" ", "")
        if lowered.startswith("2018.") or lowered.startswith("amzn1"):
            release = "1"
        else:
            release = _AMAZON_RELEASES.get(lowered, release)
    return f"{base}:{release}"


def normalize_package(ecosystem: str, name: str) -> str:
    """The lookup key of a package name in an ecosystem.

    PyPI: PEP 503 (lower case, runs of ``-_.`` → ``-``). crates.io: lower case, ``_`` → ``-`` (crates.io treats
    them as the same name). NuGet and Packagist: lower case (case-insensitive registries). Everything else (npm,
    Maven ``group:artifact``, Go module paths, RubyGems, distribution packages) is kept as given, trimmed.
    """
    base = ecosystem.split(":", 1)[0].strip().lower()
    name = name.strip()
    if base == "pypi":
        return _PEP503.sub("-", name).lower()
    if base == "crates.io":
        return name.lower().replace("_", "-")
    if base in ("nuget", "packagist"):
        return name.lower()
    return name


def ecosystem_for_os(os_id: str, version_id: str | None, codename: str | None = None) -> str | None:
    """The distribution ecosystem for an os-release: ``debian 12.5`` → ``Debian:12``, ``alpine 3.18.4`` →
    ``Alpine:v3.18``, ``amzn 2023`` → ``Amazon Linux:2023``, ``amzn 2`` → ``Amazon Linux:2``. None when the
    distribution has no ecosystem here."""
    os_id = os_id.strip().lower()
    version = (version_id or "").strip()
    if os_id == "debian":
        if version:
            return normalize_ecosystem(f"Debian:{version}")
        if codename and codename.lower() in DEBIAN_CODENAMES:
            return f"Debian:{DEBIAN_CODENAMES[codename.lower()]}"
        return None
    if os_id == "alpine" and version:
        return normalize_ecosystem(f"Alpine:{version}")
    if os_id == "amzn" and version:
        return normalize_ecosystem(f"Amazon Linux:{version}")
    return None
