"""The PHP cataloger: Composer packages installed in a ``vendor`` directory, from ``vendor/composer/installed.json``.

Composer writes the file on every install/update, in two formats:

* Composer 1: a JSON list of package objects;
* Composer 2: ``{"packages": [...], "dev": bool, "dev-package-names": [...]}``.

Each package object has ``name`` (``vendor/project``) and ``version`` as Composer resolved it (the tag, e.g.
``v5.4.0``, or a branch alias such as ``dev-main``), ``license`` (a list, or a string in old files). The vendor
directory may be renamed (``config.vendor-dir``), so any ``composer/installed.json`` is read.

purl: ``pkg:composer/VENDOR/PROJECT@VERSION``. The purl specification gives no rule for Composer versions, so the
version is kept exactly as Composer recorded it (``v5.4.0`` stays ``v5.4.0``), as Packagist lists it; comparing
it with advisory ranges (which drop the ``v``) is the matcher's job. Dev packages (``dev-package-names``) are
installed code and reported like the others. Entries without a string name or version are skipped with a note.
"""

from __future__ import annotations

import posixpath
from typing import Any, BinaryIO

from imagescan.catalog.base import CatalogError
from imagescan.catalog.jsondoc import load_json, text_field
from imagescan.models import Package, PackageType, PathRecord

MAX_FILE_SIZE = 32 * 1024 * 1024
MAX_NOTES = 20


def _license(entry: dict[str, Any]) -> str | None:
    value = entry.get("license")
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        if isinstance(item, str) and item.strip() and item.strip() not in names:
            names.append(item.strip())
    return ", ".join(names) or None


def _package(entry: object, path: str) -> Package | str:
    """The package of one entry, or why it was skipped."""
    if not isinstance(entry, dict):
        return f"an entry is a {type(entry).__name__}, not an object"
    name, version = text_field(entry, "name"), text_field(entry, "version")
    if name is None or version is None:
        return f"entry {str(entry.get('name'))[:80]!r} has no string name or version"
    if any(c.isspace() for c in name + version):
        return f"entry {name[:80]!r} has white space in its name or version"
    vendor, slash, project = name.partition("/")
    if slash and (not vendor or not project or "/" in project):
        return f"entry {name[:80]!r} is not a vendor/project name"
    return Package(
        type=PackageType.COMPOSER, namespace=vendor if slash else None, name=project if slash else name,
        version=version, license=_license(entry), path=path,
    )


def parse_installed_json(data: bytes, path: str) -> tuple[list[Package], list[str]]:
    """The packages of an ``installed.json`` (either format) and notes about entries that had to be skipped."""
    doc = load_json(data, path)
    entries: object = doc.get("packages") if isinstance(doc, dict) else doc
    if not isinstance(entries, list):
        raise CatalogError(f"{path}: neither a Composer 1 package list nor a Composer 2 {{\"packages\": [...]}}")
    packages: list[Package] = []
    notes: list[str] = []
    for entry in entries:
        result = _package(entry, path)
        if isinstance(result, str):
            notes.append(result)
        else:
            packages.append(result)
    if len(notes) > MAX_NOTES:
        notes = [*notes[:MAX_NOTES], f"{len(notes) - MAX_NOTES} more entries skipped"]
    return packages, notes


class ComposerCataloger:
    name = "composer"
    version = 1
    max_file_size = MAX_FILE_SIZE

    def wants(self, path: str) -> bool:
        if not path.endswith("installed.json"):
            return False
        directory, base = posixpath.split(path)
        return base == "installed.json" and posixpath.basename(directory) == "composer"

    def parse(self, path: str, data: BinaryIO, size: int) -> PathRecord | None:
        packages, notes = parse_installed_json(data.read(), path)
        return PathRecord(cataloger=self.name, path=path, packages=packages, notes=notes)
