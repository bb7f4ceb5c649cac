"""A small hand-made JSON report with one finding of every kind (two vulnerabilities of one CVE in two packages),
and the checks every ASFF finding must pass: botocore's parameter validation of ``BatchImportFindings`` plus what
botocore does not check (enums, dates, lengths, non-blank strings, the taxonomy's namespaces)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import botocore.session
from botocore.validate import ParamValidator

from imagescan.findings import (
    Cvss,
    EndOfLifeFinding,
    Finding,
    IncompleteFinding,
    MisconfigurationFinding,
    SecretFinding,
    Severity,
    UnwantedSoftwareFinding,
    VulnerabilityFinding,
    finding_id,
)
from imagescan.report.json_report import finding_dict

DIGEST = "sha256:" + "a1" * 32
ARM_DIGEST = "sha256:" + "b2" * 32
DIFF_IDS = ["sha256:" + "d1" * 32, "sha256:" + "d2" * 32]
LAYER_DIGESTS = ["sha256:" + "c1" * 32, "sha256:" + "c2" * 32]
CVSS_98 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def vulnerability(digest: str, package: str, version: str, purl: str, *, vuln: str = "CVE-2024-1001",
                  fixed: str | None = "3.0.16-1~deb12u1", severity: Severity = Severity.HIGH,
                  path: str = "var/lib/dpkg/status", layer: int = 1, **extra: Any) -> VulnerabilityFinding:
    fields: dict[str, Any] = {
        "description": "openssl - security update", "aliases": ["DSA-9001-1"],
        "references": ["https://security-tracker.debian.org/tracker/DSA-9001-1"],
        "severity_source": "debian-tracker urgency", "source_package": "openssl", **extra}
    return VulnerabilityFinding(
        id=finding_id(digest, "vulnerability", vuln, purl, path), severity=severity,
        title=f"{vuln} in {package} {version}",
        remediation=f"Upgrade {package} to {fixed} or later" if fixed else None, vulnerability_id=vuln,
        purl=purl, package_name=package, installed_version=version, fixed_version=fixed,
        fix_state="fixed" if fixed else "not-fixed", data_source="debian-tracker", layer_diff_id=DIFF_IDS[layer],
        path=path, **fields)


def handmade_findings(digest: str = DIGEST) -> list[Finding]:
    return [
        vulnerability(digest, "libssl3", "1:3.0.11-1~deb12u2",
                      "pkg:deb/debian/libssl3@1:3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl",
                      known_exploited=True, epss=0.91, cvss=Cvss(vector=CVSS_98, score=9.8, version="3.1")),
        vulnerability(digest, "openssl", "1:3.0.11-1~deb12u2",
                      "pkg:deb/debian/openssl@1:3.0.11-1~deb12u2?arch=amd64&distro=debian-12"),
        VulnerabilityFinding(
            id=finding_id(digest, "vulnerability", "GHSA-mnop-qrst-uvwx", "pkg:npm/lodash@4.17.4",
                          "app/node_modules/lodash/package.json"),
            severity=Severity.MEDIUM, title="GHSA-mnop-qrst-uvwx in lodash 4.17.4",
            description="Prototype pollution in lodash", vulnerability_id="GHSA-mnop-qrst-uvwx",
            aliases=["CVE-2024-1007"], purl="pkg:npm/lodash@4.17.4", package_name="lodash", installed_version="4.17.4",
            fixed_version=None, fix_state="not-fixed", data_source="osv", layer_diff_id=DIFF_IDS[1],
            path="app/node_modules/lodash/package.json", severity_source="cvss_v3",
            cvss=Cvss(vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", score=7.5, version="3.1")),
        SecretFinding(
            id=finding_id(digest, "secret", "aws-access-key", "etc/app.env", DIFF_IDS[1], "f" * 64),
            severity=Severity.CRITICAL, title="AWS access key in etc/app.env",
            description="An AWS access key id with its secret key.", remediation="Revoke the key and rebuild the "
            "image without it; pass credentials at run time.", rule="aws-access-key", path="etc/app.env",
            layer_diff_id=DIFF_IDS[1], deleted=True, line=3, masked="AWS_SECRET_ACCESS_KEY=wJal****************",
            fingerprint="f" * 64),
        MisconfigurationFinding(
            id=finding_id(digest, "misconfiguration", "config-root-user", "User"), severity=Severity.MEDIUM,
            title="Image runs as root", description="The config has no USER, so the process runs as root.",
            remediation="End the Dockerfile with `USER app`.", rule="config-root-user", config="User",
            evidence="config no User (defaults to root)"),
        UnwantedSoftwareFinding(
            id=finding_id(digest, "unwanted-software", "tool-network", "pkg:deb/debian/curl@7.88.1-10+deb12u5"),
            severity=Severity.LOW, title="Network tool curl is installed", rule="tool-network",
            purl="pkg:deb/debian/curl@7.88.1-10+deb12u5?arch=amd64&distro=debian-12"),
        EndOfLifeFinding(
            id=finding_id(digest, "end-of-life", "eol-os", "debian", "10"), severity=Severity.HIGH,
            title="Debian 10 reached its end of life on 2024-06-30", description="Debian 10 (buster) gets no "
            "security updates any more (source: endoflife.date).", remediation="Rebuild on Debian 12.",
            product="debian", cycle="10", eol_date="2024-06-30", os="debian 10", rule="eol-os"),
        IncompleteFinding(
            id=finding_id(digest, "scan-incomplete", "layer-unreadable", DIFF_IDS[0], ""), severity=Severity.MEDIUM,
            title="Layer sha256:d1d1d1d1d1d1 could not be fully read: contents may be missing",
            code="layer-unreadable", reason="layer truncated at 2048 bytes", layer_diff_id=DIFF_IDS[0]),
    ]


def handmade_report(digest: str = DIGEST, platform: str = "linux/amd64", findings: Sequence[Finding] | None = None,
                    reference: str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/web:1.4.2",
                    database: bool = True) -> dict[str, Any]:
    chosen = handmade_findings(digest) if findings is None else findings
    return {
        "schema": "imagescan/report/v1",
        "image": {"reference": reference, "digest": digest, "platform": platform, "created": "2026-01-01T00:00:00Z",
                  "os": {"id": "debian", "version_id": "12", "name": "Debian GNU/Linux 12 (bookworm)"},
                  "config": {"user": None, "env": [], "entrypoint": None, "cmd": ["app"], "exposed_ports": []},
                  "layers": [{"digest": d, "diff_id": i, "size": 100, "created_by": None}
                             for d, i in zip(LAYER_DIGESTS, DIFF_IDS, strict=True)]},
        "packages": [],
        "findings": [finding_dict(f) for f in chosen],
        "warnings": [],
        "database": {"built_at": "2026-01-01T00:00:00Z", "schema_version": 1, "sources": []} if database else None,
    }


# -- validation ----------------------------------------------------------------------------------------------------

_SERVICE = botocore.session.get_session().get_service_model("securityhub")
NAMESPACES = ("Software and Configuration Checks", "TTPs", "Effects", "Unusual Behaviors",
              "Sensitive Data Identifications")
REQUIRED = ("SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "CreatedAt", "UpdatedAt", "Title",
            "Description", "Resources")
_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
_DATE_KEYS = {"CreatedAt", "UpdatedAt", "FirstObservedAt", "LastObservedAt", "ImagePublishedAt", "VendorCreatedAt",
              "VendorUpdatedAt"}


def _strings(value: Any, path: str) -> Iterable[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")


def assert_valid_asff(findings: Sequence[Mapping[str, Any]]) -> None:
    """botocore's validation of the request (in chunks of 100), then our own checks of every finding."""
    validator = ParamValidator()
    shape = _SERVICE.operation_model("BatchImportFindings").input_shape
    assert shape is not None
    for start in range(0, len(findings), 100):
        report = validator.validate({"Findings": list(findings[start:start + 100])}, shape)
        assert not report.has_errors(), report.generate_report()
    for finding in findings:
        where = finding.get("Id")
        for key in REQUIRED:
            assert finding.get(key), (where, key)
        assert finding["SchemaVersion"] == "2018-10-08"
        assert len(finding["Id"]) <= 512 and len(finding["GeneratorId"]) <= 512, where
        assert len(finding["Title"]) <= 256 and len(finding["Description"]) <= 1024, where
        assert re.fullmatch(r"\d{12}", finding["AwsAccountId"]), where
        assert re.fullmatch(r"arn:aws[a-z-]*:securityhub:[a-z0-9-]+:(\d{12}):product/\1/default",
                            finding["ProductArn"]), where
        assert finding["ProductArn"].split(":")[4] == finding["AwsAccountId"]
        assert 1 <= len(finding["Resources"]) <= 32
        for resource in finding["Resources"]:
            assert resource["Type"] and resource["Id"]
            if resource["Type"] == "AwsEcrContainerImage":
                details = resource["Details"]["AwsEcrContainerImage"]
                assert re.fullmatch(r"\d{12}", details["RegistryId"]) and details["ImageDigest"].startswith("sha256:")
                assert resource["Id"].startswith("arn:aws") and resource["Id"].endswith(details["ImageDigest"])
                assert details.get("Architecture", "x86_64") in ("arm64", "i386", "x86_64") or details["Architecture"]
        assert finding["Severity"]["Label"] in {s.value for s in Severity}
        assert finding["FindingProviderFields"]["Severity"] == finding["Severity"]
        assert 1 <= len(finding["Types"]) <= 50 and finding["FindingProviderFields"]["Types"] == finding["Types"]
        assert all(t.split("/")[0] in NAMESPACES and t.count("/") <= 2 for t in finding["Types"]), where
        assert finding["RecordState"] in ("ACTIVE", "ARCHIVED") and finding["Workflow"]["Status"] == "NEW"
        fields = finding.get("ProductFields", {})
        assert len(fields) <= 50 and all(len(k) <= 128 and len(v) <= 2048 for k, v in fields.items()), where
        text = finding.get("Remediation", {}).get("Recommendation", {}).get("Text")
        assert text is None or len(text) <= 512
        for vuln in finding.get("Vulnerabilities", []):
            assert vuln["FixAvailable"] in ("YES", "NO", "PARTIAL") and vuln["ExploitAvailable"] in ("YES", "NO")
            assert vuln["Id"] and vuln["Vendor"]["Name"] and vuln["VulnerablePackages"]
            for cvss in vuln.get("Cvss", []):
                assert 0 <= cvss.get("BaseScore", 0) <= 10
            assert 0 <= vuln.get("EpssScore", 0) <= 1
        for path, value in _strings(finding, "finding"):
            assert value.strip(), f"{where}: {path} is blank"
            if path.rsplit(".", 1)[-1] in _DATE_KEYS:
                assert _DATE.match(value), (path, value)
                parsed = dt.datetime.fromisoformat(value)
                assert parsed.tzinfo is not None
        assert finding["CreatedAt"] <= finding["UpdatedAt"] and finding["FirstObservedAt"] <= finding["LastObservedAt"]
