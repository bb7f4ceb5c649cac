"""The JSON report (``schema: imagescan/report/v1``) exactly as SPEC lays it out."""

from __future__ import annotations

from typing import Any

from imagescan.findings import Finding
from imagescan.sbom.purl import package_purl
from imagescan.scan import ImageAnalysis

SCHEMA = "imagescan/report/v1"


def _history_by_layer(config: dict[str, Any]) -> list[str | None]:
    """``created_by`` of each non-empty history entry, in layer order."""
    out: list[str | None] = []
    for entry in config.get("history") or []:
        if isinstance(entry, dict) and not entry.get("empty_layer"):
            out.append(entry.get("created_by"))
    return out


def image_section(analysis: ImageAnalysis) -> dict[str, Any]:
    config = analysis.image.config
    run: dict[str, Any] = config["config"] if isinstance(config.get("config"), dict) else {}
    history = _history_by_layer(config)
    layers = []
    for i, (desc, diff_id) in enumerate(zip(analysis.image.layers, analysis.image.diff_ids, strict=True)):
        layers.append({"digest": desc.digest, "diff_id": diff_id, "size": desc.size,
                       "created_by": history[i] if i < len(history) else None})
    os = analysis.os
    return {
        "reference": str(analysis.reference),
        "digest": analysis.digest,
        "platform": str(analysis.image.platform),
        "created": analysis.image.created,
        "os": {"id": os.id, "version_id": os.version_id, "name": os.pretty_name or os.name} if os else None,
        "config": {
            "user": run.get("User") or None,
            "env": list(run.get("Env") or []),
            "entrypoint": run.get("Entrypoint"),
            "cmd": run.get("Cmd"),
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


def build_report(analysis: ImageAnalysis, findings: list[Finding]) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "image": image_section(analysis),
        "packages": packages_section(analysis),
        "findings": [f.model_dump(mode="json", exclude_none=True) for f in findings],
        "warnings": [w.model_dump(mode="json", exclude_none=True) for w in analysis.warnings],
        "database": None,
    }
