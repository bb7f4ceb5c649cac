"""The S3 key layout of the pipeline's bucket (lifecycle rules in ``template.yaml`` match these prefixes).

* ``layers/<cache_key>.json``: a complete :class:`~imagescan.models.LayerResult` (gzip JSON), shared by every
  image with that layer; expires after ``LayerCacheDays``.
* ``scans/<scan_id>/``: one scan's documents (platform plans, partial layer results, reports, ``result.json``);
  expire after ``ScanRecordDays``.
* ``sboms/<image digest>/<platform>.cdx.json``: the latest CycloneDX SBOM of each platform of an image; expire
  after ``SbomRetentionDays``.
* ``db/imagescan.db``: the vulnerability database (kept).
"""

from __future__ import annotations

import re

LAYERS = "layers/"
SCANS = "scans/"
SBOMS = "sboms/"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def platform_slug(platform: str) -> str:
    """``linux/arm64/v8`` → ``linux-arm64-v8``: one path segment."""
    return _UNSAFE.sub("-", platform).strip("-") or "unknown"


def layer_key(cache_key: str) -> str:
    return f"{LAYERS}{cache_key}.json"


def partial_layer_key(scan_id: str, cache_key: str) -> str:
    """Where an incomplete layer result of one scan is kept: never in the shared cache."""
    return f"{SCANS}{scan_id}/layers/{cache_key}.json"


def plan_key(scan_id: str, slug: str) -> str:
    return f"{SCANS}{scan_id}/platforms/{slug}/image.json"


def report_key(scan_id: str, slug: str) -> str:
    return f"{SCANS}{scan_id}/platforms/{slug}/report.json"


def result_key(scan_id: str) -> str:
    return f"{SCANS}{scan_id}/result.json"


def sbom_key(image_digest: str, slug: str) -> str:
    return f"{SBOMS}{image_digest}/{slug}.cdx.json"
