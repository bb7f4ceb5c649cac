"""The CycloneDX 1.6 ``vulnerabilities`` section of ``scan --format cyclonedx``, from vulnerability findings.

One entry per finding (a vulnerability on one installed package), so that each keeps its own fixed version,
analysis and recommendation:

* ``id`` the vulnerability id, ``source`` the feed it was matched from, ``references`` its aliases (NVD, GitHub
  Advisories, OSV links where the id is one of theirs);
* ``ratings``: the reported severity with where it came from, and the CVSS score and vector when known;
* ``affects``: the component's ``bom-ref`` (``PURL#PATH``, as the SBOM writes it) with the installed version;
* ``analysis`` where no fix is available: state ``exploitable`` (the vendor lists the installed version as
  affected) with response ``will_not_fix`` (``wont-fix``) or ``can_not_fix`` (``not-fixed``, ``end-of-life``), and
  the vendor's reason as ``detail``. No ``justification``: CycloneDX defines those for ``not_affected`` only, and
  not-affected entries never become findings;
* ``recommendation``: the upgrade that fixes it; ``advisories``: the record's reference URLs; ``properties``:
  ``imagescan:known_exploited``, ``imagescan:epss``, ``imagescan:fix_state``, ``imagescan:finding_id``,
  ``imagescan:severity_source``, ``imagescan:source_package``.

Entries are plain JSON objects in the order cyclonedx-python-lib wrote them (:mod:`imagescan.sbom.cdxjson`): by id
then ``bom-ref``; ratings by severity word, score, source, method, vector; references by id then source; advisories
by URL. URLs go through the library's ``XsUri`` rules: one with a stray ``%`` or two ``#`` is left out, and spaces,
quotes, brackets and braces are percent-encoded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from imagescan.findings import Severity, VulnerabilityFinding
from imagescan.sbom.cdxjson import JsonObject, none_last, properties
from imagescan.vulndb.severity import label_for_score

_SEVERITY = {
    Severity.CRITICAL: "critical",
    Severity.HIGH: "high",
    Severity.MEDIUM: "medium",
    Severity.LOW: "low",
    Severity.INFORMATIONAL: "info",
}
_OSV_PREFIXES = ("PYSEC-", "GO-", "RUSTSEC-", "DSA-", "DLA-", "DTSA-", "DEBIAN-")
_INVALID_URI = re.compile(r"%(?![0-9A-F]{2})|#.*#", re.IGNORECASE | re.MULTILINE)
_URI_ESCAPES = ((" ", "%20"), ('"', "%22"), ("'", "%27"), ("[", "%5B"), ("]", "%5D"), ("<", "%3C"), (">", "%3E"),
                ("{", "%7B"), ("}", "%7D"))
_METHODS = (("CVSS:4.", "CVSSv4"), ("CVSS:3.1", "CVSSv31"), ("CVSS:3.", "CVSSv3"), ("CVSS:2.", "CVSSv2"),
            ("OWASP", "OWASP"))
_VECTOR_SCHEME = {
    "CVSSv4": re.compile(r"^CVSS:4\.\d/?"),
    "CVSSv31": re.compile(r"^CVSS:3\.\d/?"),
    "CVSSv3": re.compile(r"^CVSS:3\.\d/?"),
    "CVSSv2": re.compile(r"^CVSS:2\.\d/?"),
    "OWASP": re.compile(r"^OWASP/?"),
}
_NO_FIX_DETAIL = {
    "not-fixed": "no fixed version is available yet",
    "wont-fix": "the vendor will not fix it",
    "end-of-life": "the package is no longer supported in this release",
}


def component_ref(finding: VulnerabilityFinding) -> str:
    """The ``bom-ref`` the SBOM gives the finding's package (``sbom.cyclonedx``: ``PURL#PATH``)."""
    return f"{finding.purl}#{finding.path or ''}"


def uri(url: str) -> str | None:
    """``url`` as a CycloneDX ``iri-reference``, or None when it cannot be one (it is then left out)."""
    if _INVALID_URI.search(url):
        return None
    for char, escaped in _URI_ESCAPES:
        url = url.replace(char, escaped)
    return url


def _source(name: str, url: str | None = None) -> JsonObject:
    return {"name": name, "url": url} if url is not None else {"name": name}


def _source_key(source: JsonObject) -> tuple[str, tuple[bool, str]]:
    return (source["name"], none_last(source.get("url")))


def id_source(ident: str) -> JsonObject:
    """Who publishes an id, with the page about it where that is certain."""
    if ident.startswith("CVE-"):
        return _source("NVD", uri(f"https://nvd.nist.gov/vuln/detail/{ident}"))
    if ident.startswith("GHSA-"):
        return _source("GitHub Advisories", uri(f"https://github.com/advisories/{ident}"))
    if ident.startswith(_OSV_PREFIXES):
        return _source("OSV", uri(f"https://osv.dev/vulnerability/{ident}"))
    return _source(ident.split("-", 1)[0])


def score_method(vector: str, version: str | None) -> str:
    """The CycloneDX rating ``method`` of a CVSS vector: from its ``CVSS:x.y`` prefix, else ``CVSSv2`` for a
    version-2 score, else ``other``."""
    method = next((method for prefix, method in _METHODS if vector.startswith(prefix)), "other")
    if method == "other" and (version or "").startswith("2"):
        return "CVSSv2"
    return method


def _rating(source: JsonObject, method: str, *, severity: str | None = None, score: Decimal | None = None,
            vector: str | None = None, justification: str | None = None) -> tuple[tuple[Any, ...], JsonObject]:
    """A rating with its sort key."""
    if vector is not None and method in _VECTOR_SCHEME:
        vector = _VECTOR_SCHEME[method].sub("", vector)  # the library writes the vector without its scheme prefix
    rating: JsonObject = {}
    if justification is not None:
        rating["justification"] = justification
    rating["method"] = method
    if score is not None:
        rating["score"] = float(f"{score:.1f}")
    if severity is not None:
        rating["severity"] = severity
    rating["source"] = source
    if vector is not None:
        rating["vector"] = vector
    key = (none_last(severity), score or Decimal(0), _source_key(source), method, none_last(vector),
           none_last(justification))
    return key, rating


def _ratings(finding: VulnerabilityFinding) -> list[JsonObject]:
    source = _source(finding.data_source)
    ratings = [_rating(source, "other", severity=_SEVERITY[finding.severity],
                       justification=f"severity from {finding.severity_source}" if finding.severity_source else None)]
    cvss = finding.cvss
    if cvss and cvss.vector:
        score = None if cvss.score is None else Decimal(str(cvss.score))
        severity = None if cvss.score is None else _SEVERITY[Severity(label_for_score(cvss.score))]
        ratings.append(_rating(source, score_method(cvss.vector, cvss.version), severity=severity, score=score,
                               vector=cvss.vector))
    unique = dict(ratings)  # one of each: equal ratings have equal keys
    return [unique[key] for key in sorted(unique)]


def _analysis(finding: VulnerabilityFinding) -> JsonObject | None:
    if finding.fix_state == "fixed":
        return None
    response = "will_not_fix" if finding.fix_state == "wont-fix" else "can_not_fix"
    detail = finding.fix_state_reason or _NO_FIX_DETAIL[finding.fix_state]
    if finding.data_source not in detail:
        detail += f" ({finding.data_source})"
    return {"detail": f"{finding.fix_state}: {detail}", "response": [response], "state": "exploitable"}


def _properties(finding: VulnerabilityFinding) -> list[JsonObject]:
    pairs = [
        ("imagescan:finding_id", finding.id),
        ("imagescan:fix_state", finding.fix_state),
        ("imagescan:known_exploited", "true" if finding.known_exploited else "false"),
    ]
    if finding.epss is not None:
        pairs.append(("imagescan:epss", f"{finding.epss:g}"))
    if finding.severity_source:
        pairs.append(("imagescan:severity_source", finding.severity_source))
    if finding.source_package:
        pairs.append(("imagescan:source_package", finding.source_package))
    return properties(pairs)


def _references(finding: VulnerabilityFinding) -> list[JsonObject]:
    unique = {alias: {"id": alias, "source": id_source(alias)} for alias in finding.aliases}
    return sorted(unique.values(), key=lambda ref: (ref["id"], _source_key(ref["source"])))


def to_vulnerability(finding: VulnerabilityFinding) -> JsonObject:
    advisories = sorted({url for url in map(uri, finding.references) if url is not None})
    affected: JsonObject = {"ref": component_ref(finding)}
    if finding.installed_version:
        affected["versions"] = [{"status": "affected", "version": finding.installed_version}]
    entry: JsonObject = {}
    if advisories:
        entry["advisories"] = [{"url": url} for url in advisories]
    entry["affects"] = [affected]
    analysis = _analysis(finding)
    if analysis is not None:
        entry["analysis"] = analysis
    entry["bom-ref"] = f"vulnerability:{finding.id}"
    description = finding.description or finding.title
    if description is not None:
        entry["description"] = description
    entry["id"] = finding.vulnerability_id
    entry["properties"] = _properties(finding)
    entry["ratings"] = _ratings(finding)
    entry["recommendation"] = finding.remediation or f"No fixed version is available ({finding.fix_state})"
    references = _references(finding)
    if references:
        entry["references"] = references
    entry["source"] = _source(finding.data_source)
    return entry


def to_vulnerabilities(findings: Iterable[object]) -> list[JsonObject]:
    """The ``vulnerabilities`` entries of the vulnerability findings among ``findings``, by id then ``bom-ref``.

    An entry equal to an earlier one is dropped; one that only shares its ``bom-ref`` with an earlier one (two
    findings with one id: not expected) gets ``#2``, ``#3``... appended so that references stay unique."""
    entries = sorted((to_vulnerability(f) for f in findings if isinstance(f, VulnerabilityFinding)),
                     key=lambda e: (e["id"], e["bom-ref"]))
    kept: list[JsonObject] = []
    refs: dict[str, list[JsonObject]] = {}
    for entry in entries:
        same_ref = refs.setdefault(entry["bom-ref"], [])
        if entry in same_ref:
            continue
        same_ref.append(entry)
        if len(same_ref) > 1:
            entry = {**entry, "bom-ref": f"{entry['bom-ref']}#{len(same_ref)}"}
        kept.append(entry)
    return kept
