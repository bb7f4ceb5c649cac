"""The cataloger on whole archives: jars, shaded jars, fat jars, WARs and EARs, STORED and DEFLATED nesting."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

from imagescan.catalog.base import CatalogError
from imagescan.catalog.java import JavaArchiveCataloger, catalog_archive
from imagescan.models import Package, PackageType, PathRecord
from tests.catalog.java.jars import build_zip, jar, manifest, pom_entry

STORED, DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
CATALOGER = JavaArchiveCataloger()


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def parse(path: str, data: bytes) -> PathRecord:
    record = CATALOGER.parse(path, io.BytesIO(data), len(data))
    assert record is not None and record.cataloger == "java-archive" and record.path == path
    assert all(p.type == PackageType.MAVEN for p in record.packages)
    return record


def rows(record: PathRecord) -> list[tuple[str | None, str, str, str, str | None]]:
    return [(p.namespace, p.name, p.version, p.path, p.digests.get("sha1")) for p in record.packages]


TEXT = jar("org.apache.commons", "commons-text", "1.10.0")
LANG = jar("org.apache.commons", "commons-lang3", "3.12.0")


def test_library_jar() -> None:
    (pkg,) = parse("usr/share/java/commons-text-1.10.0.jar", TEXT).packages
    assert pkg == Package(
        type=PackageType.MAVEN, namespace="org.apache.commons", name="commons-text", version="1.10.0",
        path="usr/share/java/commons-text-1.10.0.jar", digests={"sha1": sha1(TEXT)},
        properties={"java:identified_by": "pom.properties"},
    )  # fmt: skip


def test_spring_boot_fat_jar_stored_and_deflated() -> None:
    app = build_zip([
        manifest(Main_Class="org.springframework.boot.loader.JarLauncher", Start_Class="com.example.Demo",
                 Implementation_Title="demo", Implementation_Version="0.0.1-SNAPSHOT"),
        ("BOOT-INF/classes/com/example/Demo.class", b"\xca\xfe\xba\xbe"),
        ("BOOT-INF/lib/commons-text-1.10.0.jar", TEXT, STORED),
        ("BOOT-INF/lib/commons-lang3-3.12.0.jar", LANG, DEFLATED),
        pom_entry("com.example", "demo", "0.0.1-SNAPSHOT"),
    ])  # fmt: skip
    record = parse("app/app.jar", app)
    assert rows(record) == [
        ("com.example", "demo", "0.0.1-SNAPSHOT", "app/app.jar", sha1(app)),
        ("org.apache.commons", "commons-text", "1.10.0", "app/app.jar!/BOOT-INF/lib/commons-text-1.10.0.jar",
         sha1(TEXT)),
        ("org.apache.commons", "commons-lang3", "3.12.0", "app/app.jar!/BOOT-INF/lib/commons-lang3-3.12.0.jar",
         sha1(LANG)),
    ]  # fmt: skip
    assert not record.notes


def test_executable_jar_with_launch_script() -> None:
    script = b"#!/bin/bash\n# Spring Boot launch script\nexec java -jar \"$0\" \"$@\"\n" * 20
    app = build_zip([("BOOT-INF/lib/commons-text-1.10.0.jar", TEXT, STORED), pom_entry("com.example", "demo", "1")],
                    prefix=script)
    assert [r[1] for r in rows(parse("app.jar", app))] == ["demo", "commons-text"]


def test_shaded_jar() -> None:
    shaded = jar("com.example", "tool", "2.0", pom_entry("org.apache.commons", "commons-lang3", "3.12.0"))
    own, inner = parse("opt/tool-2.0.jar", shaded).packages
    assert (own.name, own.digests, own.properties) == ("tool", {"sha1": sha1(shaded)},
                                                       {"java:identified_by": "pom.properties"})
    assert (inner.namespace, inner.name, inner.version, inner.path) == (
        "org.apache.commons", "commons-lang3", "3.12.0", "opt/tool-2.0.jar")
    assert inner.digests == {} and inner.properties == {"java:identified_by": "pom.properties", "java:shaded": "true"}


def test_war_and_ear_nesting() -> None:
    war = build_zip([
        ("WEB-INF/web.xml", b"<web-app/>"), ("WEB-INF/lib/commons-text-1.10.0.jar", TEXT, DEFLATED),
        pom_entry("com.example", "shop", "3.1"),
    ])  # fmt: skip
    ear = build_zip([("shop.war", war, STORED), ("lib/commons-lang3-3.12.0.jar", LANG, DEFLATED),
                     ("META-INF/application.xml", b"<application/>")])
    record = parse("srv/portal-1.0.ear", ear)
    assert rows(record) == [
        (None, "portal", "1.0", "srv/portal-1.0.ear", sha1(ear)),
        ("com.example", "shop", "3.1", "srv/portal-1.0.ear!/shop.war", sha1(war)),
        ("org.apache.commons", "commons-text", "1.10.0",
         "srv/portal-1.0.ear!/shop.war!/WEB-INF/lib/commons-text-1.10.0.jar", sha1(TEXT)),
        ("org.apache.commons", "commons-lang3", "3.12.0", "srv/portal-1.0.ear!/lib/commons-lang3-3.12.0.jar",
         sha1(LANG)),
    ]  # fmt: skip
    types = [p.qualifiers for p in record.packages]
    assert types == [{"type": "ear"}, {"type": "war"}, {}, {}]
    assert record.packages[0].properties == {"java:identified_by": "file-name"}


def test_manifest_only_jar() -> None:
    data = build_zip([
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nImplementation-Title: Legacy\r\n"
                                 b"Implementation-Version: 3.1\r\n .4\r\n\r\n"),
        ("legacy/Tool.class", b"\xca\xfe\xba\xbe"),
    ])  # fmt: skip
    (pkg,) = parse("opt/legacy-tool.jar", data).packages
    assert (pkg.namespace, pkg.name, pkg.version, pkg.properties) == (
        None, "legacy-tool", "3.1.4", {"java:identified_by": "MANIFEST.MF"})


def test_hpi_type_qualifier_and_nothing_to_report() -> None:
    plugin = build_zip([manifest(Plugin_Version="1.2")])
    assert parse("var/jenkins/plugins/git.jpi", plugin).packages[0].qualifiers == {"type": "hpi"}
    assert CATALOGER.parse("lib/app.jar", io.BytesIO(b := build_zip([("a.class", b"x")])), len(b)) is None


def test_pom_without_version_is_a_note() -> None:
    data = build_zip([("META-INF/maven/g/a/pom.properties", b"groupId=g\nartifactId=a\n"), pom_entry("g", "b", "1")])
    record = parse("x.jar", data)
    assert [p.name for p in record.packages] == ["b"]
    assert record.notes == ["x.jar!/META-INF/maven/g/a/pom.properties: no version; skipped"]


def test_bad_escape_in_pom_is_a_note() -> None:
    data = build_zip([("META-INF/maven/g/a/pom.properties", b"version=\\u12"), pom_entry("g", "b", "1")])
    record = parse("x.jar", data)
    assert [p.name for p in record.packages] == ["b"] and "uXXXX" in record.notes[0]


@pytest.mark.parametrize("data", [b"", b"not a zip", b"PK\x03\x04" + b"\0" * 100, build_zip([("a", b"b")])[:-30]])
def test_not_an_archive(data: bytes) -> None:
    with pytest.raises(CatalogError, match=r"^x\.jar: "):
        CATALOGER.parse("x.jar", io.BytesIO(data), len(data))


def test_catalog_archive_function_matches_class() -> None:
    assert catalog_archive("a/commons-text.jar", io.BytesIO(TEXT), len(TEXT)) == parse("a/commons-text.jar", TEXT)


def test_empty_archive_and_odd_member_names() -> None:
    empty = build_zip([])
    assert CATALOGER.parse("empty-1.0.jar", io.BytesIO(empty), len(empty)) is not None  # named by its file name
    assert CATALOGER.parse("empty.jar", io.BytesIO(empty), len(empty)) is None
    odd = build_zip([("", b"x"), ("dir.jar/", b""), ("META-INF/maven//a/pom.properties", b"version=1"),
                     ("lib/.jar", b"not an archive name", STORED), ("lib/bad.jar", b"not a zip", STORED),
                     pom_entry("g", "a", "1")])
    record = parse("x.jar", odd)
    assert [p.name for p in record.packages] == ["a"]
    assert len(record.notes) == 1 and record.notes[0].startswith("x.jar!/lib/bad.jar: ")
