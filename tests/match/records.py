"""Hand-made advisory records and inventories for matching tests: small databases built through the real builder
(so the tests exercise the stored form matching reads), plus packages shaped like the catalogers' output."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from imagescan.match import Inventory
from imagescan.models import OSRelease, Package
from imagescan.vulndb.builder import build_database
from imagescan.vulndb.store import VulnDB

BUILT_AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DIGEST = "sha256:" + "ab" * 32

DEBIAN_12 = OSRelease(id="debian", version_id="12.5", version_codename="bookworm", name="Debian GNU/Linux",
                      pretty_name="Debian GNU/Linux 12 (bookworm)", source="etc/os-release")
DEBIAN_11 = OSRelease(id="debian", version_id="11.7", version_codename="bullseye", source="etc/os-release")
ALPINE_318 = OSRelease(id="alpine", version_id="3.18.4", source="etc/os-release")
AMZN_2023 = OSRelease(id="amzn", version_id="2023", source="etc/os-release")


def fixed_range(*events: tuple[str, str], kind: str = "ECOSYSTEM") -> dict[str, Any]:
    return {"type": kind, "events": [{k: v} for k, v in events]}


def record(
    ident: str, ecosystem: str, package: str, *, ranges: Sequence[dict[str, Any]] = (),
    versions: Sequence[str] = (), aliases: Sequence[str] = (), upstream: Sequence[str] = (),
    status: str | None = None, reason: str | None = None, severity: str | None = None,
    cvss: str | None = None, withdrawn: str | None = None, summary: str | None = None,
    references: Sequence[str] = (), extra_affected: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """One OSV record affecting one package."""
    specific: dict[str, Any] = {}
    if status:
        specific["status"] = status
        if reason:
            specific["reason"] = reason
    affected: dict[str, Any] = {"package": {"ecosystem": ecosystem, "name": package}, "ranges": list(ranges),
                                "versions": list(versions)}
    if specific:
        affected["database_specific"] = specific
    doc: dict[str, Any] = {
        "id": ident, "modified": "2025-01-01T00:00:00Z", "published": "2024-01-01T00:00:00Z",
        "summary": summary or f"{ident} in {package}", "aliases": list(aliases), "upstream": list(upstream),
        "affected": [affected, *extra_affected],
        "references": [{"type": "ADVISORY", "url": url} for url in references],
    }
    if severity:
        doc["database_specific"] = {"severity": severity}
    if cvss:
        doc["severity"] = [{"type": "CVSS_V3", "score": cvss}]
    if withdrawn:
        doc["withdrawn"] = withdrawn
    return doc


def kev_catalog(cves: Iterable[str]) -> dict[str, Any]:
    return {"catalogVersion": "2026.01.01", "dateReleased": "2026-01-01T00:00:00Z", "vulnerabilities": [
        {"cveID": cve, "vendorProject": "x", "product": "y", "vulnerabilityName": "z", "dateAdded": "2025-01-01",
         "shortDescription": "", "requiredAction": "", "dueDate": "2025-02-01",
         "knownRansomwareCampaignUse": "Unknown", "notes": ""}
        for cve in cves
    ]}


def build_db(directory: Path, records: Sequence[dict[str, Any]], *, kev: Iterable[str] = (),
             epss: dict[str, float] | None = None) -> VulnDB:
    """A database built by the real builder from these records (plus KEV and EPSS files when given)."""
    feeds = directory / "feeds"
    feeds.mkdir(parents=True, exist_ok=True)
    (feeds / "records.json").write_text(json.dumps(list(records)))
    kev = list(kev)
    if kev:
        (feeds / "kev.json").write_text(json.dumps(kev_catalog(kev)))
    if epss:
        rows = "".join(f"{cve},{score},0.5\n" for cve, score in epss.items())
        (feeds / "epss.csv").write_text(f"#model_version:v2025.03.14,score_date:2026-01-01T00:00:00Z\n"
                                        f"cve,epss,percentile\n{rows}")
    out = directory / "test.db"
    report = build_database([feeds], out, built_at=BUILT_AT)
    assert report.errors == [], report.errors
    return VulnDB(out)


def deb(name: str, version: str, source: str | None = None, source_version: str | None = None) -> Package:
    return Package(type="deb", name=name, version=version, arch="amd64", source_name=source or name,
                   source_version=source_version or version, path="var/lib/dpkg/status",
                   layer_diff_id="sha256:" + "11" * 32)


def lang(pkg_type: str, name: str, version: str, *, namespace: str | None = None, path: str | None = None,
         owner: str | None = None) -> Package:
    return Package(type=pkg_type, name=name, version=version, namespace=namespace,
                   path=path or f"app/{pkg_type}/{name}-{version}", owner=owner,
                   layer_diff_id="sha256:" + "22" * 32)


def inventory(packages: Sequence[Package], os: OSRelease | None = DEBIAN_12) -> Inventory:
    return Inventory(reference="oci:test", digest=DIGEST, os=os, packages=list(packages))
