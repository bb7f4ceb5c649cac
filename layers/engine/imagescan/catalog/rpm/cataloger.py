"""The rpm cataloger: installed packages from an rpm database (BerkeleyDB, ndb or SQLite)."""

from __future__ import annotations

from typing import BinaryIO

from imagescan.catalog.rpm.record import RpmRecord, split_source_rpm
from imagescan.catalog.rpm.rpmdb import read_rpmdb
from imagescan.models import Package, PackageType, PathRecord

_DB_DIRS = ("var/lib/rpm/", "usr/lib/sysimage/rpm/", "usr/share/rpm/")
_DB_FILES = ("Packages", "Packages.db", "rpmdb.sqlite")
DB_PATHS = frozenset(d + f for d in _DB_DIRS for f in _DB_FILES)
"""Where rpm keeps its database: ``var/lib/rpm`` (classic), ``usr/lib/sysimage/rpm`` (Fedora 36+, SUSE), and
``usr/share/rpm`` (older SUSE layouts, usually a symlink)."""


def to_package(record: RpmRecord, path: str) -> Package:
    source = split_source_rpm(record.source_rpm)
    return Package(
        type=PackageType.RPM,
        name=record.name,
        version=record.full_version,
        epoch=record.epoch,
        arch=record.arch,
        source_name=source[0] if source else None,
        source_version=source[1] if source else None,
        license=record.license,
        vendor=record.vendor,
        path=path,
        files=record.files,
    )


class RpmCataloger:
    """Reads ``Packages`` / ``Packages.db`` / ``rpmdb.sqlite``, telling the format from the content.

    ``gpg-pubkey`` headers are left out: ``rpm -qa`` lists them, but they are the signing keys rpm imported, not
    installed software (no arch, no source rpm, no files), and no advisory ever names them. Every other header
    becomes a :class:`Package`. A header or database page that cannot be read is skipped and described in
    :attr:`PathRecord.notes`; a file of which nothing can be read raises CatalogError.
    """

    name = "rpm"
    version = 1
    max_file_size = 512 * 1024 * 1024

    def wants(self, path: str) -> bool:
        return path in DB_PATHS

    def parse(self, path: str, data: BinaryIO, size: int) -> PathRecord | None:
        if size == 0:
            return None
        contents = read_rpmdb(data, size)
        packages = [to_package(record, path) for record in contents.records if not record.is_gpg_pubkey]
        return PathRecord(cataloger=self.name, path=path, packages=packages, notes=contents.notes)
