"""Damaged and hostile archives: every cap holds, nested damage costs only the nested archive."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from imagescan.catalog.base import CatalogError
from imagescan.catalog.java import Limits, catalog_archive
from imagescan.models import PathRecord
from tests.catalog.java.jars import build_zip, jar, pom_entry

STORED, DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
TEXT = jar("org.apache.commons", "commons-text", "1.10.0")
DEFAULT = Limits()


def scan(data: bytes, limits: Limits = DEFAULT, path: str = "app-1.0.jar") -> PathRecord:
    record = catalog_archive(path, io.BytesIO(data), len(data), limits)
    assert record is not None
    return record


def names(record: PathRecord) -> list[str]:
    return [p.name for p in record.packages]


def patch_central(data: bytes, member: str, offset: int, fmt: str, value: int) -> bytes:
    """Overwrite one field of ``member``'s central-directory header (offset from the header's start)."""
    encoded = member.encode()
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        name_length = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46 : pos + 46 + name_length] == encoded:
            out = bytearray(data)
            struct.pack_into(fmt, out, pos + offset, value)
            return bytes(out)
        pos = data.find(b"PK\x01\x02", pos + 4)
    raise AssertionError(f"{member} not in the central directory")


def with_lib(lib: bytes, compression: int = DEFLATED, name: str = "lib/commons-text-1.10.0.jar") -> bytes:
    return build_zip([pom_entry("com.example", "app", "1.0"), (name, lib, compression)])


def test_depth_cap() -> None:
    inner = jar("org.example", "level5", "1")
    for level in range(4, -1, -1):
        inner = build_zip([pom_entry("org.example", f"level{level}", "1"), (f"level{level + 1}.jar", inner, STORED)])
    record = scan(inner, path="level0.jar")
    assert names(record) == [f"level{n}" for n in range(5)]
    assert record.packages[4].path == "level0.jar!/level1.jar!/level2.jar!/level3.jar!/level4.jar"
    assert record.notes == [f"{record.packages[4].path}!/level5.jar: nested deeper than 4 archives; not read"]
    assert names(scan(inner, Limits(max_depth=1), path="level0.jar")) == ["level0", "level1"]


def test_nested_size_cap_applies_to_compressed_members() -> None:
    record = scan(with_lib(TEXT), Limits(max_nested_size=len(TEXT) - 1))
    assert names(record) == ["app"]
    assert "over the cap" in record.notes[0] and record.notes[0].startswith("app-1.0.jar!/lib/commons-text")
    # a STORED nested archive is read in place: no inflating, no cap
    assert names(scan(with_lib(TEXT, STORED), Limits(max_nested_size=1))) == ["app", "commons-text"]


def test_declared_size_is_checked_before_inflating() -> None:
    bomb = patch_central(with_lib(TEXT), "lib/commons-text-1.10.0.jar", 24, "<L", 0xFFFFFFF0)
    record = scan(bomb)
    assert names(record) == ["app"] and "4294967280 bytes is over the cap" in record.notes[0]


def test_high_ratio_member_is_bounded_by_its_declared_size() -> None:
    zeros = build_zip([pom_entry("z", "zeros", "1"), ("blob.bin", bytes(32 * 1024 * 1024))])
    lie = patch_central(with_lib(zeros), "lib/commons-text-1.10.0.jar", 24, "<L", 1000)
    record = scan(lie)
    assert names(record) == ["app"] and "unreadable" in record.notes[0]


def test_inflate_budget_and_archive_count() -> None:
    libs = [(f"lib/l{i}-1.0.jar", jar("g", f"l{i}", "1.0"), DEFLATED) for i in range(5)]
    data = build_zip([pom_entry("com.example", "app", "1.0"), *libs])
    assert len(scan(data).packages) == 6
    few = scan(data, Limits(max_archives=3))
    assert names(few) == ["app", "l0", "l1"] and len(few.notes) == 3
    assert all("over the cap of 3 archives" in n for n in few.notes)
    budget = scan(data, Limits(max_inflated=2 * len(libs[0][1]) + 500))
    assert names(budget)[:2] == ["app", "l0"] and len(budget.packages) < 6
    assert any("bytes inflated per file" in n for n in budget.notes)


def test_central_directory_cap() -> None:
    with pytest.raises(CatalogError, match="central directory of"):
        scan(TEXT, Limits(max_central_directory=100))
    record = scan(with_lib(TEXT, STORED), Limits(max_central_directory=len(TEXT) // 2))
    assert names(record) == ["app"] and "central directory" in record.notes[0]


def test_metadata_cap() -> None:
    record = scan(TEXT, Limits(max_metadata_size=20), path="commons-text.jar")
    assert record.packages == [] and len(record.notes) == 2  # neither manifest nor pom.properties read
    assert all("over the cap of 20" in n for n in record.notes)


def test_overlapping_entries() -> None:
    data = build_zip([("a.txt", b"x" * 100), pom_entry("g", "a", "1")])
    overlapped = patch_central(data, "META-INF/maven/g/a/pom.properties", 42, "<L", 0)
    with pytest.raises(CatalogError, match="overlapping"):
        scan(overlapped)
    record = scan(with_lib(overlapped, STORED))
    assert names(record) == ["app"] and "overlapping" in record.notes[0]


def test_encrypted_and_unsupported_members() -> None:
    name = "lib/commons-text-1.10.0.jar"
    encrypted = scan(patch_central(with_lib(TEXT), name, 8, "<H", 1))
    assert names(encrypted) == ["app"] and encrypted.notes == [f"app-1.0.jar!/{name}: encrypted"]
    unsupported = scan(patch_central(with_lib(TEXT), name, 10, "<H", 99))
    assert names(unsupported) == ["app"] and "unreadable" in unsupported.notes[0]


def test_damaged_nested_archives() -> None:
    garbage = scan(with_lib(b"PK\x03\x04 this is not really a jar", STORED))
    assert names(garbage) == ["app"] and "not a zip archive" in garbage.notes[0]
    data = bytearray(with_lib(TEXT))
    start = data.find(b"lib/commons-text-1.10.0.jar") + 40
    data[start : start + 200] = bytes(200)
    corrupt = scan(bytes(data))
    assert names(corrupt) == ["app"] and len(corrupt.notes) == 1


def test_nested_pom_damage_is_reported_with_its_nested_path() -> None:
    lib = build_zip([("META-INF/maven/g/lib/pom.properties", b"version=\\uZZZZ")])
    record = scan(with_lib(lib, STORED, "lib/lib.jar"))
    assert record.notes[0].startswith("app-1.0.jar!/lib/lib.jar!/META-INF/maven/g/lib/pom.properties: ")
