"""The runtime classifiers: file choice, version strings in ELF data sections (bounded, chunked), version files,
and bad input. Real Debian/Node/JDK/Go files are checked end to end in tests/e2e/test_binaries_image.py."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagescan.catalog.runtimes import (
    CHUNK,
    PROP_EVIDENCE,
    RuntimeCataloger,
    binary_rule,
    go_root_version,
    java_release,
    node_header_version,
    python_pattern,
    scan,
)
from imagescan.models import Package, PackageType
from tests.catalog.elfbuild import SHF_ALLOC, SHF_WRITE, TEXT, BoundedReader, Sec, build_elf

CATALOGER = RuntimeCataloger()
NODE_HEADER = """#ifndef SRC_NODE_VERSION_H_
#define SRC_NODE_VERSION_H_

#define NODE_MAJOR_VERSION 18
#define NODE_MINOR_VERSION 17
#define NODE_PATCH_VERSION 1

#define NODE_VERSION_IS_LTS 1
#define NODE_VERSION_LTS_CODENAME "Hydrogen"

#define NODE_VERSION_IS_RELEASE 1
#endif  // SRC_NODE_VERSION_H_
"""
JAVA_RELEASE = '''IMPLEMENTOR="Eclipse Adoptium"
IMPLEMENTOR_VERSION="Temurin-17.0.8+7"
JAVA_RUNTIME_VERSION="17.0.8+7"
JAVA_VERSION="17.0.8"
JAVA_VERSION_DATE="2023-07-18"
LIBC="gnu"
MODULES="java.base java.logging"
OS_ARCH="x86_64"
'''


def elf_with(rodata: bytes, *, data: bytes = b"", text: bytes = b"", section_headers: bool = True) -> bytes:
    return build_elf([Sec(".text", text or TEXT.data, addr=0x401000, flags=TEXT.flags),
                      Sec(".rodata", rodata, addr=0x480000),
                      Sec(".data", data or b"\x00", addr=0x500000, flags=SHF_ALLOC | SHF_WRITE)],
                     section_headers=section_headers)


def run(path: str, data: bytes) -> Package | None:
    assert CATALOGER.wants(path), path
    record = CATALOGER.parse(path, BoundedReader(data, max_read=CHUNK), len(data))
    if record is None:
        return None
    assert record.cataloger == "runtimes" and record.path == path and len(record.packages) == 1
    pkg = record.packages[0]
    assert pkg.type == PackageType.GENERIC and pkg.path == path and pkg.properties[PROP_EVIDENCE]
    return pkg


BINARIES = [
    ("usr/bin/python3.11", b"\x00main\x003.11.4\x00%s\x00", "python", "3.11.4", "application"),
    ("usr/local/bin/python3.12", b"\x003.12.0rc1\x00", "python", "3.12.0rc1", "application"),
    ("usr/local/bin/python3", b"\x003.10.13+\x00", "python", "3.10.13+", "application"),
    ("usr/bin/python2.7", b"x\x002.7.18\x00y", "python", "2.7.18", "application"),
    ("usr/local/lib/libpython3.12.so.1.0", b"\x003.12.1\x00", "python", "3.12.1", "library"),
    ("usr/lib/x86_64-linux-gnu/libpython3.9d.so", b"\x003.9.2\x00", "python", "3.9.2", "library"),
    ("usr/local/bin/node", b"https://nodejs.org/download/release/v18.17.1/\x00node.js/v18.17.1\x00", "node",
     "18.17.1", "application"),
    ("usr/lib/x86_64-linux-gnu/libssl.so.1.1", b"OpenSSL 1.1.1w  11 Sep 2023\x00", "openssl", "1.1.1w", "library"),
    ("lib/libcrypto.so.3", b"\x00OpenSSL 3.0.11 19 Sep 2023\x00", "openssl", "3.0.11", "library"),
    ("usr/bin/openssl", b"OpenSSL 3.2.0-alpha1 7 Sep 2023", "openssl", "3.2.0-alpha1", "application"),
    ("bin/busybox", b"BusyBox v1.36.1 (2023-07-27 17:12:24 UTC)\x00", "busybox", "1.36.1", "application"),
    ("usr/sbin/nginx", b"\x00nginx/1.25.3\x00", "nginx", "1.25.3", "application"),
    ("usr/bin/curl", b"\x00curl/8.4.0\x00", "curl", "8.4.0", "application"),
    ("usr/lib/libcurl.so.4.8.0", b"\x00libcurl/8.4.0\x00", "curl", "8.4.0", "library"),
    ("usr/lib/x86_64-linux-gnu/libcurl-gnutls.so.4", b"libcurl/7.88.1", "curl", "7.88.1", "library"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "rodata", "name", "version", "ctype"), BINARIES)
def test_version_strings(path: str, rodata: bytes, name: str, version: str, ctype: str) -> None:
    pkg = run(path, elf_with(b"\x00padding\x00" * 10 + rodata))
    assert pkg is not None and (pkg.name, pkg.version, pkg.component_type) == (name, version, ctype)


def test_python_version_must_match_the_file_name() -> None:
    assert run("usr/bin/python3.11", elf_with(b"\x003.12.1\x00\x003.1.0\x00")) is None
    pkg = run("usr/bin/python3.11", elf_with(b"\x003.12.1\x00\x003.11.7\x00"))
    assert pkg is not None and pkg.version == "3.11.7"
    assert python_pattern("3", "11") is python_pattern("3", "11")  # compiled once


def test_only_data_sections_are_searched() -> None:
    """Code is not searched when there are data sections: strings the compiler did not put there do not count."""
    assert run("usr/sbin/nginx", elf_with(b"\x00", text=b"nginx/1.25.3")) is None
    pkg = run("usr/sbin/nginx", elf_with(b"\x00", data=b"nginx/1.25.3"))
    assert pkg is not None and pkg.version == "1.25.3"


def test_stripped_and_damaged_headers_fall_back_to_the_whole_file() -> None:
    pkg = run("usr/sbin/nginx", elf_with(b"\x00", text=b"nginx/1.25.3", section_headers=False))
    assert pkg is not None and pkg.version == "1.25.3"
    data = elf_with(b"\x00nginx/1.24.0\x00")
    pkg = run("usr/sbin/nginx", data[:-20])  # section table cut off: not a valid ELF any more
    assert pkg is not None and pkg.version == "1.24.0"


def test_not_elf_and_no_version() -> None:
    assert run("usr/local/bin/node", b"#!/bin/sh\nexec node.js/v1.2.3\n") is None
    assert run("usr/local/bin/node", elf_with(b"no version here")) is None
    assert run("usr/bin/busybox", b"") is None


def test_chunk_boundaries_and_budget() -> None:
    needle = b"nginx/1.25.3"
    for cut in range(1, len(needle)):
        blob = b"\x00" * (CHUNK - cut) + needle + b"\x00" * 100
        m = scan(io.BytesIO(blob), [(0, len(blob))], re.compile(rb"nginx/(?P<version>\d+\.\d+\.\d+)"))
        assert m is not None and m.group("version") == b"1.25.3", cut
    blob = b"\x00" * (3 * CHUNK) + needle
    pattern = re.compile(rb"nginx/(?P<version>\d+\.\d+\.\d+)")
    reader = BoundedReader(blob, max_read=CHUNK)
    assert scan(reader, [(0, len(blob))], pattern, limit=2 * CHUNK) is None
    assert reader.total == 2 * CHUNK
    assert scan(io.BytesIO(blob), [(0, 10), (3 * CHUNK, len(needle))], pattern) is not None


def test_node_header() -> None:
    pkg = run("usr/local/include/node/node_version.h", NODE_HEADER.encode())
    assert pkg is not None and (pkg.name, pkg.version, pkg.component_type) == ("node", "18.17.1", "application")
    assert node_header_version(NODE_HEADER.replace("#define NODE_PATCH_VERSION 1", "")) is None
    assert not CATALOGER.wants("usr/include/nodejs/node_version.h")


@pytest.mark.parametrize("path", ["opt/java/openjdk/release", "usr/lib/jvm/java-17-openjdk-amd64/release",
                                  "usr/lib/jvm/zulu17/jre/release"])
def test_java_release(path: str) -> None:
    pkg = run(path, JAVA_RELEASE.encode())
    assert pkg is not None and (pkg.name, pkg.version) == ("openjdk", "17.0.8")
    assert pkg.properties["java:implementor"] == "Eclipse Adoptium"
    assert pkg.properties["java:runtime_version"] == "17.0.8+7"


def test_java_release_forms() -> None:
    fields = java_release('JAVA_VERSION=1.8.0_392\nOS_NAME="Linux"\n')
    assert fields == {"JAVA_VERSION": "1.8.0_392", "OS_NAME": "Linux"}
    pkg = run("usr/lib/jvm/java-8/jre/release", b'JAVA_VERSION="1.8.0_392"\n')
    assert pkg is not None and pkg.version == "1.8.0_392"
    assert run("opt/java/openjdk/release", b"IMPLEMENTOR=x\n") is None
    assert run("opt/java/openjdk/release", b'JAVA_VERSION="not a version; rm -rf"\n') is None
    assert not CATALOGER.wants("etc/release") and not CATALOGER.wants("opt/app/release")


def test_go_root_version() -> None:
    pkg = run("usr/local/go/VERSION", b"go1.21.5\ntime 2023-11-29T21:21:49Z\n")
    assert pkg is not None and (pkg.name, pkg.version) == ("go", "1.21.5")
    pkg = run("usr/lib/go-1.19/VERSION", b"go1.19.8")
    assert pkg is not None and pkg.version == "1.19.8"
    assert go_root_version("devel go1.22-abc") is None and go_root_version("go1.22rc1\n") == "1.22rc1"
    assert run("usr/local/go/VERSION", b"weekly.2012-03-27") is None
    assert not CATALOGER.wants("app/VERSION")


def test_wants() -> None:
    for path in ["usr/bin/python3", "usr/local/bin/python3.12", "usr/bin/node", "usr/local/bin/nodejs",
                 "usr/lib/libssl.so.3", "usr/lib/libcrypto.so.1.0.2k", "bin/busybox", "usr/sbin/nginx",
                 "usr/bin/curl", "usr/lib/libcurl.so.4"]:
        assert CATALOGER.wants(path) and binary_rule(path) is not None, path
    for path in ["usr/bin/python3.11-config", "usr/lib/python3.11/os.py", "usr/share/nginx/html/index.html",
                 "usr/lib/node_modules/npm/bin/node-gyp", "usr/bin/curl-config", "etc/ssl/openssl.cnf"]:
        assert not CATALOGER.wants(path), path


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from([b[0] for b in BINARIES] + ["usr/local/include/node/node_version.h",
                                                         "opt/java/openjdk/release", "usr/local/go/VERSION"]),
       data=st.data())
def test_random_and_mutated_files(path: str, data: st.DataObject) -> None:
    """Never an exception: a runtime is found or nothing is."""
    rodata = next((b[1] for b in BINARIES if b[0] == path), b"")
    original = elf_with(rodata) if rodata else data.draw(st.sampled_from([NODE_HEADER, JAVA_RELEASE, "go1.2"])).encode()
    blob = bytearray(original[: data.draw(st.integers(0, len(original)))])
    for _ in range(data.draw(st.integers(0, 10))):
        if blob:
            blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        blob = bytearray(data.draw(st.binary(max_size=300)))
    pkg = run(path, bytes(blob))
    assert pkg is None or pkg.version
