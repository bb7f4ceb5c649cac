"""The Go binary cataloger: the build information the Go linker embeds in every executable (Go 1.13 and later).

Where: the ``.go.buildinfo`` section, or (stripped section headers) the first 64 KiB of the first writable,
non-executable loaded segment, holds a 32-byte header at a 16-byte aligned offset: the magic
``\\xff Go buildinf:``, the pointer size (byte 14) and flags (byte 15).

- Go 1.18+ (flag bit 2 set): the toolchain version and the module information follow the header inline, each a
  uvarint length then the bytes.
- Older: bytes 16 and 16+ptrsize hold pointers (byte order from flags bit 1) to Go string headers
  ``{data pointer, length}``; both hops are resolved through the PT_LOAD program headers.

The module information (between 16-byte sentinels) is text: ``path`` (main package), ``mod`` (main module),
``dep`` (a dependency), ``=>`` (replacement of the module on the line before), ``build`` (settings), tab
separated. Packages reported, all ``pkg:golang``:

- the toolchain as ``stdlib`` at a semantic version (``go1.19.8`` -> ``v1.19.8``, ``go1.21rc2`` ->
  ``v1.21.0-rc.2``), one per binary, with the raw toolchain string in the ``go:toolchain`` property;
- the main module, ``component_type="application"``. Before Go 1.24 a module build records its version as
  ``(devel)``: the version is kept as ``(devel)`` (never invented from VCS stamps, which would make every fixed
  vulnerability look open) and marked ``go:devel=true``, so consumers can tell "unknown" from a version;
- every dependency. A replaced one is reported as its replacement (that is the code in the binary), with the
  original ``path@version`` in ``go:replaces``. A replacement by a local directory (``=> ../fork``)
  has no module identity: it is reported under the original module path at version ``(devel)``, marked
  devel, with the directory in ``go:replaced_by``.

The module path is split at its last ``/`` into purl namespace and name. Binaries built in GOPATH mode (Debian's
Go packages) have no ``mod`` line: only ``stdlib`` is reported. Damage inside the build info raises
:class:`~imagescan.catalog.base.CatalogError`; a bad module line is skipped with a note.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import BinaryIO, Literal

from imagescan.catalog.base import CatalogError
from imagescan.catalog.elf import SHT_NOBITS, ElfFile, ExecutableSelection, open_elf
from imagescan.models import Package, PackageType, PathRecord

MAGIC = b"\xff Go buildinf:"
HEADER_SIZE = 32
ALIGN = 16
SEARCH_WINDOW = 64 * 1024
MAX_STRING = 4 * 1024 * 1024
"""Largest version or module-info string read (real ones are a few to a few hundred KiB)."""
DEVEL = "(devel)"

PROP_TOOLCHAIN = "go:toolchain"
PROP_DEVEL = "go:devel"
PROP_REPLACES = "go:replaces"
PROP_REPLACED_BY = "go:replaced_by"
PROP_SUM = "go:sum"
PROP_MAIN_PACKAGE = "go:main_package"
PROP_BUILD = "go:build:"
BUILD_SETTINGS = frozenset({
    "-buildmode", "-compiler", "-tags", "-trimpath", "CGO_ENABLED", "GOARCH", "GOOS", "GOAMD64", "GOARM",
    "GOARM64", "GO386", "GOEXPERIMENT", "DefaultGODEBUG", "vcs", "vcs.revision", "vcs.time", "vcs.modified",
})  # fmt: skip
"""Build settings copied to the main module's properties. Not ``-ldflags`` or ``-gcflags``: ``-X`` flags can
carry credentials."""
_SENTINEL_LEN = 16
_GO_VERSION = re.compile(r"go(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(beta|rc)(\d+))?(?=$|[^0-9A-Za-z.])")


def go_semver(toolchain: str) -> str | None:
    """``go1.19.8`` -> ``v1.19.8``, ``go1.20`` -> ``v1.20.0``, ``go1.21rc2`` -> ``v1.21.0-rc.2``; extra words
    (``go1.22.0 X:boringcrypto``) are ignored. None for development toolchains (``devel +abc``)."""
    m = _GO_VERSION.match(toolchain)
    if m is None:
        return None
    major, minor, patch, pre, num = m.groups()
    version = f"v{major}.{minor or 0}.{patch or 0}"
    return f"{version}-{pre}.{num}" if pre else version


def split_module(path: str) -> tuple[str | None, str]:
    """purl namespace and name of a Go module path: ``github.com/foo/bar`` -> (``github.com/foo``, ``bar``)."""
    namespace, _, name = path.rpartition("/")
    return namespace or None, name


def _uvarint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    for i in range(pos, min(len(buf), pos + 10)):
        byte = buf[i]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i + 1
        shift += 7
    raise CatalogError("Go build info: bad length prefix")


class _Reader:
    """Finds and decodes the build info header of one ELF file."""

    def __init__(self, elf: ElfFile) -> None:
        self.elf = elf

    def window(self) -> tuple[int, bytes] | None:
        """(file offset, bytes) of the region searched for the header."""
        section = self.elf.section(".go.buildinfo")
        if section is not None and section.type != SHT_NOBITS and section.size:
            length = min(section.size, SEARCH_WINDOW)
            return section.offset, self.elf.read(section.offset, length)
        start = self.elf.writable_data_start()
        if start is None:
            return None
        where = self.elf.vaddr_offset(start)
        if where is None:
            return None
        offset, available = where
        return offset, self.elf.read(offset, min(SEARCH_WINDOW, available, max(0, self.elf.size - offset)))

    def find(self) -> tuple[int, bytes] | None:
        """(file offset of the header, the window from the header on)."""
        found = self.window()
        if found is None:
            return None
        base, data = found
        pos = data.find(MAGIC)
        while pos >= 0:
            if pos % ALIGN == 0 and len(data) - pos >= HEADER_SIZE:
                return base + pos, data[pos:]
            pos = data.find(MAGIC, pos + 1)
        return None

    def inline_string(self, offset: int) -> tuple[bytes, int]:
        """A uvarint-prefixed string at file offset ``offset``; returns it and the offset after it."""
        head = self.elf.read(offset, min(10, self.elf.size - offset)) if offset < self.elf.size else b""
        length, used = _uvarint(head, 0)
        if length > MAX_STRING:
            raise CatalogError(f"Go build info: string of {length} bytes is over the {MAX_STRING}-byte limit")
        return self.elf.read(offset + used, length), offset + used + length

    def pointer_string(self, addr: int, ptr_size: int, big: bool) -> bytes:
        """The Go string whose header ``{data, len}`` sits at virtual address ``addr``."""
        order: Literal["big", "little"] = "big" if big else "little"
        header = self.elf.read_vaddr(addr, 2 * ptr_size)
        if header is None or len(header) < 2 * ptr_size:
            raise CatalogError(f"Go build info: string header at {addr:#x} is not in the file")
        data_addr = int.from_bytes(header[:ptr_size], order)
        length = int.from_bytes(header[ptr_size:], order)
        if length > MAX_STRING:
            raise CatalogError(f"Go build info: string of {length} bytes is over the {MAX_STRING}-byte limit")
        data = self.elf.read_vaddr(data_addr, length) if length else b""
        if data is None or len(data) < length:
            raise CatalogError(f"Go build info: string data at {data_addr:#x} is not in the file")
        return data


def read_build_info(elf: ElfFile) -> tuple[str, str] | None:
    """(toolchain version, module info text without sentinels) of a Go binary; None when there is no header."""
    reader = _Reader(elf)
    found = reader.find()
    if found is None:
        return None
    offset, header = found
    ptr_size, flags = header[14], header[15]
    if flags & 2:
        version, after = reader.inline_string(offset + HEADER_SIZE)
        modinfo, _ = reader.inline_string(after)
    else:
        if ptr_size not in (4, 8):
            raise CatalogError(f"Go build info: pointer size {ptr_size} (expected 4 or 8)")
        big = flags != 0
        order: Literal["big", "little"] = "big" if big else "little"
        version_ptr = int.from_bytes(header[16:16 + ptr_size], order)
        modinfo_ptr = int.from_bytes(header[16 + ptr_size:16 + 2 * ptr_size], order)
        version = reader.pointer_string(version_ptr, ptr_size, big)
        modinfo = reader.pointer_string(modinfo_ptr, ptr_size, big)
    if not version:
        raise CatalogError("Go build info has an empty toolchain version")
    # The module info sits between two 16-byte sentinels, its last line ending just before the second one.
    if len(modinfo) >= 2 * _SENTINEL_LEN + 1 and modinfo[-_SENTINEL_LEN - 1:-_SENTINEL_LEN] == b"\n":
        modinfo = modinfo[_SENTINEL_LEN:-_SENTINEL_LEN]
    else:
        modinfo = b""
    return version.decode("utf-8", "replace"), modinfo.decode("utf-8", "replace")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "`":
        return value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            out = json.loads(value)
        except ValueError:
            return value
        return out if isinstance(out, str) else value
    return value


def _build_setting(rest: str) -> tuple[str, str] | None:
    if rest.startswith(("`", '"')):
        quote = rest[0]
        end = rest.find(quote, 1)
        while quote == '"' and end > 0 and rest[end - 1] == "\\":
            end = rest.find(quote, end + 1)
        if end < 0 or rest[end + 1:end + 2] != "=":
            return None
        return _unquote(rest[:end + 1]), _unquote(rest[end + 2:])
    key, sep, value = rest.partition("=")
    return (key, _unquote(value)) if sep and key else None


@dataclass
class Module:
    path: str
    version: str
    sum: str = ""
    replace: Module | None = None


@dataclass
class ModInfo:
    """The parsed module information text."""

    main_package: str = ""
    main: Module | None = None
    deps: list[Module] = field(default_factory=list)
    build: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def parse_modinfo(text: str) -> ModInfo:
    """Lenient reading of the module information: a malformed line is noted and skipped, the rest still counts."""
    info = ModInfo()
    last: Module | None = None  # the module an "=>" line replaces
    for number, line in enumerate(text.split("\n"), start=1):
        kind, _, rest = line.partition("\t")
        if kind == "path":
            info.main_package = rest
        elif kind in ("mod", "dep"):
            cols = rest.split("\t")
            last = None
            if len(cols) not in (2, 3) or not cols[0]:
                info.notes.append(f"Go module info line {number}: expected path, version[, sum]; skipped")
                continue
            last = Module(cols[0], cols[1], cols[2] if len(cols) == 3 else "")
            if kind == "mod":
                info.main = last
            else:
                info.deps.append(last)
        elif kind == "=>":
            cols = rest.split("\t")
            if len(cols) != 3 or last is None or not cols[0]:
                info.notes.append(f"Go module info line {number}: replacement without a module, or malformed; "
                                  "skipped")
                continue
            last.replace = Module(cols[0], cols[1], cols[2])
            last = None
        elif kind == "build":
            setting = _build_setting(rest)
            if setting is not None:
                info.build.setdefault(*setting)
    return info


def _is_local(path: str) -> bool:
    return path.startswith(("./", "../", "/")) or path in (".", "..") or (len(path) > 1 and path[1] == ":")


def _module(module: Module, path: str, component_type: str, extra: dict[str, str]) -> Package:
    properties = dict(extra)
    mod_path, version, mod_sum = module.path, module.version, module.sum
    rep = module.replace
    if rep is not None:
        properties[PROP_REPLACES] = f"{module.path}@{module.version}" if module.version else module.path
        if _is_local(rep.path) or not rep.version:
            properties[PROP_REPLACED_BY] = rep.path
            version, mod_sum = DEVEL, ""
        else:
            mod_path, version, mod_sum = rep.path, rep.version, rep.sum
    if not version or version == DEVEL:
        version = DEVEL
        properties[PROP_DEVEL] = "true"
    if mod_sum:
        properties[PROP_SUM] = mod_sum
    namespace, name = split_module(mod_path)
    return Package(type=PackageType.GOLANG, namespace=namespace, name=name, version=version, path=path,
                   component_type=component_type, properties=properties)


def go_packages(path: str, toolchain: str, modinfo: str) -> tuple[list[Package], list[str]]:
    """The packages one binary's build info describes, and notes on lines skipped."""
    info = parse_modinfo(modinfo)
    semver = go_semver(toolchain)
    stdlib_props = {PROP_TOOLCHAIN: toolchain}
    if semver is None:
        stdlib_props[PROP_DEVEL] = "true"
    packages = [Package(type=PackageType.GOLANG, name="stdlib", version=semver or DEVEL, path=path,
                        properties=stdlib_props)]
    if info.main is not None:
        extra = {PROP_BUILD + k: v for k, v in sorted(info.build.items()) if k in BUILD_SETTINGS}
        if info.main_package:
            extra[PROP_MAIN_PACKAGE] = info.main_package
        packages.append(_module(info.main, path, "application", extra))
    packages += [_module(dep, path, "library", {}) for dep in info.deps]
    return packages, info.notes


class GoBinaryCataloger(ExecutableSelection):
    name = "go-binary"
    version = 1

    def parse(self, path: str, data: BinaryIO, size: int) -> PathRecord | None:
        elf = open_elf(data, size)
        if elf is None:
            return None
        found = read_build_info(elf)
        if found is None:
            return None
        packages, notes = go_packages(path, *found)
        return PathRecord(cataloger=self.name, path=path, packages=packages, notes=notes)
