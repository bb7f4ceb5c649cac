"""Amazon Linux security advisories (ALAS): yum ``updateinfo.xml`` (optionally gzipped), and JSON transcriptions
of it (a list of ``{id, title, issued, updated, severity, cveids, packages, evr?, arches?}``, or one such object;
keys in any case, as aquasecurity/vuln-list writes them).

Each ``<update type="security">`` becomes a record with its ALAS id, the CVEs of its ``<reference type="cve">``
as ``upstream``, and per binary package name (source rpms are left out) a range introduced 0 / fixed
``[epoch:]version-release`` (the epoch only when it is not 0). The release comes from the id prefix:
``ALAS2023-`` → ``Amazon Linux:2023``, ``ALAS2…-`` (including extras such as ``ALAS2KERNEL-5.10-``) →
``Amazon Linux:2``, ``ALAS-`` → ``Amazon Linux:1``; otherwise from the file name (``al2023``, ``amzn2`` …).

XML is read with defusedxml: DTD entities and external references are refused (a billion-laughs file is an error,
not a hang).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from imagescan.vulndb.errors import FeedError
from imagescan.vulndb.records import CVE_ID, Affected, Item, Skip, Vuln, timestamp, truncate
from imagescan.vulndb.severity import normalize_label

FORMAT = "alas"
DESCRIPTION = "Amazon Linux updateinfo.xml (<updates><update type='security'>…) or its JSON transcription"
_ROOT = re.compile(rb"<updates[\s>/]")
_HINT = re.compile(r"(?:al|amzn|amazon[-_ ]?linux[-_ ]?)(2023|2|1)(?![0-9])")


def release_for(advisory_id: str, hint: str = "") -> str | None:
    if advisory_id.startswith("ALAS2023-"):
        return "2023"
    if advisory_id.startswith("ALAS2"):
        return "2"
    if advisory_id.startswith("ALAS-"):
        return "1"
    match = _HINT.search(hint.lower())
    return match.group(1) if match else None


def _advisory_url(advisory_id: str, release: str) -> str:
    prefix = {"2023": "AL2023/", "2": "AL2/"}.get(release, "")
    return f"https://alas.aws.amazon.com/{prefix}{advisory_id}.html"


def sniff_xml(head: bytes) -> bool:
    return _ROOT.search(head) is not None


def read_xml(data: bytes, hint: str) -> Iterator[Item]:
    """Records from an updateinfo.xml document; :class:`FeedError` when the XML is malformed or unsafe."""
    seen_root = False
    try:
        for event, elem in iterparse(io.BytesIO(data), events=("start", "end")):
            if event == "start":
                if not seen_root and elem.tag != "updates":
                    raise FeedError(f"XML root element is <{elem.tag}>, not <updates>")
                seen_root = True
                continue
            if elem.tag == "update":
                item = _from_element(elem, hint)
                if item is not None:
                    yield item
                elem.clear()
    except DefusedXmlException as exc:
        raise FeedError(f"unsafe XML refused ({type(exc).__name__}): {exc}") from exc
    except ParseError as exc:
        raise FeedError(f"malformed XML: {exc}") from exc


def _text(elem: Element, path: str) -> str | None:
    found = elem.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _from_element(elem: Element, hint: str) -> Vuln | Skip | None:
    if elem.get("type", "security") != "security":
        return None
    advisory_id = _text(elem, "id")
    if not advisory_id:
        return Skip("updateinfo <update> without <id>")
    issued, updated = elem.find("issued"), elem.find("updated")
    cves = [ref.get("id", "") for ref in elem.iterfind("references/reference") if ref.get("type") == "cve"]
    urls = [ref.get("href", "") for ref in elem.iterfind("references/reference")]
    packages = [
        {key: pkg.get(key) for key in ("name", "epoch", "version", "release", "arch")}
        for pkg in elem.iterfind("pkglist/collection/package")
    ]
    return _vuln(
        advisory_id, hint, title=_text(elem, "title"), description=_text(elem, "description"),
        severity=_text(elem, "severity"), issued=issued.get("date") if issued is not None else None,
        updated=updated.get("date") if updated is not None else None, cves=cves, urls=urls, packages=packages,
    )


def sniff_json(obj: object) -> bool:
    sample = obj[:3] if isinstance(obj, list) else [obj]
    return bool(sample) and all(_is_advisory(item) for item in sample)


def _lower(obj: object, depth: int = 3) -> Any:
    """``obj`` with its object keys in lower case, down to ``depth`` levels."""
    if depth == 0:
        return obj
    if isinstance(obj, dict):
        return {str(key).lower(): _lower(value, depth - 1) for key, value in obj.items()}
    if isinstance(obj, list):
        return [_lower(value, depth - 1) for value in obj]
    return obj


def _is_advisory(item: object) -> bool:
    if not isinstance(item, dict):
        return False
    low = {str(key).lower(): value for key, value in item.items()}
    ident = low.get("id")
    return isinstance(ident, str) and ident.startswith("ALAS") and ("cveids" in low or "packages" in low)


def read_json(obj: object, hint: str) -> Iterator[Item]:
    for raw in obj if isinstance(obj, list) else [obj]:
        item = _lower(raw)
        if not _is_advisory(item):
            yield Skip("ALAS JSON entry without an ALAS id")
            continue
        try:
            yield _from_json(item, hint)
        except (TypeError, ValueError, AttributeError) as exc:
            yield Skip(f"ALAS {item.get('id')}: {exc}")


def _date(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("date")
    return value if isinstance(value, str) else None


def _str_list(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _from_json(item: dict[str, Any], hint: str) -> Vuln | Skip:
    raw_evr = item.get("evr")
    evr: dict[str, Any] = raw_evr if isinstance(raw_evr, dict) else {}
    packages: list[dict[str, str | None]] = []
    for pkg in item.get("packages") or []:
        if isinstance(pkg, str):
            packages.append({"name": pkg, "epoch": _opt(evr.get("epoch")), "version": _opt(evr.get("version")),
                             "release": _opt(evr.get("release")), "arch": None})
        elif isinstance(pkg, dict):
            packages.append({key: _opt(pkg.get(key)) for key in ("name", "epoch", "version", "release", "arch")})
    raw_refs = item.get("references")
    refs: list[Any] = raw_refs if isinstance(raw_refs, list) else []
    urls = [ref["href"] for ref in refs if isinstance(ref, dict) and isinstance(ref.get("href"), str)]
    cves = _str_list(item.get("cveids")) or [
        ref["id"] for ref in refs
        if isinstance(ref, dict) and ref.get("type") == "cve" and isinstance(ref.get("id"), str)
    ]
    return _vuln(
        str(item["id"]), hint, title=_opt(item.get("title")), description=_opt(item.get("description")),
        severity=_opt(item.get("severity")), issued=_date(item.get("issued")), updated=_date(item.get("updated")),
        cves=cves, urls=urls, packages=packages,
        extra={"arches": _str_list(item.get("arches"))} if item.get("arches") else None,
    )


def _opt(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str | int):
        return str(value)
    raise ValueError(f"expected a string, got {type(value).__name__}")


def _vuln(
    advisory_id: str, hint: str, *, title: str | None, description: str | None, severity: str | None,
    issued: str | None, updated: str | None, cves: list[str], urls: list[str],
    packages: list[dict[str, str | None]], extra: dict[str, Any] | None = None,
) -> Vuln | Skip:
    advisory_id = advisory_id.strip()
    release = release_for(advisory_id, hint)
    if release is None:
        return Skip(f"{advisory_id}: cannot tell the Amazon Linux release from the id or the file name")
    fixed: dict[str, list[str]] = {}
    for pkg in packages:
        name, version, rel = pkg.get("name"), pkg.get("version"), pkg.get("release")
        if not name or not version or not rel or pkg.get("arch") == "src":
            continue
        epoch = (pkg.get("epoch") or "0").strip()
        evr = f"{version}-{rel}" if epoch in ("", "0") else f"{epoch}:{version}-{rel}"
        versions = fixed.setdefault(name.strip(), [])
        if evr not in versions:
            versions.append(evr)
    if not fixed:
        return Skip(f"{advisory_id}: no binary package with a version")
    ecosystem = f"Amazon Linux:{release}"
    affected = [
        Affected(ecosystem=ecosystem, package=name, purl=f"pkg:rpm/amzn/{name}?distro=amzn-{release}",
                 ranges=[{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": v}]} for v in versions])
        for name, versions in sorted(fixed.items())
    ]
    label = normalize_label(severity)
    references = [{"type": "ADVISORY", "url": _advisory_url(advisory_id, release)}]
    references += [{"type": "WEB", "url": url} for url in urls if url and url != references[0]["url"]]
    specific: dict[str, Any] = {"severity": severity} if severity else {}
    specific.update(extra or {})
    return Vuln(
        id=advisory_id, affected=affected, summary=truncate(title, 500), details=truncate(description),
        severity=label, severity_source="alas severity" if label else None,
        published=timestamp(issued), modified=timestamp(updated) or timestamp(issued),
        references=references, upstream=sorted({c.strip() for c in cves if CVE_ID.match(c.strip())}),
        database_specific=specific or None,
    )
