"""AWS Security Finding Format (ASFF) for Security Hub's ``BatchImportFindings``, built from the JSON report.

Pure: no AWS calls, so the CLI (``scan --format asff``) and the pipeline (:mod:`imagescan.aws.securityhub`) produce
the same findings from the same report.

* ``ProductArn`` is the account's own custom-product ARN,
  ``arn:aws:securityhub:REGION:ACCOUNT:product/ACCOUNT/default``.
* ``Id`` is deterministic: the image (``REGISTRY/REPOSITORY@DIGEST``), the platform, the kind, the rule or
  vulnerability and the report's finding id, which already hashes the package (name, version, arch) and the file
  it was read from. Two packages affected by one CVE are two findings, never one.
* ``Types`` per kind (:data:`TYPES`); ``GeneratorId`` per check and rule (``imagescan/secret/aws-access-key``,
  ``imagescan/vulnerability/deb``...); ``Severity`` and ``Types`` are also given in ``FindingProviderFields``, where
  Security Hub expects a provider's later updates of them.
* The resource is the image: ``AwsEcrContainerImage`` (with ``Details.AwsEcrContainerImage``; its ``Id`` is the
  image ARN ``arn:aws:ecr:REGION:REGISTRY:repository/REPOSITORY/sha256:...``) for ECR images, else ``Container``.
* Vulnerabilities fill ``Vulnerabilities[0]``: the package (name, version split into epoch, version and release for
  OS packages, architecture, package manager in Inspector's vocabulary, the file it was read from, the fixed
  version, the remediation and the digest of the layer that installed it), CVSS, vendor, references, aliases,
  ``FixAvailable``, ``ExploitAvailable`` (listed in CISA KEV) and the EPSS score.
* Texts are cut to ASFF's limits on a word boundary with an ellipsis (:func:`truncate`): ``Title`` 256,
  ``Description`` 1024, ``Remediation.Recommendation.Text`` 512, ``ProductFields`` values 2048.
* Timestamps are RFC 3339 UTC with milliseconds. ``CreatedAt`` and ``FirstObservedAt`` are when the finding was
  first seen, ``LastObservedAt`` when a scan last saw it and ``UpdatedAt`` when this version was produced: Security
  Hub applies an update only when ``UpdatedAt`` is later than the stored one.

The CLI's account and Region (:func:`cli_target`) come from ``AWS_ACCOUNT_ID`` and ``AWS_REGION`` (or
``AWS_DEFAULT_REGION``); for an ECR image, the registry's account and Region are the fallback.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

import imagescan
from imagescan.errors import ScanError
from imagescan.image.reference import ImageReference, parse_reference

SCHEMA_VERSION = "2018-10-08"
TITLE_MAX = 256
DESCRIPTION_MAX = 1024
RECOMMENDATION_MAX = 512
ID_MAX = 512
PRODUCT_FIELD_VALUE_MAX = 2048
MAX_REFERENCE_URLS = 20
MAX_RELATED = 50
ELLIPSIS = "..."

RecordState = Literal["ACTIVE", "ARCHIVED"]

TYPES: dict[str, list[str]] = {
    "vulnerability": ["Software and Configuration Checks/Vulnerabilities/CVE"],
    "secret": ["Sensitive Data Identifications/Passwords"],
    "misconfiguration": ["Software and Configuration Checks/Industry and Regulatory Standards"],
    "unwanted-software": ["Software and Configuration Checks/Unwanted Software"],
    "end-of-life": ["Software and Configuration Checks/End-of-Life Software"],
    "scan-incomplete": ["Software and Configuration Checks/Scan Incomplete"],
}
"""``Types`` per kind: the namespaces Security Hub defines (its categories where one fits: vulnerabilities,
passwords, industry standards; our own category below a defined namespace otherwise, which the taxonomy allows)."""

PACKAGE_MANAGERS = {
    "deb": "OS", "rpm": "OS", "apk": "OS", "pypi": "PYTHONPKG", "npm": "NODEPKG", "maven": "JAR",
    "golang": "GOBINARY", "cargo": "CARGO", "gem": "GEMSPEC", "composer": "COMPOSER", "nuget": "NUGET",
}
"""purl type → ``PackageManager`` as Amazon Inspector writes it, so both kinds of findings filter alike."""

ECR_ARCHITECTURES = {"amd64": "x86_64", "386": "i386", "arm64": "arm64"}
"""OCI architecture → the values ``AwsEcrContainerImage.Architecture`` documents (others are passed as they are)."""


class AsffError(ScanError):
    """ASFF cannot be produced: the account or Region is unknown or invalid."""


def truncate(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters: cut at the last word boundary that leaves room for an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    cut = text[:room]
    space = cut.rfind(" ")
    if space >= room // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + ELLIPSIS


def timestamp(when: dt.datetime) -> str:
    """RFC 3339, UTC, milliseconds: ``2026-01-01T00:00:00.000Z``."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _text(value: Any) -> str | None:
    """A non-blank string, else None (every ASFF string must hold a non-space character)."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class AsffTarget:
    """Where the findings go (the Security Hub account and Region) and the image they are about."""

    account_id: str
    """``AwsAccountId``: the account that imports (Security Hub accepts only its own)."""
    region: str
    """The Security Hub Region (part of the product ARN)."""
    image_key: str
    """The image's stable identity in finding ids: ``REGISTRY/REPOSITORY@DIGEST`` (the findings table's key)."""
    digest: str
    """The digest of the image as pushed (a manifest, or the index of a multi-arch image)."""
    registry: str | None = None
    repository: str | None = None
    reference: str = ""
    tags: tuple[str, ...] = ()
    pushed_at: dt.datetime | None = None
    partition: str = "aws"

    def __post_init__(self) -> None:
        if not (len(self.account_id) == 12 and self.account_id.isdigit()):
            raise AsffError(f"AWS account id {self.account_id!r} is not 12 digits")
        if not self.region or not all(c.isalnum() or c == "-" for c in self.region):
            raise AsffError(f"AWS Region {self.region!r} is not a Region name")

    @property
    def product_arn(self) -> str:
        return (f"arn:{self.partition}:securityhub:{self.region}:{self.account_id}:product/{self.account_id}"
                "/default")

    @property
    def ecr(self) -> tuple[str, str] | None:
        """(registry account, registry Region) when the image is in ECR."""
        if self.registry is None:
            return None
        ref = ImageReference("docker", registry=self.registry, repository=self.repository)
        return ref.ecr_account_region() if ref.is_ecr else None

    @classmethod
    def for_registry_image(cls, account_id: str, region: str, registry: str, repository: str, digest: str,
                           tags: Sequence[str] = (), pushed_at: dt.datetime | None = None) -> AsffTarget:
        """An image in a registry (the pipeline's pushed image)."""
        partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
        return cls(account_id=account_id, region=region, image_key=f"{registry}/{repository}@{digest}", digest=digest,
                   registry=registry, repository=repository, reference=f"{registry}/{repository}@{digest}",
                   tags=tuple(t for t in tags if t), pushed_at=pushed_at, partition=partition)


@dataclass(frozen=True)
class PlatformContext:
    """The platform image a finding was found in."""

    platform: str
    digest: str
    """The platform's manifest digest."""
    layers: Mapping[str, str] = field(default_factory=dict)
    """Layer diff_id → layer digest (for ``SourceLayerHash``)."""

    @classmethod
    def of_report(cls, image: Mapping[str, Any]) -> PlatformContext:
        """From the report's ``image`` section."""
        layers = {str(layer["diff_id"]): str(layer["digest"]) for layer in image.get("layers") or []
                  if isinstance(layer, dict) and layer.get("diff_id") and layer.get("digest")}
        return cls(platform=str(image.get("platform") or "unknown"), digest=str(image.get("digest") or ""),
                   layers=layers)


@dataclass(frozen=True)
class Observation:
    """The timestamps of one finding version."""

    first_seen: dt.datetime
    last_seen: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def at(cls, when: dt.datetime) -> Observation:
        return cls(first_seen=when, last_seen=when, updated_at=when)


# -- the parts of a finding ------------------------------------------------------------------------------------------


def rule_of(finding: Mapping[str, Any]) -> str:
    """What produced the finding within its kind: the vulnerability id, the rule, the EOL product, the code."""
    kind = finding.get("kind")
    if kind == "vulnerability":
        return str(finding.get("vulnerability_id") or "unknown")
    if kind == "scan-incomplete":
        return str(finding.get("code") or "unknown")
    if kind == "end-of-life":
        return str(finding.get("rule") or finding.get("product") or "unknown")
    return str(finding.get("rule") or kind or "unknown")


def _purl_type(finding: Mapping[str, Any]) -> str:
    purl = str(finding.get("purl") or "")
    if purl.startswith("pkg:") and "/" in purl:
        return purl[4:].split("/", 1)[0].lower()
    return ""


def generator_id(finding: Mapping[str, Any]) -> str:
    """The check and rule: ``imagescan/vulnerability/<ecosystem>`` (the matcher of that package type),
    ``imagescan/<kind>/<rule>`` otherwise."""
    kind = str(finding.get("kind") or "unknown")
    part = (_purl_type(finding) or "generic") if kind == "vulnerability" else rule_of(finding)
    return truncate(f"imagescan/{kind}/{part}", ID_MAX)


def asff_id(target: AsffTarget, platform: PlatformContext, finding: Mapping[str, Any]) -> str:
    """``IMAGE/PLATFORM/KIND/RULE/FINDING_ID``; over 512 characters, the readable part is replaced by its hash."""
    kind = str(finding.get("kind") or "unknown")
    fid = str(finding["id"])
    full = f"{target.image_key}/{platform.platform}/{kind}/{rule_of(finding)}/{fid}"
    if len(full) <= ID_MAX:
        return full
    return f"imagescan/{hashlib.sha256(full.encode()).hexdigest()}/{fid}"


def _description(finding: Mapping[str, Any]) -> str:
    kind = finding.get("kind")
    parts: list[str] = []
    if kind == "vulnerability":
        text = (f"{finding.get('package_name')} {finding.get('installed_version')} is affected by "
                f"{finding.get('vulnerability_id')}")
        if finding.get("fixed_version"):
            text += f"; fixed in {finding['fixed_version']}."
        else:
            text += f"; no fix available ({finding.get('fix_state') or 'not-fixed'})."
        if finding.get("known_exploited"):
            text += " Known to be exploited (CISA KEV)."
        parts.append(text)
        if _text(finding.get("description")):
            parts.append(str(finding["description"]).strip())
    elif kind == "secret":
        where = str(finding.get("path") or "")
        line = f", line {finding['line']}" if finding.get("line") else ""
        parts.append(_text(finding.get("description")) or str(finding.get("title") or "Secret"))
        parts.append(f"Found in {where}{line}: {finding.get('masked') or ''}".rstrip(": "))
        if finding.get("deleted"):
            parts.append("A later layer deleted the file, but its bytes still ship in the image.")
    else:
        for key in ("description", "reason", "evidence"):
            value = _text(finding.get(key))
            if value and value not in parts:
                parts.append(value)
    text = "\n\n".join(p for p in parts if p) or str(finding.get("title") or kind or "finding")
    return truncate(text, DESCRIPTION_MAX)


def _split_version(pkg_type: str, version: str) -> dict[str, str]:
    """``Epoch``/``Version``/``Release`` of an OS package version (deb ``E:U-R``, rpm ``E:V-R``, apk ``V-rN``)."""
    out: dict[str, str] = {}
    rest = version
    if pkg_type in ("deb", "rpm") and ":" in rest:
        epoch, rest = rest.split(":", 1)
        if epoch.isdigit():
            out["Epoch"] = epoch
        else:
            rest = version
    if pkg_type in ("deb", "rpm", "apk") and "-" in rest:
        upstream, release = rest.rsplit("-", 1)
        if upstream and release:
            out["Version"], out["Release"] = upstream, release
            return out
    out["Version"] = rest
    return out


def _purl_qualifiers(purl: str) -> dict[str, str]:
    if "?" not in purl:
        return {}
    query = purl.split("?", 1)[1].split("#", 1)[0]
    out = {}
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key and value:
            out[key.lower()] = unquote(value)
    return out


def _vulnerable_package(finding: Mapping[str, Any], platform: PlatformContext) -> dict[str, Any]:
    pkg_type = _purl_type(finding)
    qualifiers = _purl_qualifiers(str(finding.get("purl") or ""))
    package: dict[str, Any] = {"Name": _text(finding.get("package_name")) or "unknown"}
    version = _text(finding.get("installed_version"))
    if version:
        package.update(_split_version(pkg_type, version))
    if qualifiers.get("epoch") and "Epoch" not in package:
        package["Epoch"] = qualifiers["epoch"]
    if qualifiers.get("arch"):
        package["Architecture"] = qualifiers["arch"]
    package["PackageManager"] = PACKAGE_MANAGERS.get(pkg_type, (pkg_type or "generic").upper())
    for asff_key, key in (("FilePath", "path"), ("FixedInVersion", "fixed_version"), ("Remediation", "remediation")):
        value = _text(finding.get(key))
        if value:
            package[asff_key] = truncate(value, PRODUCT_FIELD_VALUE_MAX)
    layer = platform.layers.get(str(finding.get("layer_diff_id") or ""))
    if layer:
        package["SourceLayerHash"] = layer
    return {k: v for k, v in package.items() if v}


def _vendor(finding: Mapping[str, Any]) -> dict[str, Any]:
    vendor: dict[str, Any] = {"Name": truncate(_text(finding.get("data_source")) or "imagescan", 256)}
    references = [r for r in finding.get("references") or [] if _text(r)]
    if references:
        vendor["Url"] = str(references[0]).strip()
    source = str(finding.get("severity_source") or "").lower()
    if source and "cvss" not in source and source != "unrated":
        vendor["VendorSeverity"] = str(finding.get("severity"))
    for asff_key, key in (("VendorCreatedAt", "published"), ("VendorUpdatedAt", "modified")):
        value = _text(finding.get(key))
        if value:
            vendor[asff_key] = value
    return vendor


def _vulnerabilities(finding: Mapping[str, Any], platform: PlatformContext) -> list[dict[str, Any]]:
    vuln: dict[str, Any] = {
        "Id": str(finding.get("vulnerability_id") or "unknown"),
        "VulnerablePackages": [_vulnerable_package(finding, platform)],
        "Vendor": _vendor(finding),
        "FixAvailable": "YES" if finding.get("fix_state") == "fixed" and _text(finding.get("fixed_version")) else "NO",
        "ExploitAvailable": "YES" if finding.get("known_exploited") else "NO",
    }
    cvss = finding.get("cvss")
    if isinstance(cvss, dict) and _text(cvss.get("vector")):
        entry: dict[str, Any] = {"BaseVector": str(cvss["vector"]).strip()}
        version = _text(cvss.get("version"))
        if version:
            entry["Version"] = version
        if isinstance(cvss.get("score"), int | float):
            entry["BaseScore"] = float(cvss["score"])
        entry["Source"] = vuln["Vendor"]["Name"]
        vuln["Cvss"] = [entry]
    aliases = [str(a).strip() for a in finding.get("aliases") or [] if _text(a)]
    if aliases:
        vuln["RelatedVulnerabilities"] = aliases[:MAX_RELATED]
    references = [str(r).strip() for r in finding.get("references") or [] if _text(r)]
    if references:
        vuln["ReferenceUrls"] = references[:MAX_REFERENCE_URLS]
    epss = finding.get("epss")
    if isinstance(epss, int | float) and not isinstance(epss, bool) and 0.0 <= epss <= 1.0:  # a probability
        vuln["EpssScore"] = float(epss)
    return [vuln]


_PRODUCT_FIELDS = ("kind", "purl", "installed_version", "fixed_version", "fix_state", "data_source",
                   "severity_source", "layer_diff_id", "path", "rule", "code", "product", "cycle", "eol_date", "os",
                   "config", "fingerprint", "masked")


def _product_fields(finding: Mapping[str, Any], target: AsffTarget, platform: PlatformContext) -> dict[str, str]:
    fields = {"ProviderName": "imagescan", "ProviderVersion": imagescan.__version__,
              "imagescan/finding_id": str(finding["id"]), "imagescan/platform": platform.platform}
    if platform.digest:
        fields["imagescan/platform_digest"] = platform.digest
    if target.reference:
        fields["imagescan/image"] = target.reference
    for key in _PRODUCT_FIELDS:
        value = finding.get(key)
        if isinstance(value, bool):
            value = "true" if value else None
        text = _text(value)
        if text:
            fields[f"imagescan/{key}"] = truncate(text, PRODUCT_FIELD_VALUE_MAX)
    if finding.get("known_exploited"):
        fields["imagescan/known_exploited"] = "true"
    if finding.get("deleted"):
        fields["imagescan/deleted"] = "true"
    return fields


def _resource(target: AsffTarget, platform: PlatformContext) -> dict[str, Any]:
    architecture = platform.platform.split("/")[1] if platform.platform.count("/") >= 1 else ""
    ecr = target.ecr
    if ecr is not None and target.repository:
        registry_id, registry_region = ecr
        digest = target.digest
        details: dict[str, Any] = {"RegistryId": registry_id, "RepositoryName": target.repository,
                                   "ImageDigest": digest}
        if architecture:
            details["Architecture"] = ECR_ARCHITECTURES.get(architecture, architecture)
        if target.tags:
            details["ImageTags"] = list(target.tags)
        if target.pushed_at is not None:
            details["ImagePublishedAt"] = timestamp(target.pushed_at)
        return {
            "Type": "AwsEcrContainerImage",
            "Id": f"arn:{target.partition}:ecr:{registry_region}:{registry_id}:repository/{target.repository}/{digest}",
            "Partition": target.partition, "Region": registry_region,
            "Details": {"AwsEcrContainerImage": details},
        }
    container: dict[str, Any] = {"ImageId": platform.digest or target.digest,
                                 "ImageName": truncate(target.reference or target.image_key, 128)}
    return {"Type": "Container", "Id": target.reference or target.image_key, "Partition": target.partition,
            "Region": target.region, "Details": {"Container": container}}


def asff_finding(finding: Mapping[str, Any], target: AsffTarget, platform: PlatformContext, times: Observation,
                 record_state: RecordState = "ACTIVE") -> dict[str, Any]:
    """One report finding (a dict of the JSON report's ``findings``) as an ASFF finding."""
    kind = str(finding.get("kind") or "unknown")
    severity = str(finding.get("severity") or "INFORMATIONAL")
    types = TYPES.get(kind, ["Software and Configuration Checks"])
    first = timestamp(times.first_seen)
    doc: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": asff_id(target, platform, finding),
        "ProductArn": target.product_arn,
        "ProductName": "imagescan",
        "CompanyName": "imagescan",
        "GeneratorId": generator_id(finding),
        "AwsAccountId": target.account_id,
        "Types": types,
        "CreatedAt": first,
        "UpdatedAt": timestamp(times.updated_at),
        "FirstObservedAt": first,
        "LastObservedAt": timestamp(times.last_seen),
        "Severity": {"Label": severity, "Original": severity},
        "Title": truncate(_text(finding.get("title")) or kind, TITLE_MAX),
        "Description": _description(finding),
        "ProductFields": _product_fields(finding, target, platform),
        "Resources": [_resource(target, platform)],
        "FindingProviderFields": {"Severity": {"Label": severity, "Original": severity}, "Types": types},
        "RecordState": record_state,
        "Workflow": {"Status": "NEW"},
    }
    remediation = _text(finding.get("remediation"))
    if remediation:
        recommendation: dict[str, Any] = {"Text": truncate(remediation, RECOMMENDATION_MAX)}
        references = [r for r in finding.get("references") or [] if _text(r)]
        if references:
            recommendation["Url"] = str(references[0]).strip()
        doc["Remediation"] = {"Recommendation": recommendation}
    if kind == "vulnerability":
        doc["Vulnerabilities"] = _vulnerabilities(finding, platform)
    return doc


def report_asff(report: Mapping[str, Any], target: AsffTarget, times: Observation) -> list[dict[str, Any]]:
    """Every finding of a JSON report, ACTIVE, with the same timestamps (the CLI's view: one scan, now)."""
    platform = PlatformContext.of_report(report.get("image") or {})
    return [asff_finding(f, target, platform, times) for f in report.get("findings") or []]


def cli_target(report: Mapping[str, Any], env: Mapping[str, str] | None = None) -> AsffTarget:
    """The target of ``scan --format asff``: account from ``AWS_ACCOUNT_ID``, Region from ``AWS_REGION`` or
    ``AWS_DEFAULT_REGION``; for an ECR image the registry's account and Region fill what is unset."""
    env = os.environ if env is None else env
    image = report.get("image") or {}
    text = str(image.get("reference") or "")
    digest = str(image.get("digest") or "")
    try:
        ref = parse_reference(text) if text else None
    except ScanError:
        ref = None
    account = env.get("AWS_ACCOUNT_ID", "").strip()
    region = (env.get("AWS_REGION", "") or env.get("AWS_DEFAULT_REGION", "")).strip()
    if ref is not None and ref.is_ecr:
        ecr_account, ecr_region = ref.ecr_account_region()
        account, region = account or ecr_account, region or ecr_region
    missing = [name for name, value in (("AWS_ACCOUNT_ID", account), ("AWS_REGION", region)) if not value]
    if missing:
        raise AsffError(f"--format asff needs the AWS account and Region the findings are for: set "
                        f"{' and '.join(missing)} (an ECR image supplies both from its registry host)")
    if ref is not None and ref.transport == "docker" and ref.registry and ref.repository:
        target = AsffTarget.for_registry_image(account, region, ref.registry, ref.repository, digest,
                                               tags=(ref.tag,) if ref.tag else ())
        return target
    reference = text or "image"
    return AsffTarget(account_id=account, region=region, image_key=f"{reference}@{digest}", digest=digest,
                      reference=reference)


def build_asff(report: Mapping[str, Any], env: Mapping[str, str] | None = None,
               now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """``scan --format asff``: the report's findings for :func:`cli_target`, all observed now (the JSON array
    ``aws securityhub batch-import-findings --findings file://...`` takes, 100 at a time)."""
    return report_asff(report, cli_target(report, env), Observation.at(now or dt.datetime.now(dt.UTC)))
