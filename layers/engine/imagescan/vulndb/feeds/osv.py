"""OSV records (https://ossf.github.io/osv-schema/): single records, and containers of records (a JSON array, or an
object holding the array under ``vulns``/``vulnerabilities``/``records``/``advisories``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from imagescan.vulndb.records import (
    EVENT_KINDS,
    JSON,
    Affected,
    Item,
    Skip,
    Vuln,
    timestamp,
    truncate,
)
from imagescan.vulndb.severity import cvss_base_score, highest, label_for_score, normalize_label

FORMAT = "osv"
DESCRIPTION = "OSV record, or an array of OSV records, or an object holding one under 'vulns'"
CONTAINER_KEYS = ("vulns", "vulnerabilities", "records", "advisories", "items")
_CVSS_TYPES = ("CVSS_V2", "CVSS_V3", "CVSS_V4")
_STATUS_WORDS = {
    "affected": "affected", "vulnerable": "affected",
    "not-affected": "not-affected", "not_affected": "not-affected", "not affected": "not-affected",
    "unfixed": "unfixed", "open": "unfixed", "needed": "unfixed", "no-fix": "unfixed",
    "fix-deferred": "fix-deferred", "fix_deferred": "fix-deferred", "postponed": "fix-deferred",
    "deferred": "fix-deferred",
    "wont-fix": "wont-fix", "will_not_fix": "wont-fix", "will-not-fix": "wont-fix", "ignored": "wont-fix",
    "end-of-life": "end-of-life", "end_of_life": "end-of-life", "eol": "end-of-life",
    "under-investigation": "under-investigation", "under_investigation": "under-investigation",
    "undetermined": "under-investigation",
}


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Severity(_In):
    type: str
    score: str


class _Package(_In):
    ecosystem: str
    name: str
    purl: str | None = None


class _Range(_In):
    type: str
    repo: str | None = None
    events: list[dict[str, Any]] = []


class _Affected(_In):
    package: _Package | None = None
    ranges: list[_Range] | None = None
    versions: list[str] | None = None
    severity: list[_Severity] | None = None
    ecosystem_specific: dict[str, Any] | None = None
    database_specific: dict[str, Any] | None = None


class _Reference(_In):
    type: str | None = None
    url: str


class _Record(_In):
    id: str
    modified: str | None = None
    published: str | None = None
    withdrawn: str | None = None
    aliases: list[str] | None = None
    related: list[str] | None = None
    upstream: list[str] | None = None
    summary: str | None = None
    details: str | None = None
    severity: list[_Severity] | None = None
    affected: list[_Affected] | None = None
    references: list[_Reference] | None = None
    database_specific: dict[str, Any] | None = None


def is_record(obj: object) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("id"), str) and ("affected" in obj or "modified" in obj)


def container_records(obj: object) -> list[Any] | None:
    """The records of an OSV container, or None when ``obj`` is not one."""
    items: object = None
    if isinstance(obj, list):
        items = obj
    elif isinstance(obj, dict):
        for key in CONTAINER_KEYS:
            if isinstance(obj.get(key), list):
                items = obj[key]
                break
    if not isinstance(items, list) or not items:
        return None
    sample = items[:5]
    return items if sum(is_record(item) for item in sample) * 2 > len(sample) else None


def sniff(obj: object) -> bool:
    return is_record(obj) or container_records(obj) is not None


def read(obj: object) -> Iterator[Item]:
    if is_record(obj):
        yield convert(obj)
        return
    records = container_records(obj)
    for raw in records or []:
        yield convert(raw)


def convert(raw: object) -> Vuln | Skip:
    """One OSV record → :class:`Vuln`, or :class:`Skip` saying why it could not be used."""
    ident = raw.get("id") if isinstance(raw, dict) else None
    try:
        record = _Record.model_validate(raw)
        return _vuln(record)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return Skip(f"OSV record {ident if isinstance(ident, str) else '?'}: {where}: {first['msg']}")
    except ValueError as exc:
        return Skip(f"OSV record {ident if isinstance(ident, str) else '?'}: {exc}")


def _vuln(record: _Record) -> Vuln:
    if not record.id.strip():
        raise ValueError("empty id")
    vid = record.id.strip()
    cvss = _cvss(record.severity or [])
    affected: list[Affected] = []
    record_status = _status_of(record.database_specific)
    for entry in record.affected or []:
        if entry.package is None or not entry.package.name.strip() or not entry.package.ecosystem.strip():
            continue
        cvss.extend(c for c in _cvss(entry.severity or []) if c not in cvss)
        affected.append(_affected(entry, record_status))
    for entry in record.affected or []:
        vector = (entry.database_specific or {}).get("cvss")
        if isinstance(vector, str) and vector.startswith("CVSS:"):
            extra = _cvss_entry("CVSS_V4" if vector.startswith("CVSS:4") else "CVSS_V3", vector)
            if extra["vector"] not in [c["vector"] for c in cvss]:
                cvss.append(extra)
    severity, source = _severity(record, cvss)
    return Vuln(
        id=vid,
        affected=affected,
        summary=truncate(record.summary, 500),
        details=truncate(record.details),
        severity=severity,
        severity_source=source,
        cvss=cvss,
        published=timestamp(record.published),
        modified=timestamp(record.modified),
        withdrawn=timestamp(record.withdrawn),
        references=[{"type": ref.type, "url": ref.url} for ref in record.references or []],
        aliases=_ids(record.aliases, vid),
        related=_ids(record.related, vid),
        upstream=_ids(record.upstream, vid),
        database_specific=record.database_specific,
    )


def _ids(values: list[str] | None, own: str) -> list[str]:
    out: list[str] = []
    for value in values or []:
        value = value.strip()
        if value and value != own and value not in out:
            out.append(value)
    return out


def _affected(entry: _Affected, record_status: tuple[str, str | None] | None) -> Affected:
    assert entry.package is not None
    ranges: list[JSON] = []
    for rng in entry.ranges or []:
        events: list[dict[str, str]] = []
        for event in rng.events:
            for kind, value in event.items():
                if kind in EVENT_KINDS and isinstance(value, str):
                    events.append({kind: value})
        out: JSON = {"type": rng.type.strip().upper(), "events": events}
        if rng.repo:
            out["repo"] = rng.repo
        ranges.append(out)
    status = _status_of(entry.database_specific) or _status_of(entry.ecosystem_specific) or record_status
    labels = [normalize_label(s.score) for s in entry.severity or [] if s.type not in _CVSS_TYPES]
    for specific in (entry.database_specific, entry.ecosystem_specific):
        if specific:
            labels.append(normalize_label(specific.get("severity")))
            labels.append(normalize_label(specific.get("urgency")))
    severity = highest(labels)
    return Affected(
        ecosystem=entry.package.ecosystem,
        package=entry.package.name,
        purl=entry.package.purl,
        status=status[0] if status else "affected",
        status_reason=status[1] if status else None,
        severity=severity,
        severity_source="affected-specific" if severity else None,
        ranges=ranges,
        versions=[v for v in entry.versions or [] if v.strip()],
        ecosystem_specific=entry.ecosystem_specific,
        database_specific=entry.database_specific,
    )


def _status_of(specific: dict[str, Any] | None) -> tuple[str, str | None] | None:
    """(status, reason) from a ``database_specific``/``ecosystem_specific`` ``status`` field, if any."""
    if not specific:
        return None
    raw = specific.get("status")
    if not isinstance(raw, str) or not raw.strip():
        return None
    reason = specific.get("reason")
    word = raw.strip().lower()
    status = _STATUS_WORDS.get(word)
    if status is None:
        return "affected", f"unrecognised status {raw!r}"
    return status, reason if isinstance(reason, str) and reason.strip() else None


def _cvss_entry(kind: str, vector: str) -> JSON:
    score = cvss_base_score(kind, vector)
    return {"type": kind, "vector": vector.strip(), "score": score}


def _cvss(severities: list[_Severity]) -> list[JSON]:
    return [_cvss_entry(s.type, s.score) for s in severities if s.type in _CVSS_TYPES and s.score.strip()]


def _severity(record: _Record, cvss: list[JSON]) -> tuple[str | None, str | None]:
    """The record's severity label and where it came from: a label in ``database_specific.severity``, then a
    non-CVSS ``severity`` entry (e.g. ``Ubuntu``), then the highest CVSS v3 base score."""
    label = normalize_label((record.database_specific or {}).get("severity"))
    if label:
        return label, "database_specific.severity"
    for entry in record.severity or []:
        if entry.type not in _CVSS_TYPES:
            label = normalize_label(entry.score)
            if label:
                return label, f"severity.{entry.type}"
    scores = [c["score"] for c in cvss if isinstance(c.get("score"), float)]
    if scores:
        return label_for_score(max(scores)), "cvss_v3"
    return None, None
