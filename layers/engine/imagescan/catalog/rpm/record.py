"""What the cataloger keeps of one rpm header: name, epoch, version, release, arch, source rpm, licence, vendor
and the file list."""

from __future__ import annotations

from dataclasses import dataclass, field

from imagescan.catalog.base import CatalogError
from imagescan.catalog.rpm.header import RpmHeader, Tag

GPG_PUBKEY = "gpg-pubkey"


@dataclass(frozen=True, slots=True)
class RpmRecord:
    name: str
    version: str
    release: str | None
    epoch: int | None
    arch: str | None
    source_rpm: str | None
    license: str | None
    vendor: str | None
    files: list[str] = field(default_factory=list)
    """Paths the package owns, without the leading slash, in header order."""

    @property
    def is_gpg_pubkey(self) -> bool:
        """rpm keeps each imported signing key as a pseudo-package ``gpg-pubkey`` (no arch, no source rpm)."""
        return self.name == GPG_PUBKEY

    @property
    def full_version(self) -> str:
        return f"{self.version}-{self.release}" if self.release else self.version


def split_source_rpm(source_rpm: str | None) -> tuple[str, str] | None:
    """``openssl-3.0.8-1.amzn2023.0.1.src.rpm`` → ``("openssl", "3.0.8-1.amzn2023.0.1")``; None if not of that form."""
    if not source_rpm:
        return None
    stem = source_rpm.removesuffix(".rpm")
    if stem == source_rpm:
        return None
    stem = stem.rpartition(".")[0]  # the arch part: src or nosrc
    name_version, _, release = stem.rpartition("-")
    name, _, version = name_version.rpartition("-")
    if not name or not version or not release:
        return None
    return name, f"{version}-{release}"


def _optional(value: str | None) -> str | None:
    """None for an absent tag, an empty string, or the literal ``(none)`` (what rpm prints for an absent tag, and
    what some tools store: the ``gpg-pubkey`` headers of RHEL and Fedora carry SOURCERPM ``(none)``)."""
    return None if not value or value == "(none)" else value


def _files(header: RpmHeader) -> list[str]:
    basenames = header.strings(Tag.BASENAMES)
    if basenames is not None:
        dirnames = header.strings(Tag.DIRNAMES) or []
        dirindexes = header.integers(Tag.DIRINDEXES) or []
        if len(dirindexes) != len(basenames):
            raise CatalogError(f"rpm header: {len(basenames)} basenames but {len(dirindexes)} dir indexes")
        paths: list[str] = []
        for base, index in zip(basenames, dirindexes, strict=True):
            if index >= len(dirnames):
                raise CatalogError(f"rpm header: dir index {index} beyond {len(dirnames)} dir names")
            paths.append(dirnames[index] + base)
    else:
        paths = header.strings(Tag.OLDFILENAMES) or []
    return [stripped for path in paths if (stripped := path.lstrip("/"))]


def record_from_header(header: RpmHeader) -> RpmRecord:
    """Read the fields of one package. Raises CatalogError when the header has no name or version."""
    name = header.string(Tag.NAME)
    version = header.string(Tag.VERSION)
    if not name or version is None:
        raise CatalogError("rpm header: no NAME or VERSION tag")
    return RpmRecord(
        name=name,
        version=version,
        release=_optional(header.string(Tag.RELEASE)),
        epoch=header.integer(Tag.EPOCH),
        arch=_optional(header.string(Tag.ARCH)),
        source_rpm=_optional(header.string(Tag.SOURCERPM)),
        license=_optional(header.string(Tag.LICENSE)),
        vendor=_optional(header.string(Tag.VENDOR)),
        files=_files(header),
    )
