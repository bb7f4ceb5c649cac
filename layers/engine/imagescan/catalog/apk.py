"""The apk cataloger: Alpine (and Wolfi, postmarketOS, ...) ``lib/apk/db/installed``.

The file is a list of records separated by blank lines; every line is ``X:value`` with a one-letter key
(``P`` name, ``V`` version, ``A`` arch, ``o`` origin, ``L`` licence, ``m`` maintainer, ``C`` checksum, ``c`` commit,
``F`` a directory, ``R`` a file inside the preceding ``F``, and others we do not need). A record without ``P:`` or
``V:`` is skipped; a ``P:`` inside a record that already has one starts a new record (a missing blank line). A line
that is not ``X:value`` makes the file malformed (:class:`CatalogError`), as apk itself refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO

from imagescan.catalog.base import DEFAULT_MAX_FILE_SIZE, CatalogError
from imagescan.models import Package, PackageType, PathRecord

INSTALLED_PATH = "lib/apk/db/installed"


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


@dataclass
class _Record:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    directory: str | None = None

    def package(self, path: str) -> Package | None:
        name, version = self.fields.get("P", ""), self.fields.get("V", "")
        if not name or not version:
            return None
        return Package(
            type=PackageType.APK,
            name=name,
            version=version,
            arch=self.fields.get("A") or None,
            source_name=self.fields.get("o") or name,
            license=self.fields.get("L") or None,
            maintainer=self.fields.get("m") or None,
            files=self.files,
            path=path,
        )


def parse_installed(data: bytes, path: str = INSTALLED_PATH) -> list[Package]:
    if b"\x00" in data:
        raise CatalogError(f"{path} holds NUL bytes: not an apk installed database")
    packages: list[Package] = []
    record = _Record()

    def flush() -> None:
        package = record.package(path)
        if package is not None:
            packages.append(package)

    for number, line in enumerate(data.split(b"\n"), start=1):
        line = line.rstrip(b"\r")
        if not line.strip():
            flush()
            record = _Record()
            continue
        if len(line) < 2 or line[1:2] != b":":
            raise CatalogError(f"{path}: line {number}: expected 'X:value', got {_text(line[:60])!r}")
        key, value = chr(line[0]), _text(line[2:]).strip()
        if key == "P" and "P" in record.fields:
            flush()
            record = _Record()
        if key == "F":
            record.directory = value.strip("/")
        elif key == "R":
            if value:
                record.files.append(f"{record.directory}/{value}" if record.directory else value)
        else:
            record.fields.setdefault(key, value)
    flush()
    return packages


class ApkCataloger:
    name = "apk"
    version = 1
    max_file_size = DEFAULT_MAX_FILE_SIZE

    def wants(self, path: str) -> bool:
        return path == INSTALLED_PATH

    def parse(self, path: str, data: BinaryIO, size: int) -> PathRecord | None:
        if path != INSTALLED_PATH:
            return None
        return PathRecord(cataloger=self.name, path=path, packages=parse_installed(data.read(), path))
