"""Name and version from an archive's file name: ``commons-text-1.10.0.jar`` → (``commons-text``, ``1.10.0``).

The version starts at a ``-`` followed by a digit, and every further ``-``-separated part of it must start with a
digit or be a usual Maven qualifier (``SNAPSHOT``, ``rc1``, ``beta``, ``Final``, ``jre``, ...). The first place that
gives such a version wins: ``guava-31.1-jre``, ``foo-2.0.0-beta-1``, ``foo-1.0-20230101.123456-1`` (a timestamped
snapshot) and ``log4j-1.2-api-2.19.0`` (→ ``log4j-1.2-api`` ``2.19.0``) all split right. When no place does, the
file name has no version (``log4j-1.2-api.jar``, ``app.jar``, classifier jars like ``x-1.0-linux-x86_64.jar``): a
wrong version would match the wrong advisories, a missing one matches none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ARCHIVE_EXTENSIONS = frozenset({"jar", "war", "ear", "par", "sar", "nar", "jpi", "hpi", "kar", "lpkg"})
"""Zip-based Java archives: Maven/JEE (jar, war, ear, par, sar), NiFi (nar), Jenkins plugins (jpi, hpi), Karaf
features (kar), Liferay (lpkg). The same list Syft's java-archive-cataloger uses."""

_VERSION_START = re.compile(r"-(?=\d)")
_VERSION_PART = re.compile(
    r"\d.*|(?:alpha|beta|rc|cr|m|milestone|snapshot|final|ga|release|sp|patch|jre|android|incubating|b|build|pre"
    r"|preview|ea|dev)[.\d]*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FileName:
    stem: str
    """The file name without its extension."""
    name: str
    """The stem without its version (the whole stem when it has none)."""
    version: str | None
    extension: str
    """Lower-cased extension without the dot (``jar``, ``war``)."""


def extension_of(path: str) -> str:
    """The lower-cased extension of ``path`` (``""`` when it has none)."""
    base = path.rsplit("/", 1)[-1]
    dot = base.rfind(".")
    return base[dot + 1 :].lower() if dot > 0 else ""


def is_archive_name(path: str) -> bool:
    return extension_of(path) in ARCHIVE_EXTENSIONS


def parse_file_name(path: str) -> FileName:
    base = path.rsplit("/", 1)[-1]
    extension = extension_of(base)
    stem = base[: -len(extension) - 1] if extension else base
    for match in _VERSION_START.finditer(stem):
        name, version = stem[: match.start()], stem[match.end() :]
        if name and all(_VERSION_PART.fullmatch(part) for part in version.split("-")):
            return FileName(stem, name, version, extension)
    return FileName(stem, stem, None, extension)
