"""pom.properties, MANIFEST.MF and file-name parsing, including random input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagescan.catalog.java.filename import FileName, is_archive_name, parse_file_name
from imagescan.catalog.java.manifest import parse_manifest
from imagescan.catalog.java.properties import PropertiesError, parse_properties
from tests.catalog.java.jars import pom_properties


def test_maven_pom_properties() -> None:
    assert parse_properties(pom_properties("org.apache.commons", "commons-text", "1.10.0")) == {
        "artifactId": "commons-text", "groupId": "org.apache.commons", "version": "1.10.0"}


def test_properties_syntax() -> None:
    data = (
        b"# comment\r\n! also a comment\r\n   \r\n"
        b"a = 1\r\nb:2\nc 3\n  d\t=\t4  \n"
        b"long = first, \\\n        second\n"
        b"esc\\ aped\\=key = v\\u0041\\tz\\\\\n"
        b"empty\n"
        b"dup=one\ndup=two\n"
        b"caf\xe9=latin1"
    )
    assert parse_properties(data) == {
        "a": "1", "b": "2", "c": "3", "d": "4  ", "long": "first, second", "esc aped=key": "vA\tz\\", "empty": "",
        "dup": "two", "caf\xe9": "latin1",
    }  # fmt: skip


def test_even_backslashes_do_not_continue() -> None:
    assert parse_properties(b"a=x\\\\\nb=y") == {"a": "x\\", "b": "y"}
    assert parse_properties(b"a=x\\") == {"a": "x"}  # continuation at end of file


def test_bad_unicode_escape() -> None:
    with pytest.raises(PropertiesError, match="uXXXX"):
        parse_properties(b"version=1.0\\u00G1")


def test_surrogate_escapes() -> None:
    assert parse_properties(b"name=smile \\uD83D\\uDE00") == {"name": "smile \U0001f600"}
    for lone in (b"v=\\uD800", b"v=\\uDE00x", b"k\\uDBFF=v"):
        with pytest.raises(PropertiesError, match="lone surrogate"):
            parse_properties(lone)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_properties_random_bytes(data: bytes) -> None:
    try:
        result = parse_properties(data)
    except PropertiesError:
        return
    for key, value in result.items():
        (key + value).encode("utf-8")  # no lone surrogates: everything must serialize


def test_manifest_continuations_and_sections() -> None:
    data = (
        b"Manifest-Version: 1.0\r\n"
        b"Bundle-SymbolicName: org.apache.logging.log4j.core;singleton:=tr\r\n ue\r\n"
        b"implementation-VERSION: 2.19.0\r\n"
        b"Implementation-Title: Apache Log4j Core with a title longer than seventy-two\r\n  bytes\r\n"
        b"not an attribute line\r\n"
        b"Empty:\r\n"
        b"\r\n"
        b"Name: org/apache/logging/log4j/core/\r\nImplementation-Version: 9.9\r\n"
    )
    assert parse_manifest(data) == {
        "manifest-version": "1.0",
        "bundle-symbolicname": "org.apache.logging.log4j.core;singleton:=true",
        "implementation-version": "2.19.0",
        "implementation-title": "Apache Log4j Core with a title longer than seventy-two bytes",
        "empty": "",
    }


def test_manifest_without_trailing_newline_and_leading_blank_lines() -> None:
    assert parse_manifest(b"\n\nImplementation-Version: 1.2") == {"implementation-version": "1.2"}
    assert parse_manifest(b"") == {}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_manifest_random_bytes(data: bytes) -> None:
    assert all(isinstance(v, str) for v in parse_manifest(data).values())


@pytest.mark.parametrize(("path", "expected"), [
    ("usr/share/java/commons-text-1.10.0.jar", ("commons-text", "1.10.0")),
    ("log4j-api.jar", ("log4j-api", None)),
    ("log4j-1.2-api.jar", ("log4j-1.2-api", None)),
    ("log4j-1.2-api-2.19.0.jar", ("log4j-1.2-api", "2.19.0")),
    ("guava-31.1-jre.jar", ("guava", "31.1-jre")),
    ("spring-core-5.3.1.RELEASE.jar", ("spring-core", "5.3.1.RELEASE")),
    ("foo-1.0-SNAPSHOT.war", ("foo", "1.0-SNAPSHOT")),
    ("foo-1.0-20230101.123456-1.jar", ("foo", "1.0-20230101.123456-1")),
    ("bar-2.0.0-beta-1.jar", ("bar", "2.0.0-beta-1")),
    ("jackson-databind-2.14.0-rc1.jar", ("jackson-databind", "2.14.0-rc1")),
    ("bcprov-jdk18on-1.72.jar", ("bcprov-jdk18on", "1.72")),
    ("jackson-module-scala_2.13-2.14.0.jar", ("jackson-module-scala_2.13", "2.14.0")),
    ("netty-4.1.86.Final-linux-x86_64.jar", ("netty-4.1.86.Final-linux-x86_64", None)),
    ("app.jar", ("app", None)),
    ("-1.0.jar", ("-1.0", None)),
    ("ROOT.WAR", ("ROOT", None)),
])  # fmt: skip
def test_file_names(path: str, expected: tuple[str, str | None]) -> None:
    parsed = parse_file_name(path)
    assert (parsed.name, parsed.version) == expected
    assert parsed.extension == path.rsplit(".", 1)[1].lower()


def test_file_name_fields() -> None:
    assert parse_file_name("a/b.jar!/lib/x-1.0.jar") == FileName("x-1.0", "x", "1.0", "jar")


@pytest.mark.parametrize(("path", "wanted"), [
    ("app/app.jar", True), ("x/Y.WAR", True), ("a.ear", True), ("a.par", True), ("a.sar", True), ("a.nar", True),
    ("a.jpi", True), ("a.hpi", True), ("a.kar", True), ("a.lpkg", True),
    ("a.jar.sha1", False), ("a.zip", False), (".jar", False), ("jar", False), ("dir.jar/file", False),
    ("usr/lib/x.jarx", False),
])  # fmt: skip
def test_archive_names(path: str, wanted: bool) -> None:
    assert is_archive_name(path) is wanted
