"""Data models shared across the engine. Everything that crosses a process or Lambda boundary is here.

The per-layer result (:class:`LayerResult`) is versioned and JSON-serialisable: in AWS each layer is analysed by its
own Lambda invocation and the result travels through S3 under :func:`imagescan.layer.cachekey.layer_cache_key`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

LAYER_RESULT_SCHEMA = 1


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class PackageType(StrEnum):
    """purl types. OS package types first; language ecosystems after."""

    DEB = "deb"
    RPM = "rpm"
    APK = "apk"
    PYPI = "pypi"
    NPM = "npm"
    MAVEN = "maven"
    GOLANG = "golang"
    CARGO = "cargo"
    GEM = "gem"
    COMPOSER = "composer"
    NUGET = "nuget"
    GENERIC = "generic"
    """Runtimes and tools identified from their files (python, node, openssl, busybox...)."""


OS_PACKAGE_TYPES = frozenset({PackageType.DEB, PackageType.RPM, PackageType.APK})


class Package(Model):
    """One installed package as a cataloger reads it from one database file.

    ``path`` is the database file the package was read from (``var/lib/dpkg/status``); ``layer_diff_id`` is filled
    by the merge step with the layer that last wrote the package.
    """

    type: PackageType | str
    name: str
    namespace: str | None = None
    """purl namespace for language packages: Maven group, npm scope (``@types``), Go module path prefix."""
    version: str
    """The ecosystem's full version string: dpkg ``[epoch:]upstream[-revision]``, rpm ``version-release``."""
    arch: str | None = None
    epoch: int | None = None
    """rpm only: the Epoch tag (None when absent). dpkg keeps the epoch inside ``version``."""
    source_name: str | None = None
    """dpkg Source package, rpm source rpm name, apk origin."""
    source_version: str | None = None
    license: str | None = None
    vendor: str | None = None
    maintainer: str | None = None
    path: str = ""
    layer_diff_id: str | None = None
    files: list[str] = Field(default_factory=list)
    """Files the package owns, without leading slash, when the database lists them."""
    qualifiers: dict[str, str] = Field(default_factory=dict)
    """Extra purl qualifiers of language packages (e.g. Maven ``type=war``)."""
    digests: dict[str, str] = Field(default_factory=dict)
    """Content digests by algorithm, e.g. the jar's ``sha1``."""
    properties: dict[str, str] = Field(default_factory=dict)
    """Facts a cataloger records that are not part of the purl (e.g. ``java:identified_by``); CycloneDX shows them
    as ``imagescan:NAME`` properties."""
    component_type: str = "library"
    """CycloneDX component type: ``library``, or ``application`` for the image's own app (its package.json)."""
    owner: str | None = None
    """Set by the merge when an OS package owns this language package's files: ``TYPE/NAME`` of that OS package
    (Debian's python3-yaml owns PyYAML's dist-info). Such packages are matched against the OS vendor's data."""


class OSRelease(Model):
    id: str
    """os-release ID, lower case: debian, ubuntu, alpine, amzn, rhel, rocky, sles, ..."""
    version_id: str | None = None
    name: str | None = None
    pretty_name: str | None = None
    version_codename: str | None = None
    id_like: list[str] = Field(default_factory=list)
    distroless: bool = False
    source: str = ""
    """The file it was read from."""

    def distro_qualifier(self) -> str | None:
        """The purl ``distro`` qualifier value, e.g. ``debian-12``, ``alpine-3.18``, ``amzn-2023``."""
        if not self.version_id:
            return None
        version = self.version_id
        if self.id == "debian":
            version = version.split(".")[0]
        elif self.id == "alpine":
            version = ".".join(version.split(".")[:2])
        return f"{self.id}-{version}"


class ScanWarning(Model):
    code: str
    message: str
    layer_diff_id: str | None = None
    path: str | None = None


class EntryType(StrEnum):
    FILE = "f"
    DIR = "d"
    SYMLINK = "l"
    HARDLINK = "h"
    CHAR = "c"
    BLOCK = "b"
    FIFO = "p"
    OTHER = "?"


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One entry of a layer's tar, as recorded in the layer's index. A plain dataclass, not a pydantic model: the
    merge builds one per entry of every layer; what crosses boundaries is the compact row (:meth:`to_row`)."""

    path: str
    type: EntryType
    mode: int
    uid: int = 0
    gid: int = 0
    size: int = 0
    link: str | None = None

    def to_row(self) -> list[str | int | None]:
        return [self.path, self.type.value, self.mode, self.uid, self.gid, self.size, self.link]

    @classmethod
    def from_row(cls, row: list[str | int | None]) -> FileEntry:
        path, typ, mode, uid, gid, size, link = row
        return cls(str(path), _ENTRY_TYPES[str(typ)], int(mode or 0), int(uid or 0), int(gid or 0), int(size or 0),
                   None if link is None else str(link))


_ENTRY_TYPES = {t.value: t for t in EntryType}


class RawFinding(Model):
    """Something a file scanner found in one file of one layer (a secret, a risky file). Image-level checks turn
    these into report findings once the merge has said whether the file still exists in the final image."""

    rule: str
    title: str
    severity: str
    line: int | None = None
    masked: str | None = None
    """A preview with any secret masked: the clear value is never stored."""
    fingerprint: str | None = None
    evidence: str | None = None


class PathRecord(Model):
    """What one cataloger read from one file of one layer."""

    cataloger: str
    path: str
    packages: list[Package] = Field(default_factory=list)
    os_release: OSRelease | None = None
    owned_files: dict[str, list[str]] = Field(default_factory=dict)
    """Package key (name or name:arch) → files it owns, for databases that keep file lists apart
    (dpkg ``info/*.list``)."""
    findings: list[RawFinding] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    """Damage the cataloger read past (a record it had to skip); the file's other packages are still listed."""


class LayerResult(Model):
    """Everything one analysis pass learned about one layer. Keyed by :attr:`cache_key`."""

    schema_version: int = LAYER_RESULT_SCHEMA
    digest: str
    """The (possibly compressed) blob digest as the manifest lists it."""
    diff_id: str
    """sha256 of the uncompressed tar, computed while streaming."""
    cache_key: str
    analyzers: dict[str, int]
    size: int = 0
    uncompressed_size: int = 0
    entries: list[list[str | int | None]] = Field(default_factory=list)
    """Compact index of every entry: ``[path, type, mode, uid, gid, size, link]`` (see :class:`FileEntry`)."""
    whiteouts: list[str] = Field(default_factory=list)
    """Paths this layer deletes (from ``.wh.NAME`` entries)."""
    opaque_dirs: list[str] = Field(default_factory=list)
    """Directories whose lower-layer contents this layer hides (``.wh..wh..opq``)."""
    records: list[PathRecord] = Field(default_factory=list)
    warnings: list[ScanWarning] = Field(default_factory=list)
    oversize: dict[str, int] = Field(default_factory=dict)
    """Per cataloger, how many wanted files were over its size cap and not read."""
    complete: bool = True
    """False when the layer could not be read to its end; :attr:`warnings` says why."""
