"""Which pom.properties is the archive's own, and the manifest and file-name fallbacks."""

from __future__ import annotations

from imagescan.catalog.java.filename import parse_file_name
from imagescan.catalog.java.identify import Identity, PomProperties, identify, pom_from_properties


def pom(group: str, artifact: str, version: str) -> PomProperties:
    return PomProperties(f"META-INF/maven/{group}/{artifact}/pom.properties", group, artifact, version)


def run(file: str, manifest: dict[str, str], *poms: PomProperties) -> list[tuple[str | None, str, str, str, bool]]:
    found: list[Identity] = identify(parse_file_name(file), manifest, list(poms))
    return [(i.group, i.artifact, i.version, i.source.value, i.own) for i in found]


TEXT = pom("org.apache.commons", "commons-text", "1.10.0")
LANG = pom("org.apache.commons", "commons-lang3", "3.12.0")


def test_own_by_file_name_with_and_without_version() -> None:
    expected = [("org.apache.commons", "commons-text", "1.10.0", "pom.properties", True)]
    assert run("commons-text-1.10.0.jar", {}, TEXT) == expected
    assert run("usr/share/java/commons-text.jar", {}, TEXT) == expected
    assert run("COMMONS-TEXT.JAR", {}, TEXT) == expected


def test_own_by_maven_file_convention_with_classifier() -> None:
    netty = pom("io.netty", "netty-transport-native-epoll", "4.1.86.Final")
    assert run("netty-transport-native-epoll-4.1.86.Final-linux-x86_64.jar", {"implementation-version": "4.1.86.Final"},
               netty) == [("io.netty", "netty-transport-native-epoll", "4.1.86.Final", "pom.properties", True)]


def test_own_by_manifest_names() -> None:
    demo = pom("com.example", "demo", "0.0.1-SNAPSHOT")
    spring_boot = {"implementation-title": "demo", "implementation-version": "0.0.1-SNAPSHOT"}
    assert run("app.jar", spring_boot, demo, LANG) == [
        ("com.example", "demo", "0.0.1-SNAPSHOT", "pom.properties", True),
        ("org.apache.commons", "commons-lang3", "3.12.0", "pom.properties", False),
    ]
    osgi = {"bundle-symbolicname": "org.apache.commons.commons-text;singleton:=true", "bundle-version": "1.10.0"}
    assert run("renamed.jar", osgi, LANG, TEXT)[0] == TEXT_OWN
    assert run("renamed.jar", {"automatic-module-name": "org.apache.commons.commons-text"}, TEXT)[0] == TEXT_OWN


TEXT_OWN = ("org.apache.commons", "commons-text", "1.10.0", "pom.properties", True)


def test_version_breaks_ties_between_matching_poms() -> None:
    old, new = pom("a", "lib", "1.0"), pom("b", "lib", "2.0")
    assert run("lib-2.0.jar", {}, old, new)[0] == ("b", "lib", "2.0", "pom.properties", True)
    assert run("lib.jar", {}, old, new)[0] == ("a", "lib", "1.0", "pom.properties", True)


def test_single_pom_in_archive_that_says_nothing_else() -> None:
    assert run("app.jar", {"created-by": "Maven"}, TEXT) == [TEXT_OWN]


def test_shaded_only_archive_identified_by_manifest() -> None:
    # A Gradle-built jar with guava shaded in: its own identity is the manifest's version on the file name.
    guava = pom("com.google.guava", "guava", "31.1-jre")
    assert run("myapp.jar", {"implementation-title": "myapp", "implementation-version": "1.4"}, guava) == [
        (None, "myapp", "1.4", "MANIFEST.MF", True),
        ("com.google.guava", "guava", "31.1-jre", "pom.properties", False),
    ]


def test_manifest_version_order() -> None:
    both = {"specification-version": "3.1", "bundle-version": "3.1.0.v2", "implementation-version": "3.1.0"}
    assert run("servlet-api.jar", both) == [(None, "servlet-api", "3.1.0", "MANIFEST.MF", True)]
    assert run("servlet-api.jar", {"specification-version": "3.1"}) == [
        (None, "servlet-api", "3.1", "MANIFEST.MF", True)]
    assert run("servlet-api-3.1.0.jar", {"specification-version": "3.1"})[0][2] == "3.1"


def test_file_name_fallback_and_nothing() -> None:
    assert run("lib/foo-1.2.3.jar", {}) == [(None, "foo", "1.2.3", "file-name", True)]
    assert run("lib/foo.jar", {"main-class": "Foo"}) == []
    # two poms, none of them the archive's, and nothing else about it: both shaded, no own component
    assert [r[4] for r in run("bundle.jar", {}, TEXT, LANG)] == [False, False]


def test_pom_from_properties_defaults_and_missing_version() -> None:
    member = "META-INF/maven/org.example/tool/pom.properties"
    assert pom_from_properties(member, {"version": " 1.0 "}) == PomProperties(member, "org.example", "tool", "1.0")
    assert pom_from_properties(member, {"groupId": "g", "artifactId": "a"}) is None
    assert pom_from_properties("META-INF/maven/x/pom.properties", {"version": "1"}) is None


def test_debian_renamed_jars() -> None:
    # Debian's layouts (checked against its /usr/share/maven-repo links to the same files)
    core = pom("org.apache.maven", "maven-core", "3.8.7")
    assert run("usr/share/java/maven3-core.jar", {"implementation-version": "3.8.7"}, core) == [
        ("org.apache.maven", "maven-core", "3.8.7", "pom.properties", True)]
    provider = pom("org.apache.maven", "maven-slf4j-provider", "3.8.7")
    simple = pom("org.slf4j", "slf4j-simple", "1.7.32")
    assert run("maven3-slf4j-provider.jar", {"implementation-version": "3.8.7"}, provider, simple) == [
        ("org.apache.maven", "maven-slf4j-provider", "3.8.7", "pom.properties", True),
        ("org.slf4j", "slf4j-simple", "1.7.32", "pom.properties", False),
    ]
    cglib = pom("cglib", "cglib", "3.2.12")
    assert run("guice.jar", {"implementation-version": "4.2.3"}, cglib) == [
        (None, "guice", "4.2.3", "MANIFEST.MF", True), ("cglib", "cglib", "3.2.12", "pom.properties", False)]
    annotation = pom("com.google.errorprone", "error_prone_annotation", "2.18.0")
    assert run("error-prone-annotation.jar", {"implementation-version": "9"}, annotation)[0][4] is True


def test_version_agreement_needs_a_single_pom() -> None:
    a, b = pom("g", "a", "2.0"), pom("g", "b", "2.0")
    assert [r[4] for r in run("bundle-2.0.jar", {}, a, b)] == [True, False, False]
    assert run("bundle-2.0.jar", {}, a, b)[0] == (None, "bundle", "2.0", "file-name", True)
