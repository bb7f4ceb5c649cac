"""Parser models (pydantic) of every event the pipeline's functions receive.

* :class:`EcrImageActionEvent`: EventBridge ``ECR Image Action`` (the push trigger), on powertools'
  ``EventBridgeModel``.
* :class:`ScheduledEvent`: the EventBridge schedule that runs the database refresh.
* The state machine's payloads: :class:`ScanRequest` (execution input), :class:`LayerTask` (one Map item of the
  layer fan-out), :class:`AssembleTask` (one platform), :class:`PublishTask`; and what the tasks return
  (:class:`ResolveOutput`, :class:`LayerOutcome`, :class:`PlatformResult`). Everything large travels by S3 key:
  a Step Functions state holds at most 256 KiB.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field

from imagescan.image.reference import ImageReference

DIGEST_PATTERN = r"^sha(256:[0-9a-f]{64}|512:[0-9a-f]{128})$"
SCAN_ID_PATTERN = r"^[A-Za-z0-9_-]{1,80}$"
"""A scan id is the name of its Step Functions execution."""


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- EventBridge -------------------------------------------------------------------------------------------------


class EcrImageActionDetail(BaseModel):
    """``detail`` of an ECR ``ECR Image Action`` event (push or delete of an image or other artifact)."""

    model_config = ConfigDict(populate_by_name=True)

    result: str
    repository_name: str = Field(alias="repository-name", min_length=1, max_length=256)
    image_digest: str = Field(alias="image-digest", pattern=DIGEST_PATTERN)
    action_type: str = Field(alias="action-type")
    image_tag: str | None = Field(None, alias="image-tag")
    manifest_media_type: str | None = Field(None, alias="manifest-media-type")
    artifact_media_type: str | None = Field(None, alias="artifact-media-type")


class EcrImageActionEvent(EventBridgeModel):
    source: Literal["aws.ecr"]
    detail_type: Literal["ECR Image Action"] = Field(alias="detail-type")
    detail: EcrImageActionDetail


class ScheduledEvent(EventBridgeModel):
    """An EventBridge schedule rule's event (``detail-type: Scheduled Event``, empty detail)."""

    detail: dict[str, Any] = Field(default_factory=dict)


# -- the state machine's payloads ----------------------------------------------------------------------------------


class ImageTarget(_Payload):
    """The pushed image: registry host, repository and the digest that was pushed (a manifest or an index)."""

    registry: str = Field(min_length=1, max_length=255)
    repository: str = Field(min_length=1, max_length=256)
    digest: str = Field(pattern=DIGEST_PATTERN)
    tag: str | None = None

    def reference(self, digest: str | None = None) -> ImageReference:
        """The registry reference of this image, or of one of its platform manifests (``digest``)."""
        return ImageReference("docker", registry=self.registry, repository=self.repository, tag=self.tag,
                              digest=digest or self.digest)

    @property
    def key(self) -> str:
        """``REGISTRY/REPOSITORY@DIGEST``: the image's key in the images and findings tables."""
        return f"{self.registry}/{self.repository}@{self.digest}"

    @property
    def repository_key(self) -> str:
        return f"{self.registry}/{self.repository}"


class ScanRequest(_Payload):
    """The execution input: what the push handler starts, and what a person starts by hand
    (``events/state-machine-input.json``)."""

    scan_id: str = Field(pattern=SCAN_ID_PATTERN)
    image: ImageTarget
    requested_at: dt.datetime
    trigger: str | None = None
    """The id of the EventBridge event that asked for the scan."""
    expires_at: int | None = None
    """Epoch seconds at which the scan's records expire (DynamoDB TTL); default from the settings."""


class LayerItem(_Payload):
    """One distinct layer (by diff_id) of the image's platforms: one item of the layer Map."""

    digest: str = Field(pattern=DIGEST_PATTERN)
    diff_id: str = Field(pattern=DIGEST_PATTERN)
    size: int = Field(ge=0)
    cached: bool = False
    """Its result was in the layer cache when the image was resolved: the Map skips the analysis."""


class PlatformItem(_Payload):
    """One platform image of the scan: one item of the assemble Map; its plan is in S3 at ``plan_key``."""

    platform: str
    slug: str = Field(pattern=r"^[A-Za-z0-9._-]{1,100}$")
    """The platform as one path segment of S3 keys (``linux-arm64-v8``), unique within the scan."""
    manifest_digest: str = Field(pattern=DIGEST_PATTERN)
    plan_key: str
    layers: int = Field(ge=0)


class ResolveOutput(_Payload):
    scan_id: str = Field(pattern=SCAN_ID_PATTERN)
    image: ImageTarget
    expires_at: str = Field(pattern=r"^[0-9]{1,12}$")
    """Epoch seconds as a string: the failure-record states write it to DynamoDB as a number (``N``)."""
    platforms: list[PlatformItem]
    layers: list[LayerItem]


class LayerTask(_Payload):
    scan_id: str = Field(pattern=SCAN_ID_PATTERN)
    image: ImageTarget
    expires_at: str = Field(pattern=r"^[0-9]{1,12}$")
    layer: LayerItem


class LayerOutcome(_Payload):
    cached: bool
    failed: bool = False


class AssembleTask(_Payload):
    scan_id: str = Field(pattern=SCAN_ID_PATTERN)
    image: ImageTarget
    platform: PlatformItem


class PlatformResult(_Payload):
    """What assembling one platform produced: its SBOM and report (with the findings) in S3, and counts."""

    platform: str
    manifest_digest: str = Field(pattern=DIGEST_PATTERN)
    sbom_key: str
    report_key: str
    packages: int = Field(ge=0)
    findings: dict[str, int]
    """Findings per severity."""
    incomplete_layers: int = Field(ge=0)
    os: str | None = None
    database_built_at: str | None = None
    """When the vulnerability database used was built; None when there was none."""


class PublishTask(_Payload):
    scan_id: str = Field(pattern=SCAN_ID_PATTERN)
    image: ImageTarget
    started_at: dt.datetime
    execution_arn: str | None = None
    platforms: list[PlatformResult]
    layers: list[LayerOutcome]


class PublishOutput(_Payload):
    scan_id: str
    status: Literal["SUCCEEDED", "INCOMPLETE"]
    result_key: str
