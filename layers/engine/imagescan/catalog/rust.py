"""The Rust binary cataloger: dependency lists that ``cargo auditable`` embeds in executables.

cargo-auditable links a ``.dep-v0`` section into the binary: zlib-compressed JSON
``{"format": N?, "packages": [{"name", "version", "source", "kind"?, "dependencies"?, "root"?}, ...]}``
(schema: rustsec.org/schemas/cargo-auditable.json). ``source`` is ``crates.io``, ``git``, ``local``,
``registry`` or ``{"Other": "..."}``; ``kind`` is ``runtime`` (the default) or ``build``.

Reported, as ``pkg:cargo/NAME@VERSION``: every ``runtime`` package. The ``root`` package is the binary's own
crate (``component_type="application"``), the others libraries. ``build`` packages (build scripts, proc-macros,
their dependencies) are left out: their code runs at compile time and is not in the binary, so their advisories
do not apply to it. A source other than crates.io is kept in the ``cargo:source`` property.

Bounded: the compressed section is read only up to :data:`MAX_COMPRESSED` bytes and inflated to at most
:data:`MAX_JSON` (a decompression bomb stops there with a :class:`~imagescan.catalog.base.CatalogError`).
"""

from __future__ import annotations

import json
import zlib
from typing import Any, BinaryIO

from imagescan.catalog.base import CatalogError
from imagescan.catalog.elf import ExecutableSelection, open_elf
from imagescan.models import Package, PackageType, PathRecord

SECTION = ".dep-v0"
MAX_COMPRESSED = 4 * 1024 * 1024
MAX_JSON = 16 * 1024 * 1024
MAX_PACKAGES = 50_000
"""More package entries than this is not a real dependency tree (large ones have a few thousand)."""
PROP_SOURCE = "cargo:source"


def inflate(raw: bytes, limit: int = MAX_JSON) -> bytes:
    """zlib-decompress ``raw`` to at most ``limit`` bytes; :class:`CatalogError` when it is damaged, truncated or
    would grow past the limit."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise CatalogError(f"{SECTION}: not zlib data ({exc})") from exc
    if len(out) > limit:
        raise CatalogError(f"{SECTION}: inflates past {limit} bytes; not read")
    if not inflater.eof:
        raise CatalogError(f"{SECTION}: compressed data is truncated")
    return out


def _source(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("Other"), str):
        return str(value["Other"])
    return None


def audit_packages(document: bytes, path: str) -> tuple[list[Package], list[str]]:
    """Packages of one decompressed audit document, and notes on entries skipped."""
    try:
        doc = json.loads(document.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CatalogError(f"{SECTION}: not JSON ({type(exc).__name__})") from exc
    entries = doc.get("packages") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise CatalogError(f"{SECTION}: no 'packages' list")
    if len(entries) > MAX_PACKAGES:
        raise CatalogError(f"{SECTION}: {len(entries)} packages is more than the {MAX_PACKAGES} accepted")
    packages: list[Package] = []
    notes: list[str] = []
    for index, entry in enumerate(entries):
        name = entry.get("name") if isinstance(entry, dict) else None
        version = entry.get("version") if isinstance(entry, dict) else None
        source = _source(entry.get("source")) if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name or not isinstance(version, str) or not version or source is None:
            notes.append(f"{SECTION}: package #{index} lacks a name, version or source; skipped")
            continue
        assert isinstance(entry, dict)
        if entry.get("kind", "runtime") == "build":
            continue
        root = entry.get("root") is True
        properties = {} if source.lower() in ("crates.io", "cratesio") else {PROP_SOURCE: source}
        packages.append(Package(type=PackageType.CARGO, name=name, version=version, path=path,
                                component_type="application" if root else "library", properties=properties))
    return packages, notes


class RustAuditableCataloger(ExecutableSelection):
    name = "rust-auditable"
    version = 1

    def parse(self, path: str, data: BinaryIO, size: int) -> PathRecord | None:
        elf = open_elf(data, size)
        if elf is None:
            return None
        section = elf.section(SECTION)
        if section is None:
            return None
        packages, notes = audit_packages(inflate(elf.section_data(section, MAX_COMPRESSED)), path)
        return PathRecord(cataloger=self.name, path=path, packages=packages, notes=notes)
