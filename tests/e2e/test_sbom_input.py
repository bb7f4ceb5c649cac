"""``imagescan scan sbom:FILE`` end to end: a stored SBOM (ours, Syft's, Trivy's, cdxgen's) re-matched without
pulling anything, against a database whose Debian 12 advisories sit right above the installed source versions, so
that losing a source name or an epoch (what Trivy does on Syft's and cdxgen's SBOMs) loses findings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fixtures import build as fixture_build
from imagescan.cli import run
from imagescan.vulndb.builder import build_database

DATA = Path(__file__).resolve().parents[1] / "sbom" / "data"
ADVISORIES = {
    # source package: (introduced, fixed); installed sources are one step below each fix
    "openssl": ("0", "3.0.22-1~deb12u3"),
    "util-linux": ("0", "2.38.1-5+deb12u4"),  # bsdutils is 1:2.38.1-5+deb12u3: its source has no epoch
    "zlib": ("1:1.2.0", "1:1.2.13.dfsg-2"),  # zlib1g 1:1.2.13.dfsg-1: without its epoch it is below "introduced"
    "shadow": ("1:4.0", "1:4.13+dfsg1-1+deb12u3"),
    "libcap2": ("0", "1:2.66-5"),
    "bash": ("0", "5.2.15-3"),
    "e2fsprogs": ("0", "1.47.0-3"),
    "apt": ("0", "2.6.2"),
    "gcc-12": ("0", "12.2.0-15"),
    "glibc": ("0", "2.36-9+deb12u15"),
    "curl": ("0", "7.88.1-10+deb12u6"),
}
MUST_FIND = {"bsdutils", "zlib1g", "login", "libssl3", "libapt-pkg6.0", "libgcc-s1", "libc6", "bash", "libcap2",
             "logsave"}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sbom-db")
    feeds = root / "osv"
    feeds.mkdir()
    for number, (source, (introduced, fixed)) in enumerate(sorted(ADVISORIES.items()), start=1):
        record = {
            "schema_version": "1.6.0", "id": f"DEBIAN-CVE-2099-{number:04d}", "upstream": [f"CVE-2099-{number:04d}"],
            "modified": "2026-11-01T00:00:00Z", "published": "2026-11-01T00:00:00Z",
            "summary": f"test advisory for {source}",
            "affected": [{"package": {"ecosystem": "Debian:12", "name": source},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": introduced}, {"fixed": fixed}]}],
                          "database_specific": {"urgency": "high"}}],
        }
        (feeds / f"{record['id']}.json").write_text(json.dumps(record))
    out = root / "test.db"
    build_database([feeds], out)
    return out


@pytest.fixture(scope="module")
def our_sbom(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(layout, our SBOM of it) for the ``small`` fixture image (Debian 12 packages, zlib1g with an epoch, libssl3
    from openssl; the debian image is compared through the SBOMs made with the peers' in tests/sbom/data)."""
    layout = fixture_build.build("small")
    out = tmp_path_factory.mktemp("sbom") / "small.cdx.json"
    assert run(["sbom", f"oci:{layout}", "-o", str(out)]) == 0
    return layout, out


def _scan(target: str, db: Path, tmp_path: Path, *extra: str) -> dict[str, Any]:
    out = tmp_path / f"report-{abs(hash(target))}.json"
    assert run(["scan", target, "--db", str(db), "--format", "json", "-o", str(out), *extra]) == 0
    doc: dict[str, Any] = json.loads(out.read_text())
    return doc


def _vulns(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["kind"] == "vulnerability"]


def _key(finding: dict[str, Any]) -> tuple[str, str, str, str | None, str]:
    name = finding["purl"].split("@", 1)[0].rsplit("/", 1)[-1]
    return finding["vulnerability_id"], name, finding["installed_version"], finding["fixed_version"], \
        finding["fix_state"]


def test_our_sbom_gives_the_image_scan_findings(our_sbom: tuple[Path, Path], db: Path, tmp_path: Path) -> None:
    layout, sbom = our_sbom
    image = _scan(f"oci:{layout}", db, tmp_path)
    rematched = _scan(f"sbom:{sbom}", db, tmp_path)
    vulns = _vulns(image)
    assert {_key(f)[1] for f in vulns} == {"zlib1g", "libssl3", "curl"}
    assert sorted(map(json.dumps, vulns)) == sorted(map(json.dumps, _vulns(rematched)))  # same ids, same fields
    assert rematched["image"]["reference"] == f"sbom:{sbom}"
    assert rematched["image"]["digest"] == image["image"]["digest"]
    assert rematched["image"]["os"] == image["image"]["os"] and rematched["image"]["layers"] == []
    assert rematched["packages"] == image["packages"]
    assert rematched["warnings"][0]["code"] == "sbom-input"
    assert not any(f["kind"] in ("secret", "misconfiguration") for f in rematched["findings"])


@pytest.mark.parametrize("tool", ["syft", "trivy", "cdxgen"])
def test_peer_sboms_give_the_same_vulnerabilities(tool: str, db: Path, tmp_path: Path) -> None:
    ours = _scan(f"sbom:{DATA / 'imagescan-debian.cdx.json'}", db, tmp_path)
    theirs = _scan(f"sbom:{DATA / f'{tool}-debian.cdx.json'}", db, tmp_path)
    expected = {_key(f) for f in _vulns(ours)}
    assert {k[1] for k in expected} >= MUST_FIND
    assert {_key(f) for f in _vulns(theirs)} == expected
    assert not [f for f in theirs["findings"] if f["kind"] == "scan-incomplete" and "distro" in f.get("code", "")]


def test_sbom_command_converts_a_peer_sbom_to_ours(tmp_path: Path) -> None:
    out = tmp_path / "ours.cdx.json"
    assert run(["sbom", f"sbom:{DATA / 'trivy-debian.cdx.json'}", "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    purls = {c["name"]: c["purl"] for c in doc["components"] if c["type"] == "library"}
    assert purls["zlib1g"].startswith("pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?") and "upstream=zlib" in purls["zlib1g"]
    assert "upstream=util-linux" in purls["bsdutils"] and len(purls) == 105


def test_scan_sbom_as_cyclonedx_carries_the_vulnerabilities(our_sbom: tuple[Path, Path], db: Path,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "vex.json"
    assert run(["scan", f"sbom:{our_sbom[1]}", "--db", str(db), "--format", "cyclonedx", "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["bomFormat"] == "CycloneDX" and doc.get("vulnerabilities")


@pytest.mark.parametrize(("content", "message"), [
    (b"this is not json", "invalid JSON"),
    (b'{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"}', "an SPDX document"),
    (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": "nope"}', "is not a list"),
])
def test_malformed_sbom_exits_2_with_one_line(content: bytes, message: str, db: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    assert run(["scan", f"sbom:{path}", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and str(path) in err


def test_missing_sbom_exits_2(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["scan", f"sbom:{tmp_path / 'none.json'}", "--db", str(db)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_bad_purls_are_warnings_not_failures(db: Path, tmp_path: Path) -> None:
    doc = json.loads((DATA / "syft-small.cdx.json").read_text())
    doc["components"].append({"type": "library", "name": "broken", "purl": "pkg:deb/"})
    doc["components"].append({"type": "library", "name": "anonymous", "version": "1.0"})
    path = tmp_path / "partly-bad.json"
    path.write_text(json.dumps(doc))
    report = _scan(f"sbom:{path}", db, tmp_path)
    codes = {w["code"]: w["message"] for w in report["warnings"]}
    assert "broken" in codes["sbom-bad-purl"] and "anonymous" in codes["sbom-no-purl"]
    assert {p["name"] for p in report["packages"]} >= {"libssl3", "zlib1g", "requests", "lodash"}
