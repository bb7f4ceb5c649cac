"""Which Maven coordinates one archive holds, from its pom.properties files, its manifest and its file name.

Every ``META-INF/maven/GROUP/ARTIFACT/pom.properties`` names a component. One of them may be the archive's *own*
(the artifact the file is); the others were shaded (bundled, classes and all) into it. The own one is:

1. a pom.properties that names the archive: the file is named the Maven way, ``ARTIFACT-VERSION[-CLASSIFIER]``,
   or its name without version is the artifactId (``log4j-api.jar``, ``commons-text-1.10.0.jar``; ``-``, ``_`` and
   ``.`` count as the same character: Debian ships ``error_prone_annotation`` as ``error-prone-annotation.jar``), or
   the manifest names it (``Implementation-Title``, ``Specification-Title``, ``Bundle-Name``, ``Bundle-SymbolicName``
   or ``Automatic-Module-Name`` equal to the artifactId, to ``GROUP.ARTIFACT`` or ending in ``.ARTIFACT``); several
   matches: the one whose version the file name or the manifest also gives, else the first;
2. else the only pom.properties whose version is the version the archive states (manifest, else file name):
   Debian ships ``org.apache.maven:maven-core`` 3.8.7 as ``maven3-core.jar`` with ``Implementation-Version: 3.8.7``;
3. else, when the archive has exactly one pom.properties and states no version at all: that one (``app.jar``);
4. else there is no own pom.properties and the archive's own component comes from the manifest: the file name's
   name with the first of ``Implementation-Version``, ``Bundle-Version``, ``Plugin-Version``,
   ``Specification-Version`` (Debian's ``guice.jar`` holds only the pom.properties of the cglib shaded into it);
5. else from the file name alone when it holds a version (``foo-1.2.3.jar``); else the archive has no own component
   (a name without a version matches nothing and says nothing).

Syft takes the main package's name from the file name first and its version from pom.properties only when there is
exactly one that starts with the file name; Trivy calls a pom.properties the archive's own only when artifactId and
version both equal the file name's, uses the manifest only when it yields group, artifact and version, and otherwise
looks the SHA-1 up in its Java DB. We keep Syft's file-name-first naming, accept manifest names as Trivy does, and
never guess a groupId (see :mod:`imagescan.catalog.java.cataloger`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from imagescan.catalog.java.filename import FileName

POM_PREFIX = "META-INF/maven/"
POM_NAME = "pom.properties"
MANIFEST_PATH = "META-INF/MANIFEST.MF"
_NAME_ATTRIBUTES = ("implementation-title", "specification-title", "bundle-name", "bundle-symbolicname",
                    "automatic-module-name")  # fmt: skip
_SEPARATORS = re.compile(r"[-_.]")
_VERSION_ATTRIBUTES = ("implementation-version", "bundle-version", "plugin-version", "specification-version")


class Source(StrEnum):
    """What identified a component (recorded as the ``java:identified_by`` property)."""

    POM_PROPERTIES = "pom.properties"
    MANIFEST = "MANIFEST.MF"
    FILE_NAME = "file-name"


@dataclass(frozen=True)
class PomProperties:
    member: str
    """Where in the archive: ``META-INF/maven/GROUP/ARTIFACT/pom.properties``."""
    group: str
    artifact: str
    version: str


@dataclass(frozen=True)
class Identity:
    group: str | None
    artifact: str
    version: str
    source: Source
    own: bool
    """True for the archive's own artifact; False for a pom.properties shaded into it."""


def pom_coordinates(member: str) -> tuple[str, str] | None:
    """(group, artifact) of a ``META-INF/maven/GROUP/ARTIFACT/pom.properties`` member name, else None."""
    if not member.startswith(POM_PREFIX):
        return None
    parts = member[len(POM_PREFIX) :].split("/")
    if len(parts) != 3 or parts[2] != POM_NAME or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]


def pom_from_properties(member: str, values: dict[str, str]) -> PomProperties | None:
    """The coordinates a parsed pom.properties gives (groupId/artifactId default to its directory names); None
    without a version."""
    where = pom_coordinates(member)
    if where is None:
        return None
    group = values.get("groupId", "").strip() or where[0]
    artifact = values.get("artifactId", "").strip() or where[1]
    version = values.get("version", "").strip()
    if not version:
        return None
    return PomProperties(member, group, artifact, version)


def manifest_version(manifest: dict[str, str]) -> str | None:
    return next((manifest[a] for a in _VERSION_ATTRIBUTES if manifest.get(a)), None)


def _manifest_names(manifest: dict[str, str]) -> set[str]:
    names = set()
    for attribute in _NAME_ATTRIBUTES:
        value = manifest.get(attribute, "")
        if attribute == "bundle-symbolicname":
            value = value.split(";", 1)[0]
        if value.strip():
            names.add(value.strip().lower())
    return names


def _same_name(a: str, b: str) -> bool:
    return _SEPARATORS.sub("-", a) == _SEPARATORS.sub("-", b)


def _names_archive(pom: PomProperties, stem: str, names: set[str]) -> bool:
    artifact = pom.artifact.lower()
    maven_file = f"{artifact}-{pom.version.lower()}"
    if stem == maven_file or stem.startswith(maven_file + "-"):
        return True
    qualified = f"{pom.group.lower()}.{artifact}"
    return any(_same_name(n, artifact) or n == qualified or n.endswith("." + artifact) for n in names)


def identify(file_name: FileName, manifest: dict[str, str], poms: list[PomProperties]) -> list[Identity]:
    """The archive's own identity first (when it has one), then every shaded pom.properties in the given order."""
    names = {file_name.name.lower(), file_name.stem.lower()} | _manifest_names(manifest)
    version = manifest_version(manifest)
    stated = version or file_name.version
    candidates = [p for p in poms if _names_archive(p, file_name.stem.lower(), names)]
    same_version = [p for p in poms if p.version == stated]
    own_pom: PomProperties | None = None
    if candidates:
        versions = {v for v in (file_name.version, version) if v}
        own_pom = next((p for p in candidates if p.version in versions), candidates[0])
    elif len(same_version) == 1:
        own_pom = same_version[0]
    elif len(poms) == 1 and stated is None:
        own_pom = poms[0]
    own: list[Identity] = []
    if own_pom is not None:
        own.append(Identity(own_pom.group, own_pom.artifact, own_pom.version, Source.POM_PROPERTIES, True))
    elif version is not None:
        own.append(Identity(None, file_name.name, version, Source.MANIFEST, True))
    elif file_name.version is not None:
        own.append(Identity(None, file_name.name, file_name.version, Source.FILE_NAME, True))
    shaded = [Identity(p.group, p.artifact, p.version, Source.POM_PROPERTIES, False) for p in poms if p is not own_pom]
    return own + shaded
