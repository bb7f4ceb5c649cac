"""SARIF 2.1.0 (``scan --format sarif``) for GitHub code scanning, built from the JSON report.

* one ``rule`` per vulnerability id (per rule of the other kinds: ``secret/RULE``, the misconfiguration rule,
  ``end-of-life/PRODUCT``, ``scan-incomplete/CODE``), with a short and full description, a help text, the first
  reference as ``helpUri``, and the properties GitHub reads: ``security-severity`` (the CVSS score when it agrees
  with the reported severity, else a score in the middle of the severity's band, so GitHub shows the severity we
  report) and ``tags``;
* one ``result`` per finding: ``level`` from the severity (``error`` for CRITICAL/HIGH, ``warning`` for MEDIUM,
  ``note`` below), the message, one location (the file the package was read from, e.g. ``var/lib/dpkg/status`` or a
  ``METADATA`` file; the image itself for findings with no file), and ``partialFingerprints`` holding the finding's
  stable id, so alerts survive re-uploads.

Paths in an image are relative URIs (no base): GitHub shows them as they are.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import imagescan
from imagescan.vulndb.severity import label_for_score

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "imagescanFindingId/v1"

LEVELS = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "note", "INFORMATIONAL": "note"}
BAND_SCORES = {"CRITICAL": 9.5, "HIGH": 8.0, "MEDIUM": 5.5, "LOW": 2.0, "INFORMATIONAL": 0.0}
"""A ``security-severity`` inside GitHub's band for each severity (critical > 9.0, high 7.0-8.9, medium 4.0-6.9,
low 0.1-3.9)."""


def security_severity(finding: dict[str, Any]) -> float:
    severity = finding["severity"]
    cvss = finding.get("cvss") or {}
    score = cvss.get("score")
    if isinstance(score, int | float) and label_for_score(float(score)) == severity:
        return float(score)
    return BAND_SCORES.get(severity, 0.0)


def rule_id(finding: dict[str, Any]) -> str:
    kind = finding["kind"]
    if kind == "vulnerability":
        return str(finding["vulnerability_id"])
    if kind == "end-of-life":
        return f"end-of-life/{finding.get('product', 'unknown')}"
    if kind == "scan-incomplete":
        return f"scan-incomplete/{finding.get('code', 'unknown')}"
    if kind == "secret":
        return f"secret/{finding.get('rule', 'unknown')}"
    return str(finding.get("rule") or kind)


def _location_uri(finding: dict[str, Any], image: dict[str, Any]) -> str:
    path = finding.get("path")
    if isinstance(path, str) and path and not path.startswith(("config:", "history:")):
        return quote(path.lstrip("/"), safe="/@+~=,:")
    return quote(str(image.get("reference") or "image"), safe="/@+~=,:")


def _message(finding: dict[str, Any]) -> str:
    if finding["kind"] != "vulnerability":
        return str(finding.get("reason") or finding.get("description") or finding["title"])
    text = (f"{finding['package_name']} {finding['installed_version']} is affected by {finding['vulnerability_id']}"
            f" ({finding['severity']}")
    if finding.get("known_exploited"):
        text += ", known exploited"
    text += ")."
    if finding.get("fixed_version"):
        text += f" Fixed in {finding['fixed_version']}."
    else:
        text += f" No fix available ({finding['fix_state']})."
    return text


def _help(finding: dict[str, Any]) -> str:
    lines = [finding.get("description") or finding["title"]]
    if finding["kind"] == "vulnerability":
        if finding.get("aliases"):
            lines.append("Also known as " + ", ".join(finding["aliases"]) + ".")
        lines.append(f"Data source: {finding['data_source']}.")
    if finding.get("remediation"):
        lines.append(str(finding["remediation"]))
    return "\n\n".join(lines)


def _rule(finding: dict[str, Any]) -> dict[str, Any]:
    kind = finding["kind"]
    short = finding["title"] if kind != "vulnerability" else (
        f"{finding['vulnerability_id']}: {(finding.get('description') or finding['title']).splitlines()[0][:200]}")
    rule: dict[str, Any] = {
        "id": rule_id(finding),
        "name": kind.title().replace("-", ""),
        "shortDescription": {"text": short},
        "fullDescription": {"text": finding.get("description") or finding["title"]},
        "help": {"text": _help(finding)},
        "defaultConfiguration": {"level": LEVELS.get(finding["severity"], "warning")},
        "properties": {
            "security-severity": f"{security_severity(finding):.1f}",
            "tags": ["security", kind],
        },
    }
    references = finding.get("references") or []
    if references:
        rule["helpUri"] = references[0]
    return rule


def _result(finding: dict[str, Any], index: int, image: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {"kind": finding["kind"], "severity": finding["severity"]}
    for key in ("purl", "installed_version", "fixed_version", "fix_state", "known_exploited", "epss", "data_source",
                "layer_diff_id", "code"):
        if finding.get(key) is not None:
            properties[key] = finding[key]
    return {
        "ruleId": rule_id(finding),
        "ruleIndex": index,
        "level": LEVELS.get(finding["severity"], "warning"),
        "message": {"text": _message(finding)},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": _location_uri(finding, image)}}}],
        "partialFingerprints": {FINGERPRINT_KEY: finding["id"]},
        "properties": properties,
    }


def build_sarif(report: dict[str, Any]) -> dict[str, Any]:
    """The SARIF log of a JSON report (:func:`imagescan.report.json_report.build_report`)."""
    image = report.get("image") or {}
    rules: dict[str, dict[str, Any]] = {}
    for finding in report["findings"]:
        rid = rule_id(finding)
        rule = _rule(finding)
        current = rules.get(rid)
        if current is None or (float(rule["properties"]["security-severity"])
                               > float(current["properties"]["security-severity"])):
            rules[rid] = rule  # a rule takes the most severe of its results
    ordered = sorted(rules)
    index = {rid: i for i, rid in enumerate(ordered)}
    results = [_result(f, index[rule_id(f)], image) for f in report["findings"]]
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "imagescan",
            "version": imagescan.__version__,
            "semanticVersion": imagescan.__version__,
            "rules": [rules[rid] for rid in ordered],
        }},
        "results": results,
        "properties": {"image": {k: image.get(k) for k in ("reference", "digest", "platform")}},
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
