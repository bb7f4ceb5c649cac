"""DynamoDB records of scans and images.

Scan-state table (key ``scan_id`` + ``item``): the ``scan`` item of each scan moves QUEUED → RUNNING →
SUCCEEDED / INCOMPLETE / FAILED (FAILED and the ``layer#<diff_id>`` failure items are written by the state
machine's failure-record states); GSI ``by-image`` (``image_digest``, ``requested_at``) lists an image's scans.
Items expire through the TTL attribute ``expires_at``.

Images table (key ``repository`` + ``digest``): the latest scan of each image (status, platforms, SBOM keys,
findings per severity); GSI ``by-digest`` finds every repository holding a digest. Items expire when an image
has not been scanned for ``IMAGE_RECORD_DAYS``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from imagescan.aws.documents import ScanResult
from imagescan.aws.errors import from_aws_error
from imagescan.aws.events import ImageTarget

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SCAN_ITEM = "scan"
_serializer = TypeSerializer()


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    """Floats as Decimal (DynamoDB numbers), recursively."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _values(values: Mapping[str, Any]) -> dict[str, Any]:
    return {f":{k}": _serializer.serialize(_plain(v)) for k, v in values.items()}


def _update(client: DynamoDBClient, table: str, key: Mapping[str, str], values: Mapping[str, Any],
            *, add_tags: str | None = None) -> None:
    """``SET`` every field of ``values`` on the item (created when absent); ``ADD`` a tag to the ``tags`` set."""
    names = {f"#{k}": k for k in values}
    expression = "SET " + ", ".join(f"#{k} = :{k}" for k in values)
    attribute_values = _values(values)
    if add_tags:
        names["#tags"] = "tags"
        expression += " ADD #tags :added_tag"
        attribute_values[":added_tag"] = {"SS": [add_tags]}
    try:
        client.update_item(
            TableName=table, Key={k: {"S": v} for k, v in key.items()},
            UpdateExpression=expression, ExpressionAttributeNames=names, ExpressionAttributeValues=attribute_values,
        )
    except (BotoCoreError, ClientError) as exc:
        raise from_aws_error(exc, f"UpdateItem {table}") from exc


def _image_fields(image: ImageTarget) -> dict[str, Any]:
    fields: dict[str, Any] = {"image": image.key, "image_digest": image.digest, "registry": image.registry,
                              "repository": image.repository}
    if image.tag:
        fields["tag"] = image.tag
    return fields


class ScanStateTable:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self.table = table

    def _set(self, scan_id: str, values: Mapping[str, Any]) -> None:
        _update(self._client, self.table, {"scan_id": scan_id, "item": SCAN_ITEM}, values)

    def queued(self, scan_id: str, image: ImageTarget, requested_at: dt.datetime, expires_at: int,
               trigger: str | None) -> None:
        values = {**_image_fields(image), "status": "QUEUED", "requested_at": _iso(requested_at),
                  "updated_at": _iso(dt.datetime.now(dt.UTC)), "expires_at": expires_at}
        if trigger:
            values["trigger"] = trigger
        self._set(scan_id, values)

    def running(self, scan_id: str, image: ImageTarget, expires_at: int, platforms: int, layers: int,
                cached: int) -> None:
        now = dt.datetime.now(dt.UTC)
        self._set(scan_id, {**_image_fields(image), "status": "RUNNING", "updated_at": _iso(now),
                            "expires_at": expires_at, "platforms": platforms, "layers": layers,
                            "layers_cached_at_start": cached})

    def finished(self, result: ScanResult, result_key: str) -> None:
        self._set(result.scan_id, {
            "status": result.status, "updated_at": _iso(dt.datetime.now(dt.UTC)),
            "finished_at": _iso(result.completed_at), "result_key": result_key,
            "duration_seconds": result.duration_seconds, "findings": dict(result.findings),
            "layers_analyzed": result.layers.analyzed, "layers_cached": result.layers.cached,
            "layers_failed": result.layers.failed,
        })

    def get(self, scan_id: str, item: str = SCAN_ITEM) -> dict[str, Any] | None:
        from boto3.dynamodb.types import TypeDeserializer

        try:
            found = self._client.get_item(TableName=self.table, Key={"scan_id": {"S": scan_id}, "item": {"S": item}},
                                          ConsistentRead=True)
        except (BotoCoreError, ClientError) as exc:
            raise from_aws_error(exc, f"GetItem {self.table}") from exc
        raw = found.get("Item")
        if raw is None:
            return None
        deserializer = TypeDeserializer()
        return {k: deserializer.deserialize(v) for k, v in raw.items()}


class ImagesTable:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self.table = table

    def record(self, result: ScanResult, result_key: str, retention_days: int) -> None:
        image = result.image
        expires = int((result.completed_at + dt.timedelta(days=retention_days)).timestamp())
        values: dict[str, Any] = {
            "image": image.key, "last_scan_id": result.scan_id, "last_scanned_at": _iso(result.completed_at),
            "status": result.status, "result_key": result_key, "findings": dict(result.findings),
            "platforms": [{"platform": p.platform, "manifest_digest": p.manifest_digest, "sbom_key": p.sbom_key,
                           "report_key": p.report_key, "packages": p.packages, "os": p.os or ""}
                          for p in result.platforms],
            "expires_at": expires,
        }
        _update(self._client, self.table, {"repository": image.repository_key, "digest": image.digest}, values,
                add_tags=image.tag)
