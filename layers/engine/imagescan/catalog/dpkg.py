"""The dpkg cataloger: Debian and Ubuntu package databases.

It reads three kinds of file:

* ``var/lib/dpkg/status``: the database, one deb822 stanza per package;
* ``var/lib/dpkg/status.d/*``: the distroless layout, one stanza file per package (usually without a ``Status:``
  field), with ``NAME.md5sums`` beside it listing that package's files;
* ``var/lib/dpkg/info/*.list``: the file list of each package (``NAME.list``, or ``NAME:ARCH.list`` for
  ``Multi-Arch: same`` packages). Lists end up in :attr:`PathRecord.owned_files` keyed by that file name stem.

Which packages count as installed. A stanza's ``Status:`` is ``want eflag state``; the package is reported when its
*state* says its files are on disk, fully or in part: ``installed``, ``triggers-pending``, ``triggers-awaited``,
``half-configured``, ``unpacked`` or ``half-installed`` (``dpkg -l`` rows ``ii``, ``it``, ``iW``, ``iF``, ``iU``,
``iH``, and the same with any other *want* flag: ``hi`` for held packages, ``ri``/``di`` for packages selected for
removal but not removed yet). ``not-installed`` and ``config-files`` (only conffiles left, e.g.
``deinstall ok config-files``) are skipped. Vulnerable code that sits on disk is reported even when the package is
half-configured or marked for removal, so this is wider than ``dpkg -l | grep ^ii``; for ordinary images (every
package ``install ok installed``) both give the same list.

A stanza of the main ``status`` file without ``Status:`` is skipped (dpkg reads it as ``not-installed``); in
``status.d`` a missing ``Status:`` means installed, as distroless images write it. Stanzas without ``Package:`` or
``Version:`` are skipped.

The parser follows dpkg's own: a line that is neither a ``Field: value`` line, a continuation (leading space or
tab) nor blank makes the whole file malformed (:class:`CatalogError`), as it does for dpkg itself. Field names are
case-insensitive; CRLF line ends are accepted; bytes that are not UTF-8 are read as Latin-1, line by line.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import BinaryIO

from imagescan.catalog.base import DEFAULT_MAX_FILE_SIZE, CatalogError
from imagescan.models import Package, PackageType, PathRecord

STATUS_PATH = "var/lib/dpkg/status"
STATUS_D_DIR = "var/lib/dpkg/status.d/"
INFO_DIR = "var/lib/dpkg/info/"
MD5SUMS_SUFFIX = ".md5sums"
LIST_SUFFIX = ".list"

PRESENT_STATES = frozenset(
    {"installed", "triggers-pending", "triggers-awaited", "half-configured", "unpacked", "half-installed"}
)
"""``Status:`` states whose package files are (fully or partly) on disk."""

# Maintainer scripts and control files that may sit beside the stanzas in status.d; they hold no package data.
_STATUS_D_SKIP_SUFFIXES = (
    ".preinst", ".postinst", ".prerm", ".postrm", ".config", ".templates", ".conffiles", ".shlibs", ".symbols",
    ".triggers", ".list", ".sha256sums",
)
_SOURCE_RE = re.compile(r"^(?P<name>[^\s(]+)\s*(?:\((?P<version>[^)]*)\))?")
_FIELD_NAME_RE = re.compile(rb"^[!-9;-~]+$")  # printable ASCII except ':' and space, as dpkg accepts


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _lines(data: bytes, path: str) -> Iterator[tuple[int, bytes]]:
    if b"\x00" in data:
        raise CatalogError(f"{path} holds NUL bytes: not a dpkg text file")
    for number, line in enumerate(data.split(b"\n"), start=1):
        yield number, line[:-1] if line.endswith(b"\r") else line


def parse_stanzas(data: bytes, path: str = "") -> list[dict[str, str]]:
    """The deb822 stanzas of ``data``: field name (lower case) → value (continuation lines joined with ``\\n``)."""
    stanzas: list[dict[str, str]] = []
    raw: dict[str, list[bytes]] = {}
    last: list[bytes] | None = None
    for number, line in _lines(data, path):
        if not line.strip(b" \t"):
            if raw:
                stanzas.append(_finish(raw))
            raw, last = {}, None
        elif line[:1] in (b" ", b"\t"):
            if last is None:
                raise CatalogError(f"{path}: line {number}: continuation line outside a field")
            last.append(line.strip(b" \t"))
        elif line.startswith(b"#"):
            continue  # deb822 comment; dpkg never writes one, other tools might
        else:
            name, colon, value = line.partition(b":")
            name = name.rstrip(b" \t")
            if not colon or not _FIELD_NAME_RE.match(name):
                raise CatalogError(f"{path}: line {number}: expected 'Field: value', got {_text(line[:60])!r}")
            key = _text(name).lower()
            last = [value.strip(b" \t")]
            raw.setdefault(key, last)  # dpkg refuses duplicates; keep the first
    if raw:
        stanzas.append(_finish(raw))
    return stanzas


def _finish(raw: dict[str, list[bytes]]) -> dict[str, str]:
    return {key: "\n".join(_text(part) for part in parts).strip() for key, parts in raw.items()}


def _package(stanza: dict[str, str], path: str, status_required: bool) -> Package | None:
    name = stanza.get("package", "")
    version = stanza.get("version", "")
    if not name or not version or " " in name or " " in version:
        return None
    status = stanza.get("status")
    if status is None:
        if status_required:
            return None
    else:
        words = status.split()
        if not words or words[-1] not in PRESENT_STATES:
            return None
    source_name, source_version = name, version
    source = _SOURCE_RE.match(stanza.get("source", ""))
    if source:
        source_name = source.group("name")
        source_version = (source.group("version") or "").strip() or version
    return Package(
        type=PackageType.DEB,
        name=name,
        version=version,
        arch=stanza.get("architecture") or None,
        source_name=source_name,
        source_version=source_version,
        maintainer=stanza.get("maintainer") or None,
        license=None,
        path=path,
    )


def parse_status(data: bytes, path: str = STATUS_PATH, *, status_required: bool = True) -> list[Package]:
    """The installed packages of a status file (``status_required=False`` for status.d stanza files)."""
    packages: list[Package] = []
    for stanza in parse_stanzas(data, path):
        package = _package(stanza, path, status_required)
        if package is not None:
            packages.append(package)
    return packages


def parse_file_list(data: bytes, path: str = "") -> list[str]:
    """An ``info/*.list`` file: one absolute path per line, returned without the leading slash; ``/.`` dropped."""
    files: list[str] = []
    for _, line in _lines(data, path):
        name = _text(line).lstrip("/")
        if name and name != ".":
            files.append(name)
    return files


def parse_md5sums(data: bytes, path: str = "") -> list[str]:
    """An ``md5sums`` file (``<hex digest>  <path>`` per line): the paths, without leading slash."""
    files: list[str] = []
    for number, line in _lines(data, path):
        if not line.strip():
            continue
        digest, _, name = line.partition(b" ")
        name = name.lstrip(b" *").lstrip(b"/")
        if not digest or not name or any(c not in b"0123456789abcdefABCDEF" for c in digest):
            raise CatalogError(f"{path}: line {number}: expected '<md5>  <path>', got {_text(line[:60])!r}")
        files.append(_text(name))
    return files


def owned_file_keys(package: Package) -> list[str]:
    """The :attr:`PathRecord.owned_files` keys that may hold ``package``'s files, best first."""
    keys = [f"{package.name}:{package.arch}", package.name] if package.arch else [package.name]
    if package.path.startswith(STATUS_D_DIR):
        stem = posixpath.basename(package.path)
        if stem not in keys:
            keys.append(stem)
    return keys


def _in_dir(path: str, directory: str) -> str | None:
    """The base name of ``path`` when it sits directly in ``directory``, else None."""
    if not path.startswith(directory):
        return None
    base = path[len(directory):]
    return base if base and "/" not in base else None


class DpkgCataloger:
    name = "dpkg"
    version = 1
    max_file_size = DEFAULT_MAX_FILE_SIZE

    def wants(self, path: str) -> bool:
        if path == STATUS_PATH:
            return True
        base = _in_dir(path, STATUS_D_DIR)
        if base is not None:
            return base.endswith(MD5SUMS_SUFFIX) or not base.endswith(_STATUS_D_SKIP_SUFFIXES)
        base = _in_dir(path, INFO_DIR)
        return base is not None and base.endswith(LIST_SUFFIX) and len(base) > len(LIST_SUFFIX)

    def parse(self, path: str, data: BinaryIO, size: int) -> PathRecord | None:
        content = data.read()
        record = PathRecord(cataloger=self.name, path=path)
        if path == STATUS_PATH:
            record.packages = parse_status(content, path)
            return record
        base = _in_dir(path, STATUS_D_DIR)
        if base is not None:
            if base.endswith(MD5SUMS_SUFFIX):
                record.owned_files = {base[: -len(MD5SUMS_SUFFIX)]: parse_md5sums(content, path)}
            else:
                record.packages = parse_status(content, path, status_required=False)
            return record
        base = _in_dir(path, INFO_DIR)
        if base is not None and base.endswith(LIST_SUFFIX):
            record.owned_files = {base[: -len(LIST_SUFFIX)]: parse_file_list(content, path)}
            return record
        return None
