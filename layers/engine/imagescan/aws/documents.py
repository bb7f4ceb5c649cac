"""Documents the pipeline keeps in S3 between its steps (see :mod:`.keys` for where)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from imagescan.aws.events import ImageTarget, PlatformResult
from imagescan.image.manifest import Descriptor, Platform, ResolvedImage

RESULT_SCHEMA = "imagescan/scan-result/v1"


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlanLayer(_Document):
    digest: str
    diff_id: str
    size: int
    media_type: str = ""


class PlatformPlan(_Document):
    """One platform image as the resolve step found it: what assembling it needs besides the layer results."""

    platform: str
    manifest_digest: str
    manifest_media_type: str
    config_digest: str
    config: dict[str, Any]
    index_digest: str | None = None
    layers: list[PlanLayer]

    @classmethod
    def of(cls, image: ResolvedImage) -> PlatformPlan:
        return cls(
            platform=str(image.platform), manifest_digest=image.manifest_digest,
            manifest_media_type=image.manifest_media_type, config_digest=image.config_digest, config=image.config,
            index_digest=image.index_digest,
            layers=[PlanLayer(digest=d.digest, diff_id=diff_id, size=d.size, media_type=d.media_type)
                    for d, diff_id in zip(image.layers, image.diff_ids, strict=True)],
        )

    def resolved(self) -> ResolvedImage:
        config = self.config
        platform = Platform(str(config.get("os", "")), str(config.get("architecture", "")), config.get("variant"))
        return ResolvedImage(
            manifest_digest=self.manifest_digest, manifest_media_type=self.manifest_media_type,
            config_digest=self.config_digest, config=config,
            layers=[Descriptor(media_type=layer.media_type, digest=layer.digest, size=layer.size)
                    for layer in self.layers],
            diff_ids=[layer.diff_id for layer in self.layers], platform=platform, index_digest=self.index_digest,
        )


class LayerCounts(_Document):
    total: int = Field(ge=0)
    """Distinct layers (by diff_id) over every platform."""
    analyzed: int = Field(ge=0)
    cached: int = Field(ge=0)
    failed: int = Field(ge=0)


class ScanResult(_Document):
    """``scans/<scan_id>/result.json``: the scan's outcome, the hand-off to every publisher.

    The findings are in each platform's report (``platforms[].report_key``: the JSON report of SPEC, schema
    ``imagescan/report/v1``, whose ``findings`` have stable ids); the SBOMs at ``platforms[].sbom_key``.
    """

    schema_: Literal["imagescan/scan-result/v1"] = Field(default="imagescan/scan-result/v1", alias="schema")
    scan_id: str
    status: Literal["SUCCEEDED", "INCOMPLETE"]
    image: ImageTarget
    execution_arn: str | None = None
    started_at: dt.datetime
    completed_at: dt.datetime
    duration_seconds: float
    layers: LayerCounts
    platforms: list[PlatformResult]
    findings: dict[str, int]
    """Findings per severity over every platform."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
