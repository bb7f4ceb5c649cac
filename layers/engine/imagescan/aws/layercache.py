"""The layer-result cache: S3 objects ``layers/<cache_key>.json`` (gzip-compressed JSON of a
:class:`~imagescan.models.LayerResult`).

The cache key covers the layer's diff_id and every analyzer's version (:func:`imagescan.layer.walker.cache_key_for`),
so a base layer shared by many images is analysed once per analyzer release. Only complete results enter the
cache; an incomplete one (corrupt or truncated blob) is kept under its scan (``scans/<scan_id>/layers/``) so the
scan can report what was read, and the next scan tries the layer again. A cached object that does not parse (an
older schema, damage) counts as a miss and is overwritten by the next analysis.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pydantic import ValidationError

from imagescan.aws import keys, s3io
from imagescan.models import LayerResult

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)


class LayerCache:
    def __init__(self, s3: S3Client, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def has(self, cache_key: str) -> bool:
        return s3io.exists(self._s3, self._bucket, keys.layer_key(cache_key))

    def get(self, cache_key: str) -> LayerResult | None:
        return self._load(keys.layer_key(cache_key), cache_key)

    def put(self, result: LayerResult) -> str:
        """Store a complete result under its cache key; returns the object key."""
        if not result.complete:
            raise ValueError(f"layer {result.diff_id}: an incomplete result never enters the shared cache")
        key = keys.layer_key(result.cache_key)
        self._store(key, result)
        return key

    def get_partial(self, scan_id: str, cache_key: str) -> LayerResult | None:
        return self._load(keys.partial_layer_key(scan_id, cache_key), cache_key)

    def put_partial(self, scan_id: str, result: LayerResult) -> str:
        key = keys.partial_layer_key(scan_id, result.cache_key)
        self._store(key, result)
        return key

    def _store(self, key: str, result: LayerResult) -> None:
        metadata = {"diff-id": result.diff_id, "schema": str(result.schema_version),
                    "complete": str(result.complete).lower()}
        s3io.put_json(self._s3, self._bucket, key, result.model_dump_json(), compress=True, metadata=metadata)

    def _load(self, key: str, cache_key: str) -> LayerResult | None:
        try:
            body = s3io.get_bytes(self._s3, self._bucket, key)
            if body is None:
                return None
            result = LayerResult.model_validate_json(body)
        except (ValueError, ValidationError) as exc:
            log.warning("unusable layer result, treated as a miss", extra={"key": key, "reason": str(exc)[:300]})
            return None
        if result.cache_key != cache_key:
            log.warning("layer result under another cache key, treated as a miss", extra={"key": key})
            return None
        return result
