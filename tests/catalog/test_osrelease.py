"""OS release files and OS detection.

``data/osrelease/<case>/`` holds small image trees with the release files real images ship (contents written by
hand from the distributions' published files; in the real Debian, Ubuntu and distroless images ``etc/os-release``
is a symlink to ``usr/lib/os-release``, so only the target is a file here, as the layer walker sees it).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagescan.catalog.base import CatalogError
from imagescan.catalog.osrelease import (
    PRIORITY,
    OsReleaseCataloger,
    detect_os,
    os_release_from_text,
    parse_env_file,
    parse_release_file,
    redhat_release_from_text,
)
from imagescan.models import OSRelease

TREES = Path(__file__).parent / "data" / "osrelease"
CATALOGER = OsReleaseCataloger()


def scan_tree(root: Path) -> OSRelease | None:
    """Feed every file of ``root`` the cataloger wants to it, then detect the OS as the scanner would."""
    records: dict[str, OSRelease] = {}
    files = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
    for path in files:
        if CATALOGER.wants(path):
            data = (root / path).read_bytes()
            record = CATALOGER.parse(path, io.BytesIO(data), len(data))
            assert record is not None and record.cataloger == "os-release" and record.path == path
            if record.os_release is not None:
                records[path] = record.os_release
    return detect_os(
        records,
        has_dpkg_status_d=any(p.startswith("var/lib/dpkg/status.d/") for p in files),
        has_dpkg_status="var/lib/dpkg/status" in files,
    )


# case → (id, version_id, codename, id_like, distroless, source, distro qualifier)
EXPECTED = {
    "debian-12": ("debian", "12.5", "bookworm", [], False, "usr/lib/os-release", "debian-12"),
    "debian-testing": ("debian", None, "trixie", [], False, "usr/lib/os-release", None),
    "ubuntu-22.04": ("ubuntu", "22.04", "jammy", ["debian"], False, "usr/lib/os-release", "ubuntu-22.04"),
    "alpine-3.18": ("alpine", "3.18.4", None, [], False, "etc/os-release", "alpine-3.18"),
    "amazonlinux-2": ("amzn", "2", None, ["centos", "rhel", "fedora"], False, "etc/os-release", "amzn-2"),
    "amazonlinux-2023": ("amzn", "2023", None, ["fedora"], False, "etc/os-release", "amzn-2023"),
    "rhel-9": ("rhel", "9.3", None, ["fedora"], False, "etc/os-release", "rhel-9.3"),
    "rocky-9": ("rocky", "9.3", None, ["rhel", "centos", "fedora"], False, "etc/os-release", "rocky-9.3"),
    "sles-15": ("sles", "15.5", None, ["suse"], False, "etc/os-release", "sles-15.5"),
    "distroless-debian12": ("debian", "12.5", None, [], True, "usr/lib/os-release", "debian-12"),
}


def test_every_tree_has_an_expectation() -> None:
    assert sorted(p.name for p in TREES.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_detect_os_on_real_release_files(case: str) -> None:
    os_id, version_id, codename, id_like, distroless, source, qualifier = EXPECTED[case]
    found = scan_tree(TREES / case)
    assert found is not None
    assert (found.id, found.version_id, found.version_codename) == (os_id, version_id, codename)
    assert found.id_like == id_like
    assert found.distroless is distroless
    assert found.source == source
    assert found.distro_qualifier() == qualifier


def test_real_release_files_parsed_one_by_one() -> None:
    rhel = parse_release_file("etc/redhat-release", (TREES / "rhel-9/etc/redhat-release").read_bytes())
    assert rhel is not None and (rhel.id, rhel.version_id, rhel.name) == ("rhel", "9.3", "Red Hat Enterprise Linux")
    rocky = parse_release_file("etc/redhat-release", (TREES / "rocky-9/etc/redhat-release").read_bytes())
    assert rocky is not None and (rocky.id, rocky.version_id) == ("rocky", "9.3")
    al2 = parse_release_file("etc/system-release", (TREES / "amazonlinux-2/etc/system-release").read_bytes())
    assert al2 is not None and (al2.id, al2.version_id) == ("amzn", "2")
    al2023 = parse_release_file("etc/system-release", (TREES / "amazonlinux-2023/etc/system-release").read_bytes())
    assert al2023 is not None and (al2023.id, al2023.version_id) == ("amzn", "2023")
    alpine = parse_release_file("etc/alpine-release", (TREES / "alpine-3.18/etc/alpine-release").read_bytes())
    assert alpine is not None and (alpine.id, alpine.version_id) == ("alpine", "3.18.4")
    lsb = parse_release_file("etc/lsb-release", (TREES / "ubuntu-22.04/etc/lsb-release").read_bytes())
    assert lsb is not None
    assert (lsb.id, lsb.version_id, lsb.version_codename, lsb.pretty_name) == (
        "ubuntu", "22.04", "jammy", "Ubuntu 22.04.3 LTS")
    sid = parse_release_file("etc/debian_version", b"trixie/sid\n")
    assert sid is not None and (sid.id, sid.version_id, sid.version_codename) == ("debian", None, "trixie")
    ubuntu = parse_release_file("usr/lib/os-release", (TREES / "ubuntu-22.04/usr/lib/os-release").read_bytes())
    assert ubuntu is not None
    assert ubuntu.name == "Ubuntu" and ubuntu.pretty_name == "Ubuntu 22.04.3 LTS"


def test_wants_exactly_the_release_files() -> None:
    for path in PRIORITY:
        assert CATALOGER.wants(path)
    for path in ("/etc/os-release", "etc/os-release.d", "etc/rocky-release", "usr/etc/os-release", "os-release",
                 "etc/centos-release", "var/lib/dpkg/status"):
        assert not CATALOGER.wants(path)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"', "Debian GNU/Linux 12 (bookworm)"),
        ("VERSION_ID=3.18.4", "3.18.4"),
        ("NAME='Single Quoted \\n kept'", "Single Quoted \\n kept"),
        ('NAME="say \\"hi\\" \\$HOME \\\\ \\`x\\`"', 'say "hi" $HOME \\ `x`'),
        ('NAME="not an escape: \\d"', "not an escape: \\d"),
        ("NAME=bare\\ word", "bare word"),
        ('NAME=""', ""),
        ('NAME="unterminated', "unterminated"),
        ("NAME = spaced", "spaced"),
    ],
)
def test_os_release_quoting(line: str, expected: str) -> None:
    assert parse_env_file(line)["NAME" if line.startswith("NAME") else line.split("=")[0]] == expected


def test_os_release_comments_blank_and_bad_lines() -> None:
    text = ("# a comment\n\n  \nnot a pair\n9BAD=x\nID=Debian\r\nVERSION_ID=\"12\"\r\n=novalue\n"
            "ID_LIKE=\"RHEL  fedora\"\n")
    values = parse_env_file(text)
    assert values == {"ID": "Debian", "VERSION_ID": "12", "ID_LIKE": "RHEL  fedora"}
    found = os_release_from_text(text, "etc/os-release")
    assert found is not None
    assert (found.id, found.version_id, found.id_like) == ("debian", "12", ["rhel", "fedora"])


def test_os_release_without_id_defaults_to_linux_and_empty_says_nothing() -> None:
    found = os_release_from_text('NAME="Some Linux"\n', "etc/os-release")
    assert found is not None and found.id == "linux" and found.name == "Some Linux"
    assert os_release_from_text("# nothing here\nFOO=bar\n", "etc/os-release") is None
    record = CATALOGER.parse("etc/os-release", io.BytesIO(b"\n"), 1)
    assert record is not None and record.os_release is None  # still replaces a lower layer's record


def test_distroless_markers() -> None:
    vmware = os_release_from_text('PRETTY_NAME="Distroless"\nID="debian"\nVERSION_ID="12"\n', "usr/lib/os-release")
    assert vmware is not None and vmware.distroless
    home = os_release_from_text(
        'NAME="Debian GNU/Linux"\nID=debian\nHOME_URL="https://github.com/GoogleCloudPlatform/distroless"\n', "x")
    assert home is not None and home.distroless
    plain = os_release_from_text('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n', "x")
    assert plain is not None and not plain.distroless


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("CentOS Linux release 7.9.2009 (Core)", ("centos", "7")),
        ("CentOS Stream release 9", ("centos", "9")),
        ("Fedora release 39 (Thirty Nine)", ("fedora", "39")),
        ("AlmaLinux release 9.3 (Shamrock Pampas Cat)", ("almalinux", "9.3")),
        ("Oracle Linux Server release 8.9", ("ol", "8.9")),
        ("Amazon Linux AMI release 2018.03", ("amzn", "2018.03")),
        ("Amazon Linux release 2023.3.20240131 (Amazon Linux)", ("amzn", "2023")),
        ("Red Hat Enterprise Linux Server release 7.9 (Maipo)", ("rhel", "7.9")),
    ],
)
def test_redhat_release_lines(line: str, expected: tuple[str, str]) -> None:
    found = redhat_release_from_text(line + "\n", "etc/redhat-release")
    assert found is not None and (found.id, found.version_id) == expected


def test_redhat_release_unknown_or_garbage() -> None:
    assert redhat_release_from_text("Mystery OS release 1.0\n", "etc/redhat-release") is None
    assert redhat_release_from_text("hello\n", "etc/redhat-release") is None
    assert parse_release_file("etc/alpine-release", b"not a version\n") is None
    assert parse_release_file("etc/debian_version", b"12.5 extra words\n") is None
    assert parse_release_file("etc/lsb-release", b"DISTRIB_RELEASE=1\n") is None


def test_binary_and_unknown_paths_raise_catalog_error() -> None:
    with pytest.raises(CatalogError):
        CATALOGER.parse("etc/os-release", io.BytesIO(b"ID=x\x00\n"), 6)
    with pytest.raises(CatalogError):
        parse_release_file("etc/issue", b"Debian\n")


def test_latin1_bytes_are_read() -> None:
    found = parse_release_file("etc/os-release", b'ID=x\nNAME="Caf\xe9 Linux"\n')
    assert found is not None and found.name == "Café Linux"


def _rel(os_id: str, version: str | None = None, **kw: object) -> OSRelease:
    return OSRelease(id=os_id, version_id=version, **kw)  # type: ignore[arg-type]


def test_detect_os_priority_and_filling() -> None:
    assert detect_os({}) is None
    records = {
        "etc/debian_version": _rel("debian", "11.9", source="etc/debian_version"),
        "usr/lib/os-release": _rel("debian", "12", source="usr/lib/os-release"),
        "etc/os-release": _rel("ubuntu", "22.04", source="etc/os-release"),
    }
    chosen = detect_os(records)
    assert chosen is not None and (chosen.id, chosen.version_id, chosen.source) == ("ubuntu", "22.04", "etc/os-release")
    # debian_version only refines a matching major version
    del records["etc/os-release"]
    chosen = detect_os(records)
    assert chosen is not None and chosen.version_id == "12"
    records["etc/debian_version"] = _rel("debian", "12.7")
    chosen = detect_os(records)
    assert chosen is not None and chosen.version_id == "12.7"
    # the input is not modified
    assert records["usr/lib/os-release"].version_id == "12"
    # without os-release, a distro file decides; a same-id file fills the missing version
    fallback = detect_os({"etc/redhat-release": _rel("centos", "7"), "etc/debian_version": _rel("debian", "12.1")})
    assert fallback is not None and (fallback.id, fallback.version_id) == ("centos", "7")
    filled = detect_os({"etc/os-release": _rel("alpine"), "etc/alpine-release": _rel("alpine", "3.20.1")})
    assert filled is not None and filled.version_id == "3.20.1"
    # paths outside the known list are ignored
    assert detect_os({"etc/issue": _rel("debian", "12")}) is None


def test_detect_os_distroless_from_dpkg_layout() -> None:
    records = {"usr/lib/os-release": _rel("debian", "12")}
    layout_only = detect_os(records, has_dpkg_status_d=True, has_dpkg_status=False)
    assert layout_only is not None and layout_only.distroless
    both = detect_os(records, has_dpkg_status_d=True, has_dpkg_status=True)
    assert both is not None and not both.distroless
    assert detect_os({}, has_dpkg_status_d=True) is None
    marked = detect_os({"usr/lib/os-release": _rel("debian", "12", distroless=True, source="usr/lib/os-release"),
                        "etc/os-release": _rel("debian", "12", source="etc/os-release")})
    assert marked is not None and marked.distroless and marked.source == "etc/os-release"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PRIORITY), data=st.binary(max_size=400))
def test_random_bytes_give_a_result_or_catalog_error(path: str, data: bytes) -> None:
    try:
        record = CATALOGER.parse(path, io.BytesIO(data), len(data))
    except CatalogError:
        return
    assert record is not None and record.path == path
    if record.os_release is not None:
        assert record.os_release.id == record.os_release.id.lower()


_REAL = sorted(
    ("/".join(p.relative_to(TREES).parts[1:]), p.read_bytes())
    for p in TREES.rglob("*")
    if p.is_file() and CATALOGER.wants("/".join(p.relative_to(TREES).parts[1:]))
)


@settings(max_examples=300, deadline=None)
@given(
    sample=st.sampled_from(_REAL),
    edits=st.lists(st.tuples(st.integers(0, 2000), st.binary(max_size=4), st.integers(0, 4)), max_size=6),
)
def test_mutated_real_files_give_a_result_or_catalog_error(
    sample: tuple[str, bytes], edits: list[tuple[int, bytes, int]]
) -> None:
    path, data = sample
    for pos, insert, delete in edits:
        pos %= len(data) + 1
        data = data[:pos] + insert + data[pos + delete:]
    try:
        record = CATALOGER.parse(path, io.BytesIO(data), len(data))
    except CatalogError:
        return
    assert record is not None
    found = detect_os({path: record.os_release} if record.os_release else {})
    assert found is None or found.id
