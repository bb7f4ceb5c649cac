"""A small ELF reader for catalogers: the header, program headers and named section headers, nothing more.

Every read is a seek plus a bounded read of the part needed (a 200 MB binary costs a few kilobytes to open), and
is checked against the file size first: a table or section that points past the end of the file, a header
entry size too small for its structure, or a count over the caps below raises :class:`ElfError` (a
:class:`~imagescan.catalog.base.CatalogError`). Both classes (32/64-bit) and both byte orders are read.

It also holds the cheap rule the binary catalogers share for which files to look at
(:func:`executable_candidate`): regular files with an execute bit, minus obvious scripts and text.
"""

from __future__ import annotations

import posixpath
import re
import struct
from dataclasses import dataclass
from typing import BinaryIO

from imagescan.catalog.base import CatalogError

ELF_MAGIC = b"\x7fELF"
PT_LOAD = 1
PF_X, PF_W = 1, 2
SHT_NOBITS = 8
SHN_XINDEX = 0xFFFF
MAX_SECTIONS = 1 << 17
"""More section headers than this (extended numbering allows millions) is treated as damage."""
MAX_SEGMENTS = 0xFFFF
MAX_NAMES = 4 * 1024 * 1024
"""Largest section-name string table read."""
MAX_TABLE = 8 * 1024 * 1024
"""Largest program or section header table read (65535 64-bit section headers take 4 MiB)."""

# (header, program header, section header) layouts per class; "<"/">" is prefixed per file.
_EHDR = {1: "16sHHIIIIIHHHHHH", 2: "16sHHIQQQIHHHHHH"}
_PHDR = {1: "IIIIIIII", 2: "IIQQQQQQ"}
_SHDR = {1: "IIIIIIIIII", 2: "IIQQQQIIQQ"}

_SCRIPT_SUFFIXES = (
    ".sh", ".bash", ".py", ".pyc", ".pl", ".pm", ".rb", ".js", ".mjs", ".cjs", ".ts", ".php", ".lua", ".tcl",
    ".txt", ".md", ".json", ".yaml", ".yml", ".xml", ".html", ".css", ".conf", ".cfg", ".ini", ".jar", ".war",
)  # fmt: skip
_BINARY_DIRS = re.compile(r"(?:^|/)(?:s?bin|libexec|opt|app|apps|srv|ko-app|go/bin)/|^[^/]+$")


class ElfError(CatalogError):
    """The file starts like ELF but its structure is damaged or points past the end of the file."""


def executable_candidate(path: str, mode: int) -> bool:
    """Cheap pre-filter for binary catalogers: some execute bit set, and not named like a script or text file."""
    return bool(mode & 0o111) and not posixpath.basename(path).lower().endswith(_SCRIPT_SUFFIXES)


def binary_path_candidate(path: str) -> bool:
    """Path-only fallback when the file mode is unknown: files in the usual executable directories, files at the
    image root (``/manager``, ``/server``), and shared objects."""
    if posixpath.basename(path).lower().endswith(_SCRIPT_SUFFIXES):
        return False
    return bool(_BINARY_DIRS.search(path)) or ".so" in posixpath.basename(path)


@dataclass(frozen=True)
class Segment:
    type: int
    flags: int
    offset: int
    vaddr: int
    filesz: int


@dataclass(frozen=True)
class Section:
    name: str
    type: int
    flags: int
    addr: int
    offset: int
    size: int


class ElfFile:
    """An opened ELF file. Build it with :func:`open_elf`."""

    def __init__(self, data: BinaryIO, size: int, head: bytes) -> None:
        self.data = data
        self.size = size
        ei_class, ei_data = head[4], head[5]
        if ei_class not in (1, 2):
            raise ElfError(f"unknown ELF class {ei_class}")
        if ei_data not in (1, 2):
            raise ElfError(f"unknown ELF byte order {ei_data}")
        self.bits = 32 if ei_class == 1 else 64
        self.little = ei_data == 1
        self._order = "<" if self.little else ">"
        ehdr = struct.Struct(self._order + _EHDR[ei_class])
        if len(head) < ehdr.size:
            raise ElfError(f"ELF header truncated ({len(head)} of {ehdr.size} bytes)")
        (_, self.type, self.machine, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum,
         shstrndx) = ehdr.unpack_from(head)  # fmt: skip
        self.segments = self._segments(ei_class, phoff, phentsize, phnum)
        self.sections = self._sections(ei_class, shoff, shentsize, shnum, shstrndx)

    # -- bounded reads ---------------------------------------------------------------------------------------
    def read(self, offset: int, length: int) -> bytes:
        """Exactly ``length`` bytes at ``offset``; :class:`ElfError` when that runs past the end of the file."""
        if offset < 0 or length < 0 or offset + length > self.size:
            raise ElfError(f"read of {length} bytes at offset {offset} runs past the end of the file ({self.size})")
        self.data.seek(offset)
        out = self.data.read(length)
        if len(out) != length:
            raise ElfError(f"file ended after {len(out)} of {length} bytes at offset {offset}")
        return out

    def uint(self, raw: bytes) -> int:
        return int.from_bytes(raw, "little" if self.little else "big")

    def section(self, name: str) -> Section | None:
        return next((s for s in self.sections if s.name == name), None)

    def section_data(self, section: Section, limit: int) -> bytes:
        """The section's bytes (empty for SHT_NOBITS); :class:`ElfError` when it is larger than ``limit``."""
        if section.type == SHT_NOBITS:
            return b""
        if section.size > limit:
            raise ElfError(f"section {section.name} is {section.size} bytes, over the {limit}-byte limit")
        return self.read(section.offset, section.size)

    def vaddr_offset(self, addr: int) -> tuple[int, int] | None:
        """(file offset, bytes left in the loaded segment) for virtual address ``addr``; None when no PT_LOAD
        segment maps it from the file."""
        for seg in self.segments:
            if seg.type == PT_LOAD and seg.filesz and seg.vaddr <= addr < seg.vaddr + seg.filesz:
                return seg.offset + (addr - seg.vaddr), seg.vaddr + seg.filesz - addr
        return None

    def read_vaddr(self, addr: int, length: int) -> bytes | None:
        """Up to ``length`` bytes at virtual address ``addr``, cut at the end of its segment (as Go's
        ``debug/buildinfo`` does); None when the address is not mapped from the file."""
        where = self.vaddr_offset(addr)
        if where is None:
            return None
        offset, available = where
        return self.read(offset, min(length, available, max(0, self.size - offset)))

    def writable_data_start(self) -> int | None:
        """Virtual address of the first loaded segment that is writable and not executable."""
        for seg in self.segments:
            if seg.type == PT_LOAD and seg.flags & (PF_X | PF_W) == PF_W:
                return seg.vaddr
        return None

    # -- tables ----------------------------------------------------------------------------------------------
    def _table(self, what: str, offset: int, entsize: int, count: int, layout: struct.Struct) -> list[tuple[int, ...]]:
        if count == 0 or offset == 0:
            return []
        if entsize < layout.size:
            raise ElfError(f"{what} entry size {entsize} is smaller than {layout.size}")
        if entsize * count > MAX_TABLE:
            raise ElfError(f"{what} table of {count} x {entsize} bytes is over the {MAX_TABLE}-byte limit")
        raw = self.read(offset, entsize * count)
        return [layout.unpack_from(raw, i * entsize) for i in range(count)]

    def _segments(self, ei_class: int, phoff: int, phentsize: int, phnum: int) -> list[Segment]:
        layout = struct.Struct(self._order + _PHDR[ei_class])
        rows = self._table("program header", phoff, phentsize, min(phnum, MAX_SEGMENTS), layout)
        out = []
        for row in rows:
            if ei_class == 1:
                p_type, p_offset, p_vaddr, _, p_filesz, _, p_flags, _ = row
            else:
                p_type, p_flags, p_offset, p_vaddr, _, p_filesz, _, _ = row
            out.append(Segment(type=p_type, flags=p_flags, offset=p_offset, vaddr=p_vaddr, filesz=p_filesz))
        return out

    def _sections(self, ei_class: int, shoff: int, shentsize: int, shnum: int, shstrndx: int) -> list[Section]:
        layout = struct.Struct(self._order + _SHDR[ei_class])
        if shoff == 0:
            return []
        if shnum == 0 or shstrndx == SHN_XINDEX:
            # Extended numbering: the real count / string-table index live in section 0's size / link.
            first = self._table("section header", shoff, shentsize, 1, layout)[0]
            shnum = shnum or first[5]
            shstrndx = first[6] if shstrndx == SHN_XINDEX else shstrndx
        if shnum > MAX_SECTIONS:
            raise ElfError(f"{shnum} section headers is more than the {MAX_SECTIONS} accepted")
        rows = self._table("section header", shoff, shentsize, shnum, layout)
        names = b""
        if 0 < shstrndx < len(rows):
            strtab = rows[shstrndx]
            if strtab[1] != SHT_NOBITS:
                size = strtab[5]
                if size > MAX_NAMES:
                    raise ElfError(f"section name table is {size} bytes, over the {MAX_NAMES}-byte limit")
                names = self.read(strtab[4], size)
        out = []
        for name_off, sh_type, sh_flags, addr, offset, size, *_ in rows:
            end = names.find(b"\x00", name_off)
            name = names[name_off:end if end >= 0 else len(names)].decode("latin-1") if name_off < len(names) else ""
            if sh_type != SHT_NOBITS and offset + size > self.size:
                raise ElfError(f"section {name or '#'} ends at {offset + size}, past the end of the file ({self.size})")
            out.append(Section(name=name, type=sh_type, flags=sh_flags, addr=addr, offset=offset, size=size))
        return out


_last: tuple[BinaryIO, int, ElfFile | ElfError | None] | None = None
"""The last file opened and what it gave: the walker hands one spooled executable to each binary cataloger in
turn (Go, Rust, runtimes), and the second and third reuse the first one's reading instead of parsing it again."""


def open_elf(data: BinaryIO, size: int) -> ElfFile | None:
    """The ELF structure of ``data``; None when it does not start with the ELF magic (a script, a text file)."""
    global _last
    last = _last
    if last is not None and last[0] is data and last[1] == size:
        found = last[2]
    else:
        try:
            found = _open(data, size)
        except ElfError as exc:
            found = exc
        _last = (data, size, found)
    if isinstance(found, ElfError):
        raise found
    return found


def _open(data: BinaryIO, size: int) -> ElfFile | None:
    data.seek(0)
    head = data.read(64)
    if len(head) < 4 or not head.startswith(ELF_MAGIC):
        return None
    if len(head) < 6:
        raise ElfError("ELF identification truncated")
    return ElfFile(data, size, head)


class ExecutableSelection:
    """What the binary catalogers (Go build info, Rust cargo-auditable) share: which files they want and how large.

    The walker calls :meth:`wants_mode` (execute bits known); :meth:`wants` is the path-only fallback. Larger
    binaries are only counted by the walker (``warn_oversize = False``): a binary over the cap is not a damaged
    package database."""

    max_file_size = 512 * 1024 * 1024
    warn_oversize = False

    def wants(self, path: str) -> bool:
        return binary_path_candidate(path)

    def wants_mode(self, path: str, mode: int) -> bool:
        return executable_candidate(path, mode)

