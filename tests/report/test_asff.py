"""ASFF (``scan --format asff`` and the Security Hub sink): a golden file of a hand-made report with every kind of
finding, botocore's validation plus our own checks, deterministic Ids (one per package, never one per CVE), clean
truncation, and the CLI's account and Region."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagescan.cli import run
from imagescan.findings import Severity
from imagescan.report.asff import (
    AsffError,
    AsffTarget,
    Observation,
    PlatformContext,
    asff_finding,
    asff_id,
    build_asff,
    cli_target,
    report_asff,
    truncate,
)
from tests.golden import assert_golden
from tests.report.asff_fixture import DIGEST, LAYER_DIGESTS, assert_valid_asff, handmade_report

GOLDEN = Path(__file__).parent / "golden"
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
FIRST = dt.datetime(2026, 1, 1, 12, 0, 0, 250000, tzinfo=dt.UTC)
LAST = dt.datetime(2026, 2, 1, 8, 30, tzinfo=dt.UTC)
UPDATED = dt.datetime(2026, 2, 1, 8, 31, 5, tzinfo=dt.UTC)


def _target(**kw: Any) -> AsffTarget:
    args: dict[str, Any] = {"tags": ["1.4.2"], "pushed_at": dt.datetime(2026, 1, 1, 11, 59, tzinfo=dt.UTC)}
    args.update(kw)
    return AsffTarget.for_registry_image("111122223333", "us-east-1", REGISTRY, "team/web", DIGEST, **args)


def _asff(report: dict[str, Any] | None = None, target: AsffTarget | None = None) -> list[dict[str, Any]]:
    return report_asff(report or handmade_report(), target or _target(), Observation(FIRST, LAST, UPDATED))


def test_golden_asff_of_every_kind() -> None:
    findings = _asff()
    assert_valid_asff(findings)
    assert sorted({f["ProductFields"]["imagescan/kind"] for f in findings}) == [
        "end-of-life", "misconfiguration", "scan-incomplete", "secret", "unwanted-software", "vulnerability"]
    assert_golden(GOLDEN / "handmade.asff.json", findings)


def test_vulnerability_details() -> None:
    by_package = {f["Vulnerabilities"][0]["VulnerablePackages"][0]["Name"]: f
                  for f in _asff() if "Vulnerabilities" in f}
    libssl = by_package["libssl3"]
    vuln = libssl["Vulnerabilities"][0]
    assert vuln["Id"] == "CVE-2024-1001" and vuln["RelatedVulnerabilities"] == ["DSA-9001-1"]
    assert vuln["VulnerablePackages"] == [{
        "Name": "libssl3", "Epoch": "1", "Version": "3.0.11", "Release": "1~deb12u2", "Architecture": "amd64",
        "PackageManager": "OS", "FilePath": "var/lib/dpkg/status", "FixedInVersion": "3.0.16-1~deb12u1",
        "Remediation": "Upgrade libssl3 to 3.0.16-1~deb12u1 or later", "SourceLayerHash": LAYER_DIGESTS[1]}]
    assert vuln["Cvss"] == [{"BaseVector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "Version": "3.1",
                             "BaseScore": 9.8, "Source": "debian-tracker"}]
    assert vuln["FixAvailable"] == "YES" and vuln["ExploitAvailable"] == "YES" and vuln["EpssScore"] == 0.91
    assert vuln["Vendor"] == {"Name": "debian-tracker", "Url": "https://security-tracker.debian.org/tracker/DSA-9001-1",
                              "VendorSeverity": "HIGH"}
    assert vuln["ReferenceUrls"] == ["https://security-tracker.debian.org/tracker/DSA-9001-1"]
    assert libssl["Types"] == ["Software and Configuration Checks/Vulnerabilities/CVE"]
    assert libssl["GeneratorId"] == "imagescan/vulnerability/deb"
    lodash = by_package["lodash"]["Vulnerabilities"][0]
    assert lodash["FixAvailable"] == "NO" and lodash["ExploitAvailable"] == "NO"
    assert lodash["VulnerablePackages"][0]["PackageManager"] == "NODEPKG"
    assert "VendorSeverity" not in lodash["Vendor"]  # rated from CVSS, not by a vendor
    resource = libssl["Resources"][0]
    assert resource == {
        "Type": "AwsEcrContainerImage", "Partition": "aws", "Region": "us-east-1",
        "Id": f"arn:aws:ecr:us-east-1:123456789012:repository/team/web/{DIGEST}",
        "Details": {"AwsEcrContainerImage": {
            "RegistryId": "123456789012", "RepositoryName": "team/web", "ImageDigest": DIGEST,
            "Architecture": "x86_64", "ImageTags": ["1.4.2"], "ImagePublishedAt": "2026-01-01T11:59:00.000Z"}}}
    assert libssl["AwsAccountId"] == "111122223333"
    assert libssl["ProductArn"] == "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default"
    assert (libssl["CreatedAt"], libssl["FirstObservedAt"]) == ("2026-01-01T12:00:00.250Z",) * 2
    assert (libssl["LastObservedAt"], libssl["UpdatedAt"]) == ("2026-02-01T08:30:00.000Z", "2026-02-01T08:31:05.000Z")


def test_types_per_kind() -> None:
    types = {f["ProductFields"]["imagescan/kind"]: f["Types"] for f in _asff()}
    assert types["secret"] == ["Sensitive Data Identifications/Passwords"]
    assert types["misconfiguration"] == ["Software and Configuration Checks/Industry and Regulatory Standards"]
    secret = next(f for f in _asff() if f["ProductFields"]["imagescan/kind"] == "secret")
    assert "wJal" in secret["Description"] and "deleted" in secret["Description"]
    assert secret["GeneratorId"] == "imagescan/secret/aws-access-key"


def test_ids_are_deterministic_per_package_and_platform() -> None:
    first, again = _asff(), _asff()
    ids = [f["Id"] for f in first]
    assert ids == [f["Id"] for f in again] and len(set(ids)) == len(ids)
    cve = [f for f in first if f.get("Vulnerabilities", [{}])[0].get("Id") == "CVE-2024-1001"]
    assert len(cve) == 2 and cve[0]["Id"] != cve[1]["Id"]  # one CVE, two packages: two findings
    later = report_asff(handmade_report(), _target(), Observation.at(UPDATED + dt.timedelta(days=40)))
    assert [f["Id"] for f in later] == ids  # no timestamp in the Id
    assert all(i.startswith(f"{REGISTRY}/team/web@{DIGEST}/linux/amd64/") for i in ids)
    arm = report_asff(handmade_report(platform="linux/arm64"), _target(), Observation.at(UPDATED))
    assert not set(ids) & {f["Id"] for f in arm}
    assert arm[0]["Resources"][0]["Details"]["AwsEcrContainerImage"]["Architecture"] == "arm64"


def test_long_texts_and_names_stay_within_limits() -> None:
    report = handmade_report()
    report["findings"][0]["title"] = "word " * 200
    report["findings"][0]["description"] = "x" * 5000
    report["findings"][0]["remediation"] = "upgrade " * 200
    target = _target()
    long_target = AsffTarget.for_registry_image("111122223333", "us-east-1", REGISTRY, "a/" * 120 + "b", DIGEST)
    findings = report_asff(report, target, Observation.at(UPDATED)) + report_asff(report, long_target,
                                                                                  Observation.at(UPDATED))
    assert_valid_asff(findings)
    assert findings[0]["Title"].endswith("word...") and len(findings[0]["Title"]) <= 256
    assert findings[0]["Description"].endswith("...") and len(findings[0]["Description"]) == 1024
    assert findings[0]["Remediation"]["Recommendation"]["Text"].endswith("upgrade...")
    long_ids = [f["Id"] for f in findings[len(findings) // 2:]]
    assert all(len(i) <= 512 for i in long_ids) and len(set(long_ids)) == len(long_ids)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400), st.integers(min_value=4, max_value=300))
def test_truncate_is_a_clean_prefix(text: str, limit: int) -> None:
    out = truncate(text, limit)
    assert len(out) <= limit
    if len(text.strip()) <= limit:
        assert out == text.strip()
    else:
        assert out.endswith("...") and text.strip().startswith(out[:-3])


_OPTIONAL = st.one_of(st.none(), st.text(max_size=30), st.integers(), st.booleans(), st.floats(allow_nan=False))


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(["vulnerability", "secret", "misconfiguration", "unwanted-software", "end-of-life",
                             "scan-incomplete", "something-new"]),
       severity=st.sampled_from([s.value for s in Severity]),
       extra=st.dictionaries(st.sampled_from(["title", "description", "remediation", "purl", "package_name",
                                              "installed_version", "fixed_version", "fix_state", "path", "rule", "code",
                                              "vulnerability_id", "data_source", "references", "aliases", "cvss",
                                              "epss", "known_exploited", "layer_diff_id", "masked", "line",
                                              "severity_source", "reason", "evidence"]), _OPTIONAL, max_size=12))
def test_any_finding_shape_gives_valid_asff(kind: str, severity: str, extra: dict[str, Any]) -> None:
    finding = {**extra, "id": "0" * 32, "kind": kind, "severity": severity}
    for key in ("references", "aliases"):
        if key in finding and not isinstance(finding[key], list):
            finding[key] = [finding[key]]
    if "cvss" in finding and finding["cvss"] is not None:
        finding["cvss"] = {"vector": str(finding["cvss"]), "score": 5.0}
    if "epss" in finding and not isinstance(finding["epss"], float):
        finding["epss"] = None
    asff = asff_finding(finding, _target(), PlatformContext("linux/amd64", DIGEST), Observation.at(UPDATED))
    assert_valid_asff([asff])
    assert asff["Id"] == asff_id(_target(), PlatformContext("linux/amd64", DIGEST), finding)


def test_cli_target_from_env_or_the_ecr_host() -> None:
    report = handmade_report(reference=f"{REGISTRY}/team/web:1.4.2")
    from_host = cli_target(report, env={})
    assert (from_host.account_id, from_host.region, from_host.tags) == ("123456789012", "us-east-1", ("1.4.2",))
    assert from_host.image_key == f"{REGISTRY}/team/web@{DIGEST}"
    overridden = cli_target(report, env={"AWS_ACCOUNT_ID": "111122223333", "AWS_REGION": "eu-west-1"})
    assert (overridden.account_id, overridden.region) == ("111122223333", "eu-west-1")
    local = handmade_report(reference="oci:/tmp/layout")
    with pytest.raises(AsffError, match="AWS_ACCOUNT_ID and AWS_REGION"):
        cli_target(local, env={})
    with pytest.raises(AsffError, match="set AWS_REGION"):
        cli_target(local, env={"AWS_ACCOUNT_ID": "111122223333"})
    with pytest.raises(AsffError, match="12 digits"):
        cli_target(local, env={"AWS_ACCOUNT_ID": "1234", "AWS_DEFAULT_REGION": "eu-west-1"})
    findings = build_asff(local, env={"AWS_ACCOUNT_ID": "111122223333", "AWS_DEFAULT_REGION": "eu-west-1"},
                          now=UPDATED)
    assert_valid_asff(findings)
    assert {f["Resources"][0]["Type"] for f in findings} == {"Container"}
    assert findings[0]["Resources"][0]["Details"]["Container"]["ImageId"] == DIGEST


def test_the_same_finding_from_the_cli_and_the_pipeline_has_the_same_id() -> None:
    report = handmade_report(reference=f"{REGISTRY}/team/web:1.4.2")
    cli = build_asff(report, env={"AWS_ACCOUNT_ID": "111122223333", "AWS_REGION": "us-east-1"}, now=UPDATED)
    assert [f["Id"] for f in cli] == [f["Id"] for f in _asff()]


def test_cli_format_asff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from fixtures.build import build

    layout = build("small")
    monkeypatch.setenv("IMAGESCAN_DB", str(tmp_path / "none.db"))
    monkeypatch.delenv("AWS_ACCOUNT_ID", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setattr("imagescan.cli._open_db", lambda explicit: None)
    assert run(["scan", f"oci:{layout}", "--format", "asff"]) == 2
    assert "AWS_ACCOUNT_ID and AWS_REGION" in capsys.readouterr().err
    monkeypatch.setenv("AWS_ACCOUNT_ID", "111122223333")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    out = tmp_path / "asff.json"
    assert run(["scan", f"oci:{layout}", "--format", "asff", "-o", str(out)]) == 0
    findings = json.loads(out.read_text())
    assert isinstance(findings, list) and findings
    assert_valid_asff(findings)
    assert all(f["AwsAccountId"] == "111122223333" and ":eu-west-1:" in f["ProductArn"] for f in findings)
    assert any(f["ProductFields"]["imagescan/code"] == "vulnerabilities-not-checked" for f in findings
               if "imagescan/code" in f["ProductFields"])
