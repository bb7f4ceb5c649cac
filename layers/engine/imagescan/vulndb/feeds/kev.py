"""CISA Known Exploited Vulnerabilities catalog JSON: ``{catalogVersion, dateReleased, count, vulnerabilities:
[{cveID, dateAdded, dueDate, knownRansomwareCampaignUse, vendorProject, product, vulnerabilityName, ...}]}``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from imagescan.vulndb.records import CVE_ID, FeedVersion, Item, KevRow, Skip

FORMAT = "kev"
DESCRIPTION = "CISA KEV catalog JSON: {catalogVersion, vulnerabilities: [{cveID, dateAdded, ...}]}"


def sniff(obj: object) -> bool:
    return isinstance(obj, dict) and "catalogVersion" in obj and isinstance(obj.get("vulnerabilities"), list)


def _date(value: object) -> str | None:
    """A ``YYYY-MM-DD`` calendar date, or None."""
    if not isinstance(value, str) or len(value.strip()) != 10:
        return None
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        return None


def _opt_str(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def read(obj: object) -> Iterator[Item]:
    if not isinstance(obj, dict):
        return
    version = obj.get("catalogVersion")
    if isinstance(version, str | int | float):
        yield FeedVersion(str(version))
    for index, entry in enumerate(obj.get("vulnerabilities") or []):
        if not isinstance(entry, dict):
            yield Skip(f"KEV vulnerabilities[{index}]: not an object")
            continue
        cve = _opt_str(entry.get("cveID"))
        added = _date(entry.get("dateAdded"))
        if cve is None or not CVE_ID.match(cve):
            yield Skip(f"KEV vulnerabilities[{index}]: cveID {entry.get('cveID')!r} is not a CVE id")
            continue
        if added is None:
            yield Skip(f"KEV {cve}: dateAdded {entry.get('dateAdded')!r} is not a date")
            continue
        yield KevRow(
            cve=cve,
            date_added=added,
            due_date=_date(entry.get("dueDate")),
            ransomware=str(entry.get("knownRansomwareCampaignUse", "")).strip().lower() == "known",
            vendor_project=_opt_str(entry.get("vendorProject")),
            product=_opt_str(entry.get("product")),
            name=_opt_str(entry.get("vulnerabilityName")),
        )
