"""The JSON report (``schema: imagescan/report/v1``) exactly as SPEC lays it out."""

from __future__ import annotations

from typing import Any

from imagescan.findings import Finding
from imagescan.match.guidance import fix_guidance
from imagescan.sbom.purl import package_purl
from imagescan.scan import ImageAnalysis
from imagescan.secrets.scanner import redact
from imagescan.vulndb.models import DbInfo

SCHEMA = "imagescan/report/v1"


def _history_by_layer(config: dict[str, Any]) -> list[str | None]:
    """``created_by`` of each non-empty history entry, in layer order."""
    out: list[str | None] = []
    for entry in config.get("history") or []:
        if isinstance(entry, dict) and not entry.get("empty_layer"):
            out.append(entry.get("created_by"))
    return out


def _redact(value: Any) -> Any:
    """Config strings echo secrets the ``secrets`` check reports (``ENV DB_PASSWORD=...``): mask them here too."""
    return redact(value) if isinstance(value, str) else value


def _redact_list(value: Any) -> Any:
    return [_redact(v) for v in value] if isinstance(value, list) else value


def image_section(analysis: ImageAnalysis) -> dict[str, Any]:
    config = analysis.image.config
    run: dict[str, Any] = config["config"] if isinstance(config.get("config"), dict) else {}
    history = _history_by_layer(config)
    layers = []
    for i, (desc, diff_id) in enumerate(zip(analysis.image.layers, analysis.image.diff_ids, strict=True)):
        layers.append({"digest": desc.digest, "diff_id": diff_id, "size": desc.size,
                       "created_by": _redact(history[i]) if i < len(history) else None})
    os = analysis.os
    return {
        "reference": str(analysis.reference),
        "digest": analysis.digest,
        "platform": str(analysis.image.platform),
        "created": analysis.image.created,
        "os": {"id": os.id, "version_id": os.version_id, "name": os.pretty_name or os.name} if os else None,
        "config": {
            "user": run.get("User") or None,
            "env": [_redact(e) for e in run.get("Env") or []],
            "entrypoint": _redact_list(run.get("Entrypoint")),
            "cmd": _redact_list(run.get("Cmd")),
            "exposed_ports": sorted((run.get("ExposedPorts") or {}).keys()),
        },
        "layers": layers,
    }


def packages_section(analysis: ImageAnalysis) -> list[dict[str, Any]]:
    rows = []
    for pkg in analysis.merged.packages:
        rows.append({"purl": package_purl(pkg, analysis.os).to_string(), "type": str(pkg.type), "name": pkg.name,
                     "version": pkg.version, "layer_diff_id": pkg.layer_diff_id, "path": pkg.path})
    return sorted(rows, key=lambda r: (r["type"], r["name"], r["version"], r["path"]))


def database_section(info: DbInfo | None) -> dict[str, Any] | None:
    """SPEC's ``database``: when the database was built and from which feeds; None when no database was used."""
    if info is None:
        return None
    return {
        "built_at": info.built_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "schema_version": info.schema_version,
        "sources": [
            {"name": s.name, "format": s.format, "records": s.records, "version": s.version,
             "newest_modified": s.newest_modified, "url": s.url}
            for s in info.sources
        ],
    }


def fix_guidance_section(findings: list[Finding]) -> list[dict[str, Any]]:
    """What to upgrade to fix the reported vulnerabilities (:mod:`imagescan.match.guidance`)."""
    return [g.model_dump(mode="json", exclude_none=True) for g in fix_guidance(findings)]


def finding_dict(finding: Finding) -> dict[str, Any]:
    """A finding as the report shows it: unset optional fields left out, except a vulnerability's
    ``fixed_version``, which SPEC keeps as null when there is no fix."""
    doc = finding.model_dump(mode="json", exclude_none=True)
    if doc.get("kind") == "vulnerability":
        doc.setdefault("fixed_version", None)
    return doc


def build_report(analysis: ImageAnalysis, findings: list[Finding], database: DbInfo | None = None) -> dict[str, Any]:
    """The report of SPEC, plus ``fix_guidance`` (one line of advice per package to upgrade)."""
    return {
        "schema": SCHEMA,
        "image": image_section(analysis),
        "packages": packages_section(analysis),
        "findings": [finding_dict(f) for f in findings],
        "fix_guidance": fix_guidance_section(findings),
        "warnings": [w.model_dump(mode="json", exclude_none=True) for w in analysis.warnings],
        "database": database_section(database),
    }
