"""The Java archive cataloger: Maven components in ``.jar``/``.war``/``.ear``/... files, nested archives included.

For each archive (the file the walker hands over, and recursively every archive inside it: Spring Boot
``BOOT-INF/lib/*.jar``, WAR ``WEB-INF/lib/*.jar``, EAR modules, jars in ``lib/``), :func:`identify` names its own
component and the pom.properties shaded into it. Each becomes a ``maven`` :class:`Package`:

- ``namespace`` = groupId, ``name`` = artifactId, ``version``; purl ``pkg:maven/GROUP/ARTIFACT@VERSION``.
  A component known only from its manifest or file name has no groupId: its namespace stays empty
  (``pkg:maven/NAME@VERSION``). Syft would use the name as group (``pkg:maven/NAME/NAME@V``) and Trivy would drop it
  (or ask its SHA-1 database); a made-up group looks like a real coordinate and can match advisories of another
  artifact, while an empty one says exactly what is known.
- ``path`` = the archive's image path, nested archives shown as ``app.jar!/BOOT-INF/lib/x-1.0.jar`` (an OS package
  owning ``app.jar`` owns everything inside it: see :func:`imagescan.merge._mark_owned`).
- ``digests["sha1"]`` = SHA-1 of the archive's bytes (of the nested archive for nested ones), on the archive's own
  component only: a shaded component has no file of its own, and giving it the jar's SHA-1 would make SHA-1 lookups
  (Maven Central search, Trivy's Java DB) take the jar for that component. Syft does the same.
- ``qualifiers["type"]`` = the archive type for an own component that is not a jar (``war``, ``ear``, ``hpi``...).
- ``properties["java:identified_by"]`` = ``pom.properties``, ``MANIFEST.MF`` or ``file-name``;
  ``properties["java:shaded"] = "true"`` for a pom.properties that is not the archive's own.

A damaged top-level file raises :class:`CatalogError`; a damaged or over-limit nested archive, manifest or
pom.properties is skipped with a note in :attr:`PathRecord.notes`, and the rest is still listed. Limits:
:class:`imagescan.catalog.java.zipaccess.Limits`.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from imagescan.catalog.base import CatalogError
from imagescan.catalog.java.filename import extension_of, is_archive_name, parse_file_name
from imagescan.catalog.java.identify import (
    MANIFEST_PATH,
    Identity,
    PomProperties,
    identify,
    pom_coordinates,
    pom_from_properties,
)
from imagescan.catalog.java.manifest import parse_manifest
from imagescan.catalog.java.properties import PropertiesError, parse_properties
from imagescan.catalog.java.zipaccess import (
    ArchiveError,
    Budget,
    Limits,
    MiB,
    open_member_file,
    open_zip,
    read_member,
    sha1_file,
)
from imagescan.models import Package, PackageType, PathRecord

NESTING = "!/"
DEFAULT_LIMITS = Limits()
PROP_IDENTIFIED_BY = "java:identified_by"
PROP_SHADED = "java:shaded"
_TYPE_QUALIFIER = {"jpi": "hpi"}
"""Maven packaging of an archive extension, where they differ (Jenkins installs ``.hpi`` plugins as ``.jpi``)."""


@dataclass
class _Scan:
    budget: Budget
    packages: list[Package] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def archive(self, fp: BinaryIO, size: int, location: str, depth: int, sha1: Callable[[], str]) -> None:
        """Catalog one archive and, recursively, the archives inside it. ArchiveError: this archive is unreadable."""
        with open_zip(fp, size, self.budget) as archive:
            manifest: dict[str, str] = {}
            poms: list[PomProperties] = []
            nested: list[zipfile.ZipInfo] = []
            for info in archive.infolist():
                name = info.filename
                if not name or name.endswith("/"):  # a directory (ZipInfo.is_dir fails on an empty name)
                    continue
                if name.upper() == MANIFEST_PATH and not manifest:
                    manifest = self._metadata(archive, info, location, parse_manifest) or {}
                elif pom_coordinates(name) is not None:
                    values = self._metadata(archive, info, location, parse_properties)
                    pom = pom_from_properties(name, values) if values is not None else None
                    if pom is not None:
                        poms.append(pom)
                    elif values is not None:
                        self.notes.append(f"{location}{NESTING}{name}: no version; skipped")
                elif is_archive_name(name):
                    nested.append(info)
            self._emit(identify(parse_file_name(location), manifest, poms), location, sha1)
            for info in nested:
                self._nested(archive, fp, size, info, location, depth + 1)

    def _metadata(
        self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, location: str, parse: Callable[[bytes], dict[str, str]]
    ) -> dict[str, str] | None:
        try:
            return parse(read_member(archive, info, self.budget))
        except (ArchiveError, PropertiesError) as exc:
            self.notes.append(f"{location}{NESTING}{info.filename}: {exc}")
            return None

    def _nested(
        self, archive: zipfile.ZipFile, fp: BinaryIO, size: int, info: zipfile.ZipInfo, parent: str, depth: int
    ) -> None:
        location = f"{parent}{NESTING}{info.filename}"
        if depth > self.budget.limits.max_depth:
            self.notes.append(f"{location}: nested deeper than {self.budget.limits.max_depth} archives; not read")
            return
        try:
            with open_member_file(archive, fp, size, info, self.budget) as (member, member_size, digest):
                self.archive(member, member_size, location, depth, lambda: digest)
        except ArchiveError as exc:
            self.notes.append(f"{location}: {exc}")

    def _emit(self, identities: list[Identity], location: str, sha1: Callable[[], str]) -> None:
        for identity in identities:
            package = Package(
                type=PackageType.MAVEN, namespace=identity.group, name=identity.artifact, version=identity.version,
                path=location, properties={PROP_IDENTIFIED_BY: identity.source.value},
            )  # fmt: skip
            if identity.own:
                package.digests["sha1"] = sha1()
                extension = extension_of(location)
                if extension != "jar":
                    package.qualifiers["type"] = _TYPE_QUALIFIER.get(extension, extension)
            else:
                package.properties[PROP_SHADED] = "true"
            self.packages.append(package)


def catalog_archive(path: str, data: BinaryIO, size: int, limits: Limits = DEFAULT_LIMITS) -> PathRecord | None:
    """Every Maven component in the archive at image path ``path`` (``data``: seekable, ``size`` bytes)."""
    scan = _Scan(Budget(limits))
    digest: list[str] = []

    def sha1() -> str:
        if not digest:
            digest.append(sha1_file(data))
        return digest[0]

    try:
        scan.archive(data, size, path, 0, sha1)
    except ArchiveError as exc:
        raise CatalogError(f"{path}: {exc}") from exc
    except OSError as exc:  # the spooled copy of the file itself failed to read
        raise CatalogError(f"{path}: {type(exc).__name__}: {exc}") from exc
    if not scan.packages and not scan.notes:
        return None
    return PathRecord(cataloger=JavaArchiveCataloger.name, path=path, packages=scan.packages, notes=scan.notes)


class JavaArchiveCataloger:
    name = "java-archive"
    version = 1
    max_file_size = 512 * MiB
    """WARs and fat jars are big; the file is read in place (the walker spools it to disk), never whole."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits

    def wants(self, path: str) -> bool:
        return is_archive_name(path)

    def parse(self, path: str, data: BinaryIO, size: int) -> PathRecord | None:
        return catalog_archive(path, data, size, self.limits)

