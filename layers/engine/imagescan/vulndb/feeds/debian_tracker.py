"""The Debian security tracker's JSON dump (https://security-tracker.debian.org/tracker/data/json):
``{source_package: {issue: {description, scope, debianbug, releases: {codename: {status, fixed_version, urgency,
repositories, nodsa, nodsa_reason, next_point_update}}}}}``.

Each issue (``CVE-…`` or ``TEMP-…``) becomes one record ``DEBIAN-<issue>`` (the osv.dev naming) with one affected
entry per (source package, release). Release codenames map to ``Debian:<N>`` (``sid`` → ``Debian:unstable``;
an unknown codename is kept as ``Debian:<codename>``). Status mapping (documented in docs/database.md):

* ``resolved`` with ``fixed_version`` ``0`` → ``not-affected``; with a version → ``affected``, range
  introduced 0 / fixed version; without any version → ``not-affected`` (reason says so).
* ``open``: urgency ``end-of-life`` → ``end-of-life``; ``nodsa_reason`` ``ignored`` → ``wont-fix``;
  ``postponed`` or a plain ``nodsa`` tag → ``fix-deferred``; otherwise → ``unfixed``.
* ``undetermined`` → ``under-investigation``.

Urgency → per-package severity: ``high``/``medium``/``low`` as such, ``unimportant`` → INFORMATIONAL,
``not yet assigned`` → none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from imagescan.vulndb.names import DEBIAN_CODENAMES
from imagescan.vulndb.records import Affected, Item, Skip, Vuln, truncate
from imagescan.vulndb.severity import highest, normalize_label

FORMAT = "debian-tracker"
DESCRIPTION = "Debian security tracker JSON: {source package: {CVE: {releases: {codename: {status, ...}}}}}"
_ISSUE = re.compile(r"^(CVE-\d{4}-\d{4,}|TEMP-\d+-[0-9A-Fa-f]+)$")


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Release(_In):
    status: str
    fixed_version: str | None = None
    urgency: str | None = None
    nodsa: str | None = None
    nodsa_reason: str | None = None
    repositories: dict[str, str] | None = None
    next_point_update: bool | None = None


class _Issue(_In):
    description: str | None = None
    scope: str | None = None
    debianbug: int | None = None
    releases: dict[str, _Release] = {}


def sniff(obj: object) -> bool:
    if not isinstance(obj, dict) or not obj:
        return False
    for issues in list(obj.values())[:5]:
        if not isinstance(issues, dict):
            return False
        for name, issue in list(issues.items())[:3]:
            if _ISSUE.match(str(name)) and isinstance(issue, dict) and isinstance(issue.get("releases"), dict):
                return True
    return False


def read(obj: object) -> Iterator[Item]:
    if not isinstance(obj, dict):
        return
    grouped: dict[str, list[tuple[str, _Issue]]] = {}
    for package, issues in obj.items():
        if not isinstance(issues, dict) or not str(package).strip():
            yield Skip(f"tracker package {package!r}: not an object of issues")
            continue
        for name, raw in issues.items():
            if not _ISSUE.match(str(name)):
                yield Skip(f"tracker {package}/{name}: not a CVE or TEMP issue name")
                continue
            try:
                issue = _Issue.model_validate(raw)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(part) for part in first["loc"])
                yield Skip(f"tracker {package}/{name}: {where}: {first['msg']}")
                continue
            grouped.setdefault(str(name), []).append((str(package).strip(), issue))
    for name in sorted(grouped):
        yield _vuln(name, grouped[name])


def _vuln(name: str, entries: list[tuple[str, _Issue]]) -> Vuln:
    affected: list[Affected] = []
    description: str | None = None
    specific: dict[str, Any] = {}
    for package, issue in entries:
        description = description or issue.description
        if issue.debianbug is not None:
            specific.setdefault("debianbug", {})[package] = issue.debianbug
        if issue.scope:
            specific["scope"] = issue.scope
        for codename, release in sorted(issue.releases.items()):
            affected.append(_affected(package, codename, release))
    return Vuln(
        id=f"DEBIAN-{name}",
        affected=affected,
        summary=truncate(description, 500),
        severity=highest([a.severity for a in affected]),
        severity_source="debian-tracker urgency" if any(a.severity for a in affected) else None,
        references=[{"type": "ADVISORY", "url": f"https://security-tracker.debian.org/tracker/{name}"}],
        upstream=[name] if name.startswith("CVE-") else [],
        database_specific=specific or None,
    )


def _affected(package: str, codename: str, release: _Release) -> Affected:
    code = codename.strip().lower()
    ecosystem = f"Debian:{DEBIAN_CODENAMES.get(code, code)}"
    status, reason, ranges = _status(release)
    extra = {key: value for key, value in release.model_dump(exclude_none=True).items() if key != "status"}
    extra["status"] = release.status
    extra["codename"] = code
    severity = normalize_label(release.urgency)
    return Affected(
        ecosystem=ecosystem,
        package=package,
        purl=f"pkg:deb/debian/{package}?arch=source",
        status=status,
        status_reason=reason,
        severity=severity,
        severity_source="debian-tracker urgency" if severity else None,
        ranges=ranges,
        database_specific=extra,
    )


def _status(release: _Release) -> tuple[str, str | None, list[dict[str, Any]]]:
    state = release.status.strip().lower()
    fixed = (release.fixed_version or "").strip()
    urgency = (release.urgency or "").strip().rstrip("*").lower()
    nodsa = (release.nodsa or "").strip() or None
    nodsa_reason = (release.nodsa_reason or "").strip().lower()
    if state == "resolved":
        if fixed == "0":
            return "not-affected", "fixed_version 0: the release never had the vulnerable code", []
        if fixed:
            return "affected", None, [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]
        return "not-affected", "resolved without a fixed version", []
    if state == "open":
        if urgency == "end-of-life":
            return "end-of-life", "package not supported in this release (urgency end-of-life)", []
        if nodsa_reason == "ignored":
            return "wont-fix", _reason("no-dsa, ignored", nodsa), []
        if nodsa_reason == "postponed":
            return "fix-deferred", _reason("no-dsa, postponed", nodsa), []
        if nodsa is not None:
            return "fix-deferred", _reason("no-dsa", nodsa), []
        return "unfixed", None, []
    if state == "undetermined":
        return "under-investigation", "tracker status undetermined", []
    return "under-investigation", f"unrecognised tracker status {release.status!r}", []


def _reason(tag: str, text: str | None) -> str:
    return f"{tag}: {text}" if text else tag
