"""Synthetic ELF files for the binary cataloger tests, written from the ELF specification (System V gABI).

Layout: ELF header, one PT_LOAD program header per section that has an address, the section contents (16-byte
aligned), ``.shstrtab`` and the section header table. ``section_headers=False`` writes none (as ``sstrip``
leaves a binary), so readers must go through the program headers.

Also the two Go build-info layouts (``go_inline_elf`` for Go 1.18+, ``go_pointer_elf`` for Go 1.13-1.17), built
from the format as ``debug/buildinfo`` documents it. These are **synthetic**: no old Go toolchain is available
here, so the pointer format is only ever seen through these files.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import Any, Literal

SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 1, 2, 4
PF_X, PF_W, PF_R = 1, 2, 4
GO_MAGIC = b"\xff Go buildinf:"
MODINFO_START = bytes.fromhex("3077af0c9274080241e1c107e6d618e6")
MODINFO_END = bytes.fromhex("f932433186182072008242104116d8f2")


@dataclass
class Sec:
    name: str
    data: bytes
    addr: int = 0
    flags: int = SHF_ALLOC
    type: int = 1  # SHT_PROGBITS


def _align(n: int, to: int = 16) -> int:
    return (n + to - 1) // to * to


def build_elf(sections: list[Sec], *, bits: int = 64, little: bool = True, section_headers: bool = True) -> bytes:
    o = "<" if little else ">"
    ehsize, phentsize, shentsize = (64, 56, 64) if bits == 64 else (52, 32, 40)
    loaded = [s for s in sections if s.addr]
    offset = _align(ehsize + phentsize * len(loaded))
    body = bytearray()
    placed: list[tuple[Sec, int]] = []
    for sec in sections:
        pos = offset + len(body)
        placed.append((sec, pos))
        body += sec.data
        body += b"\x00" * (_align(len(body)) - len(body))
    names = b"\x00" + b"".join(s.name.encode() + b"\x00" for s in sections) + b".shstrtab\x00"
    names_off = offset + len(body)
    body += names
    body += b"\x00" * (_align(len(body)) - len(body))
    shoff = offset + len(body) if section_headers else 0
    shnum = len(sections) + 2 if section_headers else 0

    phdrs = bytearray()
    for sec, pos in placed:
        if not sec.addr:
            continue
        flags = PF_R | (PF_W if sec.flags & SHF_WRITE else 0) | (PF_X if sec.flags & SHF_EXECINSTR else 0)
        if bits == 64:
            phdrs += struct.pack(o + "IIQQQQQQ", 1, flags, pos, sec.addr, sec.addr, len(sec.data), len(sec.data), 16)
        else:
            phdrs += struct.pack(o + "IIIIIIII", 1, pos, sec.addr, sec.addr, len(sec.data), len(sec.data), flags, 16)

    shdrs = bytearray()
    if section_headers:
        layout = o + ("IIQQQQIIQQ" if bits == 64 else "IIIIIIIIII")
        shdrs += b"\x00" * shentsize
        name_pos = 1
        for sec, pos in placed:
            shdrs += struct.pack(layout, name_pos, sec.type, sec.flags, sec.addr, pos, len(sec.data), 0, 0, 16, 0)
            name_pos += len(sec.name) + 1
        shdrs += struct.pack(layout, name_pos, 3, 0, 0, names_off, len(names), 0, 0, 1, 0)

    ident = b"\x7fELF" + bytes([1 if bits == 32 else 2, 1 if little else 2, 1]) + b"\x00" * 9
    word = "Q" if bits == 64 else "I"
    header = struct.pack(o + f"16sHHI{word}{word}{word}IHHHHHH", ident, 2, 62 if bits == 64 else 3, 1, 0x401000,
                         ehsize if loaded else 0, shoff, 0, ehsize, phentsize, len(loaded), shentsize, shnum,
                         shnum - 1 if section_headers else 0)
    out = bytearray(header)
    out += phdrs
    out += b"\x00" * (offset - len(out))
    out += body
    out += shdrs
    return bytes(out)


def uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def wrap_modinfo(text: str) -> bytes:
    """Module info as the linker stores it: between the 16-byte sentinels."""
    return MODINFO_START + text.encode() + MODINFO_END


TEXT = Sec(".text", b"\xc3" * 64, addr=0x401000, flags=SHF_ALLOC | SHF_EXECINSTR)


def go_inline_elf(version: str, modinfo: bytes, *, section_headers: bool = True, padding: int = 0) -> bytes:
    """Go 1.18+ layout: header with flags bit 2, then uvarint-prefixed version and module info."""
    header = GO_MAGIC + bytes([8, 2]) + b"\x00" * 16
    blob = b"\x00" * padding + header + uvarint(len(version)) + version.encode() + uvarint(len(modinfo)) + modinfo
    blob += b"\x00" * 16  # real binaries have more data after it (debug/buildinfo needs at least a byte)
    return build_elf([TEXT, Sec(".go.buildinfo", blob, addr=0x500000, flags=SHF_ALLOC | SHF_WRITE)],
                     section_headers=section_headers)


def go_pointer_elf(version: str, modinfo: bytes, *, bits: int = 64, little: bool = True,
                   section_headers: bool = True) -> bytes:
    """Go 1.13-1.17 layout: the header holds pointers to two Go string headers ``{data, len}`` (here right after
    the header in ``.go.buildinfo``), whose data pointers lead into ``.rodata``."""
    ptr = bits // 8
    order: Literal["little", "big"] = "little" if little else "big"
    rodata_addr, info_addr = 0x480000, 0x500000
    rodata = version.encode() + modinfo

    def p(n: int) -> bytes:
        return n.to_bytes(ptr, order)

    version_hdr, modinfo_hdr = info_addr + 32, info_addr + 32 + 2 * ptr
    header = GO_MAGIC + bytes([ptr, 0 if little else 1]) + p(version_hdr) + p(modinfo_hdr)
    header += b"\x00" * (32 - len(header))
    strings = p(rodata_addr) + p(len(version)) + p(rodata_addr + len(version)) + p(len(modinfo))
    return build_elf(
        [TEXT, Sec(".rodata", rodata, addr=rodata_addr),
         Sec(".go.buildinfo", header + strings, addr=info_addr, flags=SHF_ALLOC | SHF_WRITE)],
        bits=bits, little=little, section_headers=section_headers,
    )


class BoundedReader(io.BytesIO):
    """A file that fails the test if anyone reads it whole (``read()``/``read(-1)``) or in one huge gulp."""

    def __init__(self, data: bytes, max_read: int = 8 * 1024 * 1024) -> None:
        super().__init__(data)
        self.max_read = max_read
        self.total = 0

    def read(self, size: int | None = -1, /) -> bytes:
        assert size is not None and 0 <= size <= self.max_read, f"unbounded read({size})"
        out = super().read(size)
        self.total += len(out)
        return out

    def readall(self) -> Any:  # pragma: no cover - would be a bug
        raise AssertionError("readall()")
