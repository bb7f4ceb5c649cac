"""The CycloneDX document on made-up analyses and findings with odd packages (no version, licenses of each kind,
namespaces, qualifiers, properties, vendor or maintainer, packages sharing a ``bom-ref``...): valid CycloneDX 1.6,
and the very text cyclonedx-python-lib's object model writes for the same analysis
(:mod:`tests.sbom.library_oracle`)."""

from __future__ import annotations

import json
import string
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagescan.findings import Cvss, Severity, VulnerabilityFinding
from imagescan.image.manifest import Platform, ResolvedImage
from imagescan.image.reference import parse_reference
from imagescan.merge import MergedImage
from imagescan.models import OSRelease, Package, PackageType
from imagescan.sbom.cyclonedx import build_document, to_json, validation_errors
from imagescan.sbom.purl import package_purl
from imagescan.sbom.vulnerabilities import component_ref
from imagescan.scan import ImageAnalysis
from tests.sbom.library_oracle import library_json

TIMESTAMP = datetime(2026, 1, 1, tzinfo=UTC)
SERIAL = UUID("00000000-0000-4000-8000-000000000000")
DIGEST = "sha256:" + "ab" * 32
LICENSES = [None, "MIT", "mit", "Apache-2.0 OR MIT", "GPL 2.0", "Apache 2.0", "GPLv2+ and BSD", "Ruby, MIT",
            "MIT WITH Apache-2.0", " "]
TEXT = st.text(alphabet=string.ascii_letters + string.digits + "-._+~:@/ é", min_size=1, max_size=8)
MAYBE = st.one_of(st.none(), st.just(""), TEXT)


def analysis_of(packages: list[Package], os: OSRelease | None, reference: str = "docker.io/library/app:1"
                ) -> ImageAnalysis:
    image = ResolvedImage(manifest_digest=DIGEST, manifest_media_type="application/vnd.oci.image.manifest.v1+json",
                          config_digest="sha256:" + "cd" * 32, config={}, layers=[], diff_ids=[],
                          platform=Platform("linux", "arm64", "v8"))
    return ImageAnalysis(reference=parse_reference(reference), image=image, digest=DIGEST, layers=[],
                         merged=MergedImage(packages=packages), os=os)


packages = st.builds(
    Package,
    type=st.sampled_from(list(PackageType)),
    # a name that is only blanks and slashes has no purl: packageurl's to_string() fails on it (TypeError)
    name=st.sampled_from(["zlib", "Zlib", "lodash", "requests", "a b", "é"]) | TEXT.filter(lambda t: t.strip(" /")),
    namespace=st.one_of(st.none(), st.just(""), st.sampled_from(["@types", "org.apache", "github.com/x"])),
    version=st.sampled_from(["", "1.0", "1:2.3-4", "1.0"]) | TEXT,
    arch=st.one_of(st.none(), st.sampled_from(["amd64", "noarch"])),
    epoch=st.one_of(st.none(), st.integers(0, 3)),
    source_name=MAYBE,
    source_version=MAYBE,
    license=st.sampled_from(LICENSES),
    vendor=MAYBE,
    maintainer=MAYBE,
    path=st.sampled_from(["", "var/lib/dpkg/status", "app/package.json", "lib/a b.jar"]),  # shared: equal bom-refs
    layer_diff_id=st.one_of(st.none(), st.just("sha256:" + "ef" * 32)),
    qualifiers=st.dictionaries(st.sampled_from(["type", "classifier", "os"]), TEXT, max_size=2),
    properties=st.dictionaries(st.sampled_from(["path", "layer_diff_id", "go:main", "a", "z"]), MAYBE.filter(
        lambda v: v is not None), max_size=3),
    component_type=st.sampled_from(["library", "application"]),
)
systems = st.one_of(st.none(), st.builds(
    OSRelease, id=st.sampled_from(["debian", "alpine", "rhel"]), version_id=st.one_of(st.none(), TEXT),
    pretty_name=MAYBE, source=st.sampled_from(["etc/os-release", ""]),
))
references = st.sampled_from(["docker.io/library/app:1", "oci:/tmp/Some Layout:tag", "registry:5000/a/b@" + DIGEST])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(packages, max_size=8), systems, references)
def test_same_document_as_the_library(pkgs: list[Package], os: OSRelease | None, reference: str) -> None:
    analysis = analysis_of(pkgs, os, reference)
    ours = to_json(build_document(analysis, timestamp=TIMESTAMP, serial=SERIAL))
    assert ours == library_json(analysis, timestamp=TIMESTAMP, serial=SERIAL)


def _check_structure(doc: dict[str, Any]) -> None:
    refs = [c["bom-ref"] for c in doc.get("components", [])]
    assert len(refs) == len(set(refs))
    assert [d["ref"] for d in doc["dependencies"]] == sorted(["image", *refs])
    image = next(d for d in doc["dependencies"] if d["ref"] == "image")
    assert image.get("dependsOn", []) == sorted(refs)
    for component in doc.get("components", []):
        names = [(p["name"], p["value"]) for p in component["properties"]]
        assert names == sorted(set(names))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(packages, max_size=6), systems)
def test_odd_packages_give_valid_cyclonedx(pkgs: list[Package], os: OSRelease | None) -> None:
    document = to_json(build_document(analysis_of(pkgs, os), timestamp=TIMESTAMP, serial=SERIAL))
    assert validation_errors(document) is None
    _check_structure(json.loads(document))


def _odd_packages() -> list[Package]:
    return [
        Package(type=PackageType.NPM, name="nover", version="", path="app/package.json"),
        Package(type=PackageType.MAVEN, namespace="org.apache", name="commons", version="1.0", license="Apache-2.0",
                qualifiers={"type": "war"}, properties={"java:identified_by": "pom.properties"}, path="a.war"),
        Package(type=PackageType.NPM, namespace="@types", name="node", version="20", license="MIT OR Apache-2.0",
                path="app/node_modules/@types/node/package.json"),
        Package(type=PackageType.PYPI, name="pkg", version="1", license="Python Software Foundation License",
                vendor="", maintainer="Someone <a@b.c>", path="x/METADATA"),
        Package(type=PackageType.DEB, name="zlib1g", version="1:1.2", arch="amd64", source_name="zlib",
                source_version="1.2", vendor="Debian", path="var/lib/dpkg/status"),
        Package(type=PackageType.DEB, name="zlib1g", version="1:1.2", arch="amd64", source_name="zlib",
                source_version="1.2", path="var/lib/dpkg/status"),  # the same bom-ref: written once
        Package(type=PackageType.GENERIC, name="python", version="3.12.1", component_type="application",
                properties={"path": "usr/bin/python3", "layer_diff_id": ""}, path="usr/bin/python3.12"),
    ]


@pytest.mark.parametrize("os", [None, OSRelease(id="debian", version_id="12", pretty_name="Debian 12",
                                                source="etc/os-release"), OSRelease(id="alpine")])
def test_a_hand_picked_image_gives_valid_cyclonedx(os: OSRelease | None) -> None:
    analysis = analysis_of(_odd_packages(), os)
    document = to_json(build_document(analysis, timestamp=TIMESTAMP, serial=SERIAL))
    assert validation_errors(document) is None
    assert document == library_json(analysis, timestamp=TIMESTAMP, serial=SERIAL)
    doc = json.loads(document)
    _check_structure(doc)
    by_name = {c["name"]: c for c in doc["components"]}
    assert by_name["nover"]["version"] == ""
    assert by_name["commons"]["group"] == "org.apache"
    assert by_name["commons"]["purl"] == "pkg:maven/org.apache/commons@1.0?type=war"
    assert by_name["node"]["licenses"] == [{"expression": "MIT OR Apache-2.0"}]
    assert by_name["pkg"]["licenses"] == [{"license": {"name": "Python Software Foundation License"}}]
    assert by_name["pkg"]["supplier"] == {"name": "Someone <a@b.c>"}
    assert by_name["python"]["type"] == "application"
    assert [c["name"] for c in doc["components"]].count("zlib1g") == 1
    assert doc["specVersion"] == "1.6" and doc["serialNumber"] == SERIAL.urn
    assert doc["metadata"]["timestamp"] == "2026-01-01T00:00:00+00:00"


def test_an_empty_image() -> None:
    document = to_json(build_document(analysis_of([], None), timestamp=TIMESTAMP, serial=SERIAL))
    assert validation_errors(document) is None
    doc = json.loads(document)
    assert "components" not in doc and doc["dependencies"] == [{"ref": "image"}]
    assert document == library_json(analysis_of([], None), timestamp=TIMESTAMP, serial=SERIAL)


def test_an_unknown_component_type_is_refused() -> None:
    pkg = Package(type=PackageType.NPM, name="x", version="1", component_type="gadget")
    with pytest.raises(ValueError, match="gadget"):
        build_document(analysis_of([pkg], None))


def test_the_model_is_not_loaded() -> None:
    code = ("import sys, imagescan.sbom.cyclonedx; "
            "print(sorted(m for m in sys.modules if m.startswith(('cyclonedx', 'license_expression', 'pydantic'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# --- vulnerabilities (scan --format cyclonedx) ---

URLS = ["https://example.com/a", "https://example.com/a b", "https://example.com/%zz", "https://x/#a#b",
        "https://example.com/{x}", "https://example.com/a", "https://example.com/%41"]
ALIASES = ["CVE-2024-1", "GHSA-aaaa-bbbb-cccc", "PYSEC-2024-1", "DSA-1-1", "RHSA-2024:1", "ALAS-x", "CVE-2024-1%",
           "GO-2024-1"]
VECTORS = ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
           "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "AV:N/AC:L/Au:N/C:P/I:P/A:P",
           "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P", "OWASP/SL:1", "garbage"]
FIX_STATES: list[Literal["fixed", "not-fixed", "wont-fix", "end-of-life"]] = [
    "fixed", "not-fixed", "wont-fix", "end-of-life"]
cvss = st.builds(Cvss, vector=st.sampled_from(VECTORS),
                 score=st.one_of(st.none(), st.sampled_from([0.0, 7.45, 7.5, 9.8, 0.05]), st.floats(0, 10)),
                 version=st.sampled_from([None, "2.0", "3.1", "4.0"]))


@st.composite
def findings(draw: st.DrawFn) -> list[VulnerabilityFinding]:
    count = draw(st.integers(0, 6))
    made = []
    for index in range(count):
        fix_state = draw(st.sampled_from(FIX_STATES))
        made.append(VulnerabilityFinding(
            id=f"{index:032x}",  # unique: the library gives a repeated bom-ref a random replacement
            severity=draw(st.sampled_from(list(Severity))), title=draw(TEXT),
            description=draw(st.one_of(st.none(), TEXT)), remediation=draw(st.one_of(st.none(), TEXT)),
            vulnerability_id=draw(st.sampled_from(["CVE-2024-1", "CVE-2024-2", "GHSA-x"])),
            aliases=draw(st.lists(st.sampled_from(ALIASES), max_size=4)),
            purl="pkg:npm/lodash@4.17.15", package_name="lodash", installed_version=draw(TEXT),
            fix_state=fix_state, known_exploited=draw(st.booleans()),
            epss=draw(st.one_of(st.none(), st.floats(0, 1))), cvss=draw(st.one_of(st.none(), cvss)),
            data_source=draw(st.sampled_from(["records.json", "debian-tracker", "osv"])),
            path=draw(st.sampled_from([None, "app/node_modules/lodash/package.json"])),
            references=draw(st.lists(st.sampled_from(URLS), max_size=4)),
            source_package=draw(st.one_of(st.none(), TEXT)),
            severity_source=draw(st.one_of(st.none(), st.sampled_from(["cvss_v3", "debian-tracker urgency"]))),
            fix_state_reason=draw(st.one_of(st.none(), st.just(""), TEXT)),
        ))
    return made


LODASH = Package(type=PackageType.NPM, name="lodash", version="4.17.15", path="app/node_modules/lodash/package.json")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(findings())
def test_same_vulnerabilities_as_the_library(found: list[VulnerabilityFinding]) -> None:
    analysis = analysis_of([LODASH], None)
    ours = to_json(build_document(analysis, timestamp=TIMESTAMP, serial=SERIAL, findings=found))
    assert ours == library_json(analysis, timestamp=TIMESTAMP, serial=SERIAL, findings=found)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(findings())
def test_vulnerabilities_are_valid_cyclonedx(found: list[VulnerabilityFinding]) -> None:
    analysis = analysis_of([LODASH], None)
    document = to_json(build_document(analysis, timestamp=TIMESTAMP, serial=SERIAL, findings=found))
    assert validation_errors(document) is None
    refs = {c["bom-ref"] for c in json.loads(document)["components"]}
    for entry in json.loads(document).get("vulnerabilities", []):
        assert {a["ref"] for a in entry["affects"]} <= refs | {component_ref(f) for f in found}


def _finding(finding_id: str, **changes: Any) -> VulnerabilityFinding:
    purl = package_purl(LODASH, None).to_string()
    fields: dict[str, Any] = dict(id=finding_id, severity=Severity.HIGH, title="t", vulnerability_id="CVE-2024-9",
                                  purl=purl, package_name="lodash", installed_version="4.17.15", fix_state="fixed",
                                  data_source="osv", path=LODASH.path)
    return VulnerabilityFinding(**(fields | changes))


def test_repeated_findings_keep_unique_references() -> None:
    analysis = analysis_of([LODASH], None)
    found = [_finding("a" * 32), _finding("a" * 32), _finding("a" * 32, title="other"), _finding("b" * 32),
             _finding("c" * 32, installed_version="")]
    document = to_json(build_document(analysis, findings=found))
    assert validation_errors(document) is None
    entries = json.loads(document)["vulnerabilities"]
    assert [e["bom-ref"] for e in entries] == [f"vulnerability:{'a' * 32}", f"vulnerability:{'a' * 32}#2",
                                               f"vulnerability:{'b' * 32}", f"vulnerability:{'c' * 32}"]
    assert entries[1]["description"] == "other"
    assert entries[3]["affects"] == [{"ref": f"{found[0].purl}#{LODASH.path}"}]  # no version to name
