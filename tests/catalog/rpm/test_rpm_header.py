"""The header blob parser and the record built from it, on hand-made headers."""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from imagescan.catalog.base import CatalogError
from imagescan.catalog.rpm.header import RpmHeader, Tag, TagType
from imagescan.catalog.rpm.record import record_from_header, split_source_rpm

Builder = Callable[[Sequence[Any]], bytes]
S, A, I18N, I32 = TagType.STRING, TagType.STRING_ARRAY, TagType.I18NSTRING, TagType.INT32

BASIC = [
    (Tag.NAME, S, "bash"),
    (Tag.VERSION, S, "5.2.15"),
    (Tag.RELEASE, S, "2.el9"),
    (Tag.ARCH, S, "x86_64"),
    (Tag.SOURCERPM, S, "bash-5.2.15-2.el9.src.rpm"),
    (Tag.LICENSE, S, "GPLv3+"),
    (Tag.VENDOR, S, "Red Hat, Inc."),
]


def test_basic_record(header_builder: Builder) -> None:
    files = [
        (Tag.BASENAMES, A, ["bash", "sh", "bash"]),
        (Tag.DIRNAMES, A, ["/usr/bin/", "/usr/share/doc/"]),
        (Tag.DIRINDEXES, I32, [0, 0, 1]),
    ]
    record = record_from_header(RpmHeader.parse(header_builder(BASIC + files)))
    assert (record.name, record.version, record.release, record.epoch) == ("bash", "5.2.15", "2.el9", None)
    assert (record.arch, record.source_rpm, record.license, record.vendor) == (
        "x86_64", "bash-5.2.15-2.el9.src.rpm", "GPLv3+", "Red Hat, Inc.",
    )
    assert record.full_version == "5.2.15-2.el9"
    assert record.files == ["usr/bin/bash", "usr/bin/sh", "usr/share/doc/bash"]


def test_epoch_old_filenames_and_i18n(header_builder: Builder) -> None:
    header = header_builder([
        (Tag.NAME, S, "old"), (Tag.VERSION, S, "1"), (Tag.EPOCH, I32, [3]),
        (Tag.LICENSE, I18N, ["GPL", "GPL (de)"]),
        (Tag.OLDFILENAMES, A, ["/", "/bin/old", "/etc/old.conf"]),
    ])
    record = record_from_header(RpmHeader.parse(header))
    assert record.epoch == 3 and record.release is None and record.full_version == "1"
    assert record.license == "GPL" and record.arch is None and record.vendor is None
    assert record.files == ["bin/old", "etc/old.conf"]  # "/" itself is no file path


def test_later_entry_wins(header_builder: Builder) -> None:
    """Entries after the immutable region replace region entries with the same tag, as rpm loads them."""
    header = header_builder([*BASIC, (Tag.VENDOR, S, "Replaced")])
    assert record_from_header(RpmHeader.parse(header)).vendor == "Replaced"


def test_empty_and_none_strings_are_absent(header_builder: Builder) -> None:
    header = header_builder([(Tag.NAME, S, "k"), (Tag.VERSION, S, "1"), (Tag.VENDOR, S, ""),
                             (Tag.SOURCERPM, S, "(none)")])
    record = record_from_header(RpmHeader.parse(header))
    assert record.vendor is None and record.source_rpm is None


def test_typed_access(header_builder: Builder) -> None:
    header = RpmHeader.parse(header_builder([
        (Tag.NAME, S, "x"), (5000, TagType.INT16, [1, 2]), (5001, TagType.INT64, [2**40]),
        (5002, TagType.BIN, b"\x00\x01"), (5003, TagType.INT8, [7]),
    ]))
    assert header.integers(5000) == [1, 2] and header.integer(5001) == 2**40 and header.integer(5003) == 7
    assert header.string(5002) is None and header.integers(Tag.NAME) is None and header.strings(5000) is None
    assert header.strings(Tag.NAME) == ["x"] and Tag.NAME in header and 4242 not in header
    assert header.entry(5002) is not None and set(header.tags()) == {Tag.NAME, 5000, 5001, 5002, 5003}


def test_non_utf8_is_replaced(header_builder: Builder) -> None:
    blob = bytearray(header_builder([(Tag.NAME, S, "n"), (Tag.VERSION, S, "1"), (Tag.VENDOR, S, "Xy")]))
    blob[-2] = 0xE9  # latin-1 é
    assert record_from_header(RpmHeader.parse(bytes(blob))).vendor == "X\ufffd"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b[:7],  # shorter than il/dl
        lambda b: struct.pack(">II", 0, 0) + b[8:],  # no entries
        lambda b: struct.pack(">II", 0x10000, 4) + b[8:],  # too many entries
        lambda b: b[:4] + struct.pack(">I", 0x10000000) + b[8:],  # data too large
        lambda b: b[:-1],  # data shorter than dl
        lambda b: b[:12] + struct.pack(">I", 10) + b[16:],  # unknown type
        lambda b: b[:16] + struct.pack(">i", -1) + b[20:],  # negative offset
        lambda b: b[:20] + struct.pack(">I", 0x7FFFFFFF) + b[24:],  # huge count
    ],
)
def test_bad_index_raises(header_builder: Builder, mutate: Callable[[bytes], bytes]) -> None:
    blob = header_builder(BASIC)
    with pytest.raises(CatalogError):
        RpmHeader.parse(mutate(blob))


def test_int_array_overrun(header_builder: Builder) -> None:
    blob = bytearray(header_builder([(Tag.NAME, S, "n"), (Tag.EPOCH, I32, [1])]))
    struct.pack_into(">I", blob, 8 + 16 + 12, 2)  # EPOCH count 2: 8 bytes where 4 remain
    with pytest.raises(CatalogError, match="overruns"):
        RpmHeader.parse(bytes(blob))


def test_unterminated_string(header_builder: Builder) -> None:
    blob = header_builder([(Tag.NAME, S, "n"), (Tag.VERSION, S, "1")])[:-1]
    blob = blob[:4] + struct.pack(">I", struct.unpack_from(">I", blob, 4)[0] - 1) + blob[8:]
    header = RpmHeader.parse(blob)
    with pytest.raises(CatalogError, match="unterminated"):
        header.string(Tag.VERSION)
    with pytest.raises(CatalogError, match="unterminated"):
        header.strings(Tag.VERSION)


@pytest.mark.parametrize(
    "entries",
    [
        [(Tag.VERSION, S, "1")],  # no name
        [(Tag.NAME, S, "n")],  # no version
        [(Tag.NAME, S, "n"), (Tag.VERSION, S, "1"), (Tag.BASENAMES, A, ["a", "b"]), (Tag.DIRNAMES, A, ["/"]),
         (Tag.DIRINDEXES, I32, [0])],  # fewer dir indexes than basenames
        [(Tag.NAME, S, "n"), (Tag.VERSION, S, "1"), (Tag.BASENAMES, A, ["a"]), (Tag.DIRNAMES, A, ["/"]),
         (Tag.DIRINDEXES, I32, [1])],  # dir index out of range
    ],
)
def test_bad_record_raises(header_builder: Builder, entries: list[Any]) -> None:
    with pytest.raises(CatalogError):
        record_from_header(RpmHeader.parse(header_builder(entries)))


@pytest.mark.parametrize(
    ("source_rpm", "expected"),
    [
        ("openssl-3.0.8-1.amzn2023.0.1.src.rpm", ("openssl", "3.0.8-1.amzn2023.0.1")),
        ("util-linux-2.32.1-42.el8_8.src.rpm", ("util-linux", "2.32.1-42.el8_8")),
        ("java-17-openjdk-17.0.9.0.9-2.el9.nosrc.rpm", ("java-17-openjdk", "17.0.9.0.9-2.el9")),
        ("a-1-2.src.rpm", ("a", "1-2")),
        ("", None),
        (None, None),
        ("nodashes.src.rpm", None),
        ("only-one.src.rpm", None),
        ("not-an-rpm-1-2.src.tar", None),
    ],
)
def test_split_source_rpm(source_rpm: str | None, expected: tuple[str, str] | None) -> None:
    assert split_source_rpm(source_rpm) == expected
