"""Alpine secdb (https://secdb.alpinelinux.org/<release>/<repo>.json): ``{"distroversion": "v3.18", "reponame":
"main", "packages": [{"pkg": {"name": "musl", "secfixes": {"1.2.4-r3": ["CVE-2025-26519"], "0": [...]}}}]}``,
and the one-package form ``{"name", "secfixes", "distroversion", "reponame"}`` (aquasecurity/vuln-list).

Each id listed becomes a record ``ALPINE-<id>`` (the osv.dev naming) in ecosystem ``Alpine:<distroversion>``, with
an affected entry per package: introduced 0 / fixed at the listed version, or ``not-affected`` for version ``0``
(secdb's "this release was never affected"). An id listed under several versions of one package gets one range
per version. Entries may hold several ids separated by spaces; anything after an id (a comment) is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from imagescan.vulndb.records import Affected, Item, Skip, Vuln

FORMAT = "alpine-secdb"
DESCRIPTION = "Alpine secdb JSON: {distroversion, reponame, packages: [{pkg: {name, secfixes}}]} or one package"
_ID = re.compile(r"^[A-Z][A-Z0-9]*-[A-Za-z0-9][A-Za-z0-9._:-]*$")


def sniff(obj: object) -> bool:
    if not isinstance(obj, dict) or not isinstance(obj.get("distroversion"), str):
        return False
    return isinstance(obj.get("packages"), list) or isinstance(obj.get("secfixes"), dict)


def _packages(obj: dict[str, Any]) -> Iterator[tuple[str, object] | Skip]:
    if isinstance(obj.get("secfixes"), dict):
        name = obj.get("name")
        if isinstance(name, str) and name.strip():
            yield name.strip(), obj["secfixes"]
        else:
            yield Skip("secdb package without a name")
        return
    for index, entry in enumerate(obj.get("packages") or []):
        pkg = entry.get("pkg") if isinstance(entry, dict) else None
        name = pkg.get("name") if isinstance(pkg, dict) else None
        if not isinstance(pkg, dict) or not isinstance(name, str) or not name.strip():
            yield Skip(f"secdb packages[{index}]: no pkg.name")
            continue
        yield name.strip(), pkg.get("secfixes") or {}


def read(obj: object) -> Iterator[Item]:
    if not isinstance(obj, dict):
        return
    release = str(obj.get("distroversion", "")).strip()
    if not release:
        yield Skip("secdb without distroversion")
        return
    ecosystem = f"Alpine:{release}"
    by_id: dict[str, dict[str, list[str]]] = {}
    for item in _packages(obj):
        if isinstance(item, Skip):
            yield item
            continue
        name, secfixes = item
        if not isinstance(secfixes, dict):
            yield Skip(f"secdb {name}: secfixes is not an object")
            continue
        for version, ids in secfixes.items():
            if not isinstance(ids, list) or not str(version).strip():
                yield Skip(f"secdb {name} {version!r}: not a list of ids")
                continue
            for text in ids:
                for ident in _ids(text):
                    versions = by_id.setdefault(ident, {}).setdefault(name, [])
                    if str(version).strip() not in versions:
                        versions.append(str(version).strip())
    extra = {key: obj[key] for key in ("reponame", "urlprefix", "apkurl") if isinstance(obj.get(key), str)}
    for ident in sorted(by_id):
        affected = [_affected(ecosystem, name, versions, extra) for name, versions in sorted(by_id[ident].items())]
        yield Vuln(
            id=f"ALPINE-{ident}",
            affected=affected,
            upstream=[ident] if ident.startswith("CVE-") else [],
            references=[{"type": "ADVISORY", "url": f"https://security.alpinelinux.org/vuln/{ident}"}],
        )


def _ids(text: object) -> list[str]:
    if not isinstance(text, str):
        return []
    out = []
    for token in text.split():
        if not _ID.match(token):
            break
        out.append(token)
    return out


def _affected(ecosystem: str, name: str, versions: list[str], extra: dict[str, Any]) -> Affected:
    fixed = [v for v in versions if v != "0"]
    if not fixed:
        return Affected(ecosystem=ecosystem, package=name, purl=_purl(name), status="not-affected",
                        status_reason='secdb lists it under version "0"', database_specific=extra or None)
    ranges = [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": v}]} for v in fixed]
    return Affected(ecosystem=ecosystem, package=name, purl=_purl(name), ranges=ranges,
                    database_specific=extra or None)


def _purl(name: str) -> str:
    return f"pkg:apk/alpine/{name}?arch=source"
