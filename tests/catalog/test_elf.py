"""The small ELF reader: both classes and byte orders, stripped section headers, damage, bounded reads."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagescan.catalog.base import CatalogError
from imagescan.catalog.elf import ElfError, binary_path_candidate, executable_candidate, open_elf
from tests.catalog.elfbuild import SHF_ALLOC, SHF_WRITE, TEXT, BoundedReader, Sec, build_elf

SAMPLE = [TEXT, Sec(".rodata", b"hello\x00world", addr=0x480000),
          Sec(".data", b"\x01\x02\x03\x04", addr=0x500000, flags=SHF_ALLOC | SHF_WRITE),
          Sec(".comment", b"GCC: test")]  # fmt: skip


@pytest.mark.parametrize(("bits", "little"), [(64, True), (64, False), (32, True), (32, False)])
def test_sections_segments_and_addresses(bits: int, little: bool) -> None:
    data = build_elf(SAMPLE, bits=bits, little=little)
    elf = open_elf(BoundedReader(data), len(data))
    assert elf is not None and (elf.bits, elf.little) == (bits, little)
    assert [s.name for s in elf.sections] == ["", ".text", ".rodata", ".data", ".comment", ".shstrtab"]
    rodata = elf.section(".rodata")
    assert rodata is not None and elf.section_data(rodata, 100) == b"hello\x00world"
    assert elf.read_vaddr(0x480006, 100) == b"world"  # cut at the end of the segment
    assert elf.read_vaddr(0x490000, 4) is None
    assert elf.writable_data_start() == 0x500000
    assert elf.uint(b"\x01\x00") == (1 if little else 256)
    assert elf.section(".nope") is None
    with pytest.raises(ElfError, match="over the 4-byte limit"):
        elf.section_data(rodata, 4)


def test_readelf_agrees(tmp_path: Path) -> None:
    """The synthetic files are real ELF: binutils' readelf lists the same sections."""
    readelf = shutil.which("readelf")
    assert readelf is not None, "binutils (readelf) is installed by scripts/setup"
    data = build_elf(SAMPLE, bits=32, little=False)
    path = tmp_path / "sample32be.elf"
    path.write_bytes(data)
    out = subprocess.run([readelf, "-SW", str(path)], capture_output=True, text=True, check=True).stdout
    elf = open_elf(io.BytesIO(data), len(data))
    assert elf is not None
    for section in elf.sections[1:]:
        assert f"{section.name} " in out and f"{section.offset:06x}" in out


def test_stripped_section_headers() -> None:
    data = build_elf(SAMPLE, section_headers=False)
    elf = open_elf(io.BytesIO(data), len(data))
    assert elf is not None and elf.sections == [] and len(elf.segments) == 3
    assert elf.read_vaddr(0x480000, 5) == b"hello"


def test_not_elf_and_damage() -> None:
    assert open_elf(io.BytesIO(b"#!/bin/sh\necho hi\n"), 18) is None
    assert open_elf(io.BytesIO(b""), 0) is None
    with pytest.raises(ElfError, match="identification truncated"):
        open_elf(io.BytesIO(b"\x7fELF\x02"), 5)
    with pytest.raises(ElfError, match="class"):
        open_elf(io.BytesIO(b"\x7fELF\x09\x01" + b"\x00" * 60), 66)
    data = build_elf(SAMPLE)
    with pytest.raises(ElfError, match="past the end"):
        open_elf(io.BytesIO(data[: len(data) - 10]), len(data) - 10)
    with pytest.raises(ElfError, match="ELF header truncated"):
        open_elf(io.BytesIO(data[:40]), 40)
    assert issubclass(ElfError, CatalogError)


def test_one_file_is_read_once_for_every_cataloger_it_is_handed_to() -> None:
    data = build_elf(SAMPLE)
    spool = io.BytesIO(data)
    first = open_elf(spool, len(data))
    assert first is not None and open_elf(spool, len(data)) is first
    other = open_elf(io.BytesIO(data), len(data))
    assert other is not first and other is not None and other.sections == first.sections
    damaged = io.BytesIO(data[:40])
    for _ in range(2):  # the error is given to each cataloger, not only the first
        with pytest.raises(ElfError, match="ELF header truncated"):
            open_elf(damaged, 40)


def test_file_shorter_than_its_stated_size() -> None:
    data = build_elf(SAMPLE)
    elf = open_elf(io.BytesIO(data), len(data))
    assert elf is not None
    short = open_elf(io.BytesIO(data), len(data) + 100)
    assert short is not None
    with pytest.raises(ElfError, match="file ended"):
        short.read(len(data) - 4, 50)


def test_candidates() -> None:
    assert executable_candidate("usr/local/bin/app", 0o755)
    assert executable_candidate("manager", 0o100)
    assert not executable_candidate("usr/local/bin/app", 0o644)
    assert not executable_candidate("usr/bin/script.sh", 0o755)
    assert not executable_candidate("opt/app/run.PY", 0o755)
    assert binary_path_candidate("usr/local/bin/app") and binary_path_candidate("manager")
    assert binary_path_candidate("opt/tool/x") and binary_path_candidate("usr/lib/libfoo.so.1")
    assert not binary_path_candidate("usr/share/doc/x/README")
    assert not binary_path_candidate("usr/bin/x.py")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_damaged_files_only_raise_elf_error(data: st.DataObject) -> None:
    original = build_elf(SAMPLE, bits=data.draw(st.sampled_from([32, 64])), little=data.draw(st.booleans()))
    blob = bytearray(original[: data.draw(st.integers(0, len(original)))])
    for _ in range(data.draw(st.integers(0, 12))):
        if blob:
            blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    reader = BoundedReader(bytes(blob), max_read=len(original) + 64)
    try:
        elf = open_elf(reader, len(blob))
        if elf is not None:
            for section in elf.sections:
                elf.section_data(section, 1 << 20)
            elf.read_vaddr(0x480000, 1 << 20)
    except ElfError:
        pass
    assert reader.total <= 4 * len(original) + 64


def test_oversized_tables_are_refused_before_reading() -> None:
    data = bytearray(build_elf(SAMPLE))
    data[0x3A:0x3E] = (0xFFFF).to_bytes(2, "little") * 2  # e_shentsize, e_shnum: a 4 GB table
    with pytest.raises(ElfError, match="over the"):
        open_elf(BoundedReader(bytes(data) + b"\x00" * (1 << 20), max_read=1 << 16), len(data) + (1 << 30))
