"""The Python cataloger: distributions installed in an image (what ``pip list`` would show for each directory).

Files read, wherever they are in the image (site-packages, dist-packages, a ``pip --target`` directory, a venv):

* ``NAME-VER.dist-info/METADATA``: core metadata of a wheel install (pip, uv, Debian's python3-* packages);
* ``NAME-VER.dist-info/RECORD``: the CSV list of files that install wrote (``path,hash,size``; paths relative to
  the directory holding the dist-info, or absolute). It becomes :attr:`PathRecord.owned_files` keyed by the
  dist-info directory, which the merge attaches to the package read from ``METADATA`` in that same directory
  (``Package.files``). Keying by directory, not by name, keeps two installs of one distribution apart (Debian's
  PyYAML in dist-packages and a pip-installed PyYAML in site-packages);
* ``NAME-VER.egg-info/PKG-INFO`` (setuptools' directory form) and a ``NAME-VER.egg-info`` regular file (the
  distutils form: the file *is* the PKG-INFO), plus ``NAME-VER.egg-info/installed-files.txt`` (pip's legacy
  installs: one path per line, relative to the egg-info directory) as owned files;
* ``NAME-VER.egg/EGG-INFO/PKG-INFO``: an unzipped egg. Zipped ``.egg`` files are not opened.

Metadata is RFC 822 style headers (core metadata specification): ``Field: value`` lines, continuation lines
starting with white space, up to the first blank line; the body (the long description) is not read. A line
that is not a header ends the headers, as Python's ``email`` parser treats it. The purl name is the PEP 503
normalised name (``PyYAML`` → ``pyyaml``, ``zope.interface`` → ``zope-interface``), which is also
:attr:`Package.name`, so that matching by name and the purl agree; the declared spelling is kept in
:attr:`Package.properties` (:data:`DECLARED_NAME`). The version is kept as declared (Django 3.2.0 declares
``3.2``). Licence: ``License-Expression`` (PEP 639), else a short one-line ``License`` that is not ``UNKNOWN``,
else the ``License ::`` classifiers' last segments joined by ``", "``.

A file without ``Name`` or ``Version``, or with NUL bytes in its headers, is malformed (:class:`CatalogError`).
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
from collections.abc import Iterable
from typing import BinaryIO

from imagescan.catalog.base import CatalogError
from imagescan.models import Package, PackageType, PathRecord

MAX_FILE_SIZE = 16 * 1024 * 1024
"""RECORD files of large distributions run to megabytes; METADATA is read only up to the end of its headers."""
MAX_HEADER_BYTES = 1024 * 1024
MAX_LICENSE_LENGTH = 120
DECLARED_NAME = "pypi:declared_name"
"""The :attr:`Package.properties` key of the name as the metadata spells it, when it differs from the normalised
one (``PyYAML``): the SBOM shows it as the ``imagescan:pypi:declared_name`` property."""

_FIELD_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)[ \t]*:[ \t]*(.*)$")
_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)  # PEP 508 names
_SEPARATORS_RE = re.compile(r"[-_.]+")
_WANTED_ENDINGS = ("/METADATA", "/RECORD", "/PKG-INFO", "/installed-files.txt")


def normalize_name(name: str) -> str:
    """PEP 503 normalisation: runs of ``-``, ``_`` and ``.`` become one ``-``; lower case."""
    return _SEPARATORS_RE.sub("-", name).lower()


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _header_lines(lines: Iterable[bytes], path: str) -> Iterable[str]:
    total = 0
    for raw in lines:
        total += len(raw)
        if total > MAX_HEADER_BYTES:
            raise CatalogError(f"{path}: metadata headers longer than {MAX_HEADER_BYTES} bytes")
        if b"\x00" in raw:
            raise CatalogError(f"{path} holds NUL bytes in its headers: not a metadata file")
        yield _text(raw).rstrip("\r\n")


def parse_headers(lines: Iterable[bytes], path: str = "") -> dict[str, list[str]]:
    """The metadata headers: field name (lower case) → its values in order (``Classifier`` repeats)."""
    fields: dict[str, list[str]] = {}
    last: list[str] | None = None
    for line in _header_lines(lines, path):
        if not line.strip():
            break
        if line[0] in " \t":
            if last is None:
                raise CatalogError(f"{path}: continuation line before any field")
            last[-1] = f"{last[-1]}\n{line.strip()}"
            continue
        match = _FIELD_RE.match(line)
        if match is None:
            break  # the body starts without a blank line; email.parser does the same
        last = fields.setdefault(match.group(1).lower(), [])
        last.append(match.group(2).strip())
    return fields


def _first(fields: dict[str, list[str]], key: str) -> str | None:
    values = fields.get(key)
    return values[0].strip() if values and values[0].strip() else None


def license_of(fields: dict[str, list[str]]) -> str | None:
    expression = _first(fields, "license-expression")
    if expression:
        return expression
    declared = _first(fields, "license")
    if declared and declared.upper() != "UNKNOWN" and "\n" not in declared and len(declared) <= MAX_LICENSE_LENGTH:
        return declared
    names: list[str] = []
    for classifier in fields.get("classifier", []):
        parts = [p.strip() for p in classifier.split("::")]
        if len(parts) >= 2 and parts[0] == "License" and parts[-1] not in ("OSI Approved", "") and (
            parts[-1] not in names
        ):
            names.append(parts[-1])
    return ", ".join(names) or None


def parse_metadata(lines: Iterable[bytes], path: str) -> Package:
    """A ``METADATA``/``PKG-INFO`` file as a :class:`Package` read from ``path``."""
    fields = parse_headers(lines, path)
    name, version = _first(fields, "name"), _first(fields, "version")
    if not name or not version:
        raise CatalogError(f"{path}: no {'Name' if not name else 'Version'} field: not a core metadata file")
    if not _NAME_RE.match(name):
        raise CatalogError(f"{path}: {name[:80]!r} is not a valid distribution name")
    if any(c.isspace() for c in version):
        raise CatalogError(f"{path}: version {version[:80]!r} holds white space")
    canonical = normalize_name(name)
    return Package(type=PackageType.PYPI, name=canonical, version=version, license=license_of(fields), path=path,
                   properties={DECLARED_NAME: name} if name != canonical else {})


def _resolve(base_dir: str, name: str) -> str | None:
    """The image path of ``name`` as written in a RECORD/installed-files.txt next to ``base_dir``."""
    name = name.strip()
    if not name:
        return None
    if name.startswith("/"):
        resolved = posixpath.normpath(name).lstrip("/")
    else:
        resolved = posixpath.normpath(posixpath.join(base_dir, name))
        if resolved == ".." or resolved.startswith("../"):
            return None  # climbs out of the image root
    return resolved if resolved and resolved != "." else None


def parse_record(data: bytes, path: str) -> list[str]:
    """The files a ``RECORD`` lists, as image paths (relative entries are relative to the dist-info's parent)."""
    if b"\x00" in data:
        raise CatalogError(f"{path} holds NUL bytes: not a RECORD file")
    base = posixpath.dirname(posixpath.dirname(path))
    files: list[str] = []
    try:
        for row in csv.reader(io.StringIO(_text(data), newline="")):
            if row and (resolved := _resolve(base, row[0])) is not None:
                files.append(resolved)
    except csv.Error as exc:
        raise CatalogError(f"{path}: not a RECORD CSV file: {exc}") from None
    return sorted(set(files))


def parse_installed_files(data: bytes, path: str) -> list[str]:
    """An egg-info ``installed-files.txt``: paths relative to the egg-info directory, one per line."""
    if b"\x00" in data:
        raise CatalogError(f"{path} holds NUL bytes: not an installed-files.txt")
    base = posixpath.dirname(path)
    files = {r for line in _text(data).splitlines() if (r := _resolve(base, line)) is not None}
    return sorted(files)


def _kind(path: str) -> str | None:
    directory, base = posixpath.split(path)
    parent = posixpath.basename(directory).lower()
    if parent.endswith(".dist-info") and len(parent) > len(".dist-info"):
        return {"METADATA": "metadata", "RECORD": "record"}.get(base)
    if parent.endswith(".egg-info") and len(parent) > len(".egg-info"):
        return {"PKG-INFO": "metadata", "installed-files.txt": "installed-files"}.get(base)
    if parent == "egg-info" and base == "PKG-INFO":
        egg = posixpath.basename(posixpath.dirname(directory)).lower()
        return "metadata" if egg.endswith(".egg") and len(egg) > len(".egg") else None
    if base.lower().endswith(".egg-info") and len(base) > len(".egg-info"):
        return "metadata"
    return None


class PythonCataloger:
    name = "python"
    version = 1
    max_file_size = MAX_FILE_SIZE

    def wants(self, path: str) -> bool:
        if not path.endswith(_WANTED_ENDINGS) and path[-9:].lower() != ".egg-info":
            return False  # the cheap test first: wants() runs for every file of every layer
        return _kind(path) is not None

    def parse(self, path: str, data: BinaryIO, size: int) -> PathRecord | None:
        kind = _kind(path)
        record = PathRecord(cataloger=self.name, path=path)
        if kind == "metadata":
            record.packages = [parse_metadata(data, path)]
        elif kind == "record":
            record.owned_files = {posixpath.dirname(path): parse_record(data.read(), path)}
        elif kind == "installed-files":
            record.owned_files = {posixpath.dirname(path): parse_installed_files(data.read(), path)}
        else:
            return None
        return record
