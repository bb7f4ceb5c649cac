"""The SBOM reader on real documents: ours (made here from the fixture images) and Syft's, Trivy's and cdxgen's
of the same images (tests/sbom/data, made by the tools themselves: see README.md there)."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures import build as fixture_build
from imagescan.models import OS_PACKAGE_TYPES, Package
from imagescan.sbom.cyclonedx import sbom_json
from imagescan.sbom.reader import SbomError, SbomInventory, parse_sbom, read_sbom
from imagescan.scan import ImageAnalysis, analyze_image
from tests.needs import missing

DATA = Path(__file__).resolve().parent / "data"
REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("IMAGESCAN_SHARED", REPO_ROOT.parent / "shared"))
RHEL8_PACKAGES = SHARED / "data" / "real-pkgdbs" / "rpm-bdb" / "rhel-8.0-container" / "Packages"
IMAGES = ("small", "debian", "apk", "rpm")


def _layout(name: str) -> Path:
    if name == "rpm":
        if not RHEL8_PACKAGES.is_file():
            missing(f"shared data not found at {SHARED}")
        return fixture_build.build("rpm", rpmdb=str(RHEL8_PACKAGES), os="rhel-8")
    return fixture_build.build(name)


@pytest.fixture(scope="module")
def analyses() -> dict[str, ImageAnalysis]:
    return {}


def _analysis(analyses: dict[str, ImageAnalysis], name: str) -> ImageAnalysis:
    if name not in analyses:
        analyses[name] = analyze_image(f"oci:{_layout(name)}")
    return analyses[name]


def _ours(analyses: dict[str, ImageAnalysis], name: str) -> SbomInventory:
    return parse_sbom(sbom_json(_analysis(analyses, name)).encode(), f"ours-{name}")


def _peer(tool: str, image: str) -> SbomInventory:
    return read_sbom(DATA / f"{tool}-{image}.cdx.json")


def _full(p: Package) -> tuple[Any, ...]:
    return (str(p.type), p.namespace, p.name, p.version, p.epoch, p.arch, p.source_name, p.source_version,
            p.layer_diff_id, p.path, p.license, p.maintainer, p.component_type, tuple(sorted(p.qualifiers.items())))


def _identity(p: Package) -> tuple[str, str, str]:
    """(name, version, source): what the peers are compared on."""
    return p.name, p.version, p.source_name or p.name


def _os_full(p: Package) -> tuple[Any, ...]:
    return str(p.type), p.name, p.version, p.epoch, p.arch, p.source_name, p.source_version


@pytest.mark.parametrize("image", IMAGES)
def test_our_sbom_round_trips(analyses: dict[str, ImageAnalysis], image: str) -> None:
    analysis = _analysis(analyses, image)
    read = _ours(analyses, image)
    expected = [_full(p.model_copy(update={"vendor": None, "maintainer": p.vendor or p.maintainer}))
                for p in analysis.merged.packages]
    assert sorted(map(_full, read.inventory.packages)) == sorted(expected)
    assert read.inventory.digest == analysis.digest
    assert read.inventory.reference == f"sbom:ours-{image}"
    assert read.platform == str(analysis.image.platform)
    assert analysis.os is not None and read.inventory.os is not None
    got, want = read.inventory.os, analysis.os
    assert (got.id, got.version_id, got.pretty_name, got.source) == (want.id, want.version_id, want.pretty_name,
                                                                      want.source)
    assert read.warnings == [] and read.skipped == {}
    assert read.tool is not None and read.tool.startswith("imagescan ")


def test_debian_epochs_sources_and_layers_survive(analyses: dict[str, ImageAnalysis]) -> None:
    packages = {p.name: p for p in _ours(analyses, "debian").inventory.packages}
    assert packages["zlib1g"].version == "1:1.2.13.dfsg-1" and packages["zlib1g"].source_name == "zlib"
    assert (packages["bsdutils"].version, packages["bsdutils"].source_name, packages["bsdutils"].source_version) \
        == ("1:2.38.1-5+deb12u3", "util-linux", "2.38.1-5+deb12u3")  # the source has no epoch
    assert packages["libssl3"].source_name == "openssl"
    base, installed, _purged = _analysis(analyses, "debian").image.diff_ids
    assert packages["dpkg"].layer_diff_id == base and packages["libcurl4"].layer_diff_id == installed


def _committed(image: str) -> SbomInventory:
    """Our SBOM of the very fixture build the peers scanned (made with them: fixture layers are not byte-for-byte
    reproducible, and Debian's mirror moves)."""
    return read_sbom(DATA / f"imagescan-{image}.cdx.json")


@pytest.mark.parametrize("tool", ["syft", "trivy", "cdxgen"])
def test_peers_give_our_debian_inventory(tool: str) -> None:
    ours = [p for p in _committed("debian").inventory.packages if p.type == "deb"]
    peer = _peer(tool, "debian")
    assert len(peer.inventory.packages) == len(ours) == 105
    assert {_identity(p) for p in peer.inventory.packages} == {_identity(p) for p in ours}
    differ = {_os_full(p) for p in ours} ^ {_os_full(p) for p in peer.inventory.packages}
    if tool == "cdxgen":
        # cdxgen records no source version, and lists no source entry for a binNMU'd binary named like its source:
        # the source version of exactly these two is unknown, and taken as the binary's (dpkg's own default).
        assert {(t[1], t[6]) for t in differ} == {("bash", "5.2.15-2"), ("bash", "5.2.15-2+b13"),
                                                  ("libcap2", "1:2.66-4+deb12u3"),
                                                  ("libcap2", "1:2.66-4+deb12u3+b1")}
    else:
        assert differ == set()
    assert peer.warnings == [] and peer.inventory.os is not None and peer.inventory.os.id == "debian"


@pytest.mark.parametrize("image", IMAGES)
@pytest.mark.parametrize("tool", ["syft", "trivy"])
def test_peers_give_our_packages_layers_and_paths(tool: str, image: str) -> None:
    ours = {(p.name, p.version): p for p in _committed(image).inventory.packages if p.type != "generic"}
    peer = _peer(tool, image).inventory
    assert {_os_full(p) for p in peer.packages} == {_os_full(p) for p in ours.values()}
    for pkg in peer.packages:
        mine = ours[(pkg.name, pkg.version)]
        if not (tool == "syft" and image == "apk"):
            # Syft's only evidence of an apk package is lib/apk/db/installed: its layer is whichever layer last
            # rewrote that file, not the package's own.
            assert pkg.layer_diff_id == mine.layer_diff_id, pkg.name
        if tool == "syft" or pkg.type not in OS_PACKAGE_TYPES:
            assert pkg.path == mine.path, pkg.name
        else:
            assert pkg.path == ""  # Trivy names no file for OS packages
    assert ours and peer.os is not None and peer.os.id == _committed(image).inventory.os.id  # type: ignore[union-attr]


def test_peer_operating_systems_and_digests() -> None:
    syft, trivy, cdxgen = (_peer(tool, "debian") for tool in ("syft", "trivy", "cdxgen"))
    assert syft.inventory.os is not None and trivy.inventory.os is not None and cdxgen.inventory.os is not None
    assert (syft.inventory.os.version_id, syft.inventory.os.version_codename) == ("12", "bookworm")
    assert trivy.inventory.os.version_id == "12.15"
    assert (cdxgen.inventory.os.version_id, cdxgen.inventory.os.version_codename, cdxgen.inventory.os.source) \
        == ("12", "bookworm", "purl distro")  # cdxgen writes no operating-system component
    assert syft.inventory.digest == _committed("debian").inventory.digest  # the manifest digest
    assert trivy.inventory.digest == cdxgen.inventory.digest != syft.inventory.digest  # both: the image id
    assert (syft.tool, trivy.tool, cdxgen.tool) == ("syft 1.18.1", "trivy 0.76.0", "cdxgen 12.8.4")
    assert cdxgen.skipped == {"source-package-entry": 52}
    rpm = _peer("trivy", "rpm").inventory.os
    assert rpm is not None and (rpm.id, rpm.version_id) == ("rhel", "8.9")  # Trivy's "redhat"


@pytest.mark.parametrize("tool", ["syft", "trivy"])
def test_peer_rpm_epochs_sources_and_signing_keys(tool: str) -> None:
    peer = _peer(tool, "rpm")
    assert len(peer.inventory.packages) == 25 and peer.skipped == {"rpm-signing-key": 2}
    gmp = next(p for p in peer.inventory.packages if p.name == "gmp")
    assert (gmp.version, gmp.epoch, gmp.source_name, gmp.source_version) == ("6.1.2-8.el8", 1, "gmp", "6.1.2-8.el8")


def test_os_from_trivy_alpine_purls_without_the_os_component() -> None:
    doc = json.loads((DATA / "trivy-apk.cdx.json").read_text())
    doc["components"] = [c for c in doc["components"] if c["type"] != "operating-system"]
    read = parse_sbom(json.dumps(doc).encode())
    assert read.inventory.os is not None
    assert (read.inventory.os.id, read.inventory.os.version_id) == ("alpine", "3.18.4")  # distro=3.18.4 + namespace


def test_language_packages_from_peers() -> None:
    for tool in ("syft", "trivy"):
        got = {(str(p.type), p.name, p.version, p.path) for p in _peer(tool, "small").inventory.packages
               if p.type not in OS_PACKAGE_TYPES}
        assert ("npm", "lodash", "4.17.15", "app/node_modules/lodash/package.json") in got
        assert any(t[:3] == ("pypi", "requests", "2.20.0") and "requests-2.20.0.dist-info" in t[3] for t in got)


def _doc(components: list[dict[str, Any]], **extra: Any) -> bytes:
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components,
                       **extra}).encode()


def test_components_without_usable_purls_are_counted_and_warned() -> None:
    components = [
        {"type": "library", "name": "nopurl", "version": "1"},
        {"type": "library", "name": "bad", "purl": "pkg:/broken"},
        {"type": "library", "name": "bad2", "purl": 42},
        {"type": "library", "name": "gh", "purl": "pkg:github/a/b@1"},
        {"type": "library", "name": "nover", "purl": "pkg:pypi/nover"},
        {"type": "file", "name": "/etc/passwd", "purl": "pkg:generic/passwd"},
        {"type": "library", "name": "ok", "purl": "pkg:pypi/ok@1.0"},
        {"type": "library", "name": "ok", "purl": "pkg:pypi/ok@1.0"},
        "not an object",
    ]
    read = parse_sbom(_doc(components))
    assert [(p.name, p.version) for p in read.inventory.packages] == [("ok", "1.0")]
    assert read.skipped == {"no-purl": 1, "bad-purl": 2, "unsupported-type": 1, "no-version": 1,
                            "not-a-package": 1, "duplicate": 1}
    codes = {w.code: w.message for w in read.warnings}
    assert codes["sbom-no-purl"] == "1 components without a purl were skipped: nopurl"
    assert codes["sbom-bad-purl"].startswith("2 components with an unreadable purl were skipped: bad (")
    assert "gh (pkg:github)" in codes["sbom-unsupported-type"] and "sbom-no-version" in codes
    assert "sbom-no-digest" in codes and "sbom-no-os" not in codes  # no OS packages here


def test_os_packages_without_an_os_are_warned() -> None:
    read = parse_sbom(_doc([{"type": "library", "name": "x", "purl": "pkg:deb/debian/x@1.0?arch=amd64"}]))
    assert read.inventory.os is None and "sbom-no-os" in {w.code for w in read.warnings}


def test_nested_components_and_syft_upstream_versions() -> None:
    purl = "pkg:deb/debian/libcap2@1:2.66-4%2Bdeb12u3%2Bb1?arch=amd64&distro=debian-12&upstream=libcap2%401:2.66-4"
    read = parse_sbom(_doc([{"type": "application", "name": "app", "purl": "pkg:npm/app@1.0.0",
                             "components": [{"type": "library", "name": "libcap2", "purl": purl}]}]))
    app, lib = read.inventory.packages
    assert (app.name, app.component_type) == ("app", "application")
    assert (lib.version, lib.source_name, lib.source_version) == ("1:2.66-4+deb12u3+b1", "libcap2", "1:2.66-4")
    assert read.inventory.os is not None and read.inventory.os.version_id == "12"


@pytest.mark.parametrize(("data", "message"), [
    (b"not json at all", "invalid JSON"),
    (b"<?xml version='1.0'?><bom xmlns='http://cyclonedx.org/schema/bom/1.6'/>", "CycloneDX XML is not supported"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"spdxVersion": "SPDX-2.3", "packages": []}', "an SPDX document"),
    (b'{"bomFormat": "CycloneDX", "specVersion": "2.0"}', "specVersion"),
    (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": {}}', "is not a list"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b"[" * 100000, "nested too deeply"),
])
def test_malformed_documents_raise_one_line(data: bytes, message: str) -> None:
    with pytest.raises(SbomError, match=message) as info:
        parse_sbom(data, "bad.json")
    assert "\n" not in str(info.value) and str(info.value).startswith("bad.json: ")


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(SbomError, match="cannot read the SBOM"):
        read_sbom(tmp_path / "missing.json")


_SAMPLE = json.loads((DATA / "trivy-small.cdx.json").read_text())
_junk = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                 max_size=3), max_leaves=8)


@given(st.lists(st.tuples(st.integers(0, 40), st.sampled_from(["purl", "type", "name", "version", "properties",
                                                                "tags", "evidence", "components", "licenses",
                                                                "supplier"]), _junk), max_size=6))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_sboms_never_crash(mutations: list[tuple[int, str, Any]]) -> None:
    doc = copy.deepcopy(_SAMPLE)
    components = doc["components"]
    for index, key, value in mutations:
        components[index % len(components)][key] = value
    try:
        read = parse_sbom(json.dumps(doc).encode())
    except SbomError:
        return
    assert all(isinstance(p, Package) for p in read.inventory.packages)


@given(st.binary(max_size=200))
@settings(max_examples=200, deadline=None)
def test_random_bytes_never_crash(data: bytes) -> None:
    try:
        read = parse_sbom(data)
    except SbomError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(read, SbomInventory)


@given(st.sampled_from(["pkg:deb/debian/", "pkg:rpm/redhat/", "pkg:apk/alpine/", "pkg:npm/", "pkg:maven/g/",
                        "pkg:golang/", "pkg:", ""]), st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_random_purls_never_crash(prefix: str, rest: str) -> None:
    component = {"type": "library", "name": "x", "purl": prefix + rest, "version": rest[:5]}
    read = parse_sbom(_doc([component]))
    assert len(read.inventory.packages) + sum(read.skipped.values()) == 1
