"""The scan state machine's steps (``statemachine/scan.asl.json``): resolve, analyze one layer, assemble one
platform. Publishing is in :mod:`imagescan.aws.publish`.

* **resolve** reads the pushed manifest or index from the registry (ECR: ``GetAuthorizationToken``, then the
  registry API; another account's registry only when that account is allowed, as its read role:
  :mod:`imagescan.aws.registry_access`); every platform image of an index is scanned (attestation manifests
  skipped). Each platform's plan (manifest, config, layers) goes to S3; the state gets the distinct layers (by
  diff_id, over every platform) for the layer Map, each marked ``cached`` when its result is already in the layer
  cache.
* **analyze** checks the cache first (another scan may have analysed the layer meanwhile), else streams the layer
  blob from the registry (blob GETs redirect to a pre-signed S3 URL, which the client follows) through the
  layer walker, one layer per invocation, and stores the result under its cache key. A layer that cannot be read
  to its end raises :class:`~imagescan.aws.errors.LayerIncompleteError` after keeping what was read under the scan.
* **assemble** loads the platform's layer results from S3 (the cached one, else the scan's partial one, else a
  placeholder that says the layer could not be analysed), merges them exactly as the CLI does
  (:func:`imagescan.scan.assemble_analysis`), writes the SBOM, runs the image checks with the vulnerability
  database from S3 (cached in ``/tmp`` by ETag) and writes the report.

Everything large is passed by S3 key; the state keeps counts, digests and keys. The registry is reached through
:attr:`Pipeline.open_source`, a dependency: production uses the ECR host itself, tests and local runs map the host
to a local registry (:func:`registry_opener`'s ``endpoints``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from imagescan.aws import clients, keys, s3io
from imagescan.aws.dbcache import DEFAULT_DIRECTORY, DatabaseCache
from imagescan.aws.documents import PlatformPlan
from imagescan.aws.errors import ImageUnavailableError, LayerIncompleteError, from_registry_error
from imagescan.aws.events import (
    AssembleTask,
    LayerItem,
    LayerOutcome,
    LayerTask,
    PlatformItem,
    PlatformResult,
    ResolveOutput,
    ScanRequest,
)
from imagescan.aws.layercache import LayerCache
from imagescan.aws.observability import LAYER_CACHE_HITS, LAYERS_ANALYZED, count, logger
from imagescan.aws.registry_access import RegistryAccess
from imagescan.aws.scanstate import ScanStateTable
from imagescan.aws.settings import Settings
from imagescan.catalog.base import Cataloger
from imagescan.catalog.registry import default_catalogers
from imagescan.checks.base import CheckContext, ImageCheck
from imagescan.checks.registry import run_checks
from imagescan.errors import RegistryError, ScanError
from imagescan.image.manifest import ResolvedImage, resolve_all
from imagescan.image.reference import ImageReference
from imagescan.image.source import BlobSource
from imagescan.layer.walker import Limits, analyze_layer, analyzer_versions, cache_key_for
from imagescan.models import LayerResult, ScanWarning
from imagescan.report.json_report import build_report
from imagescan.sbom.cyclonedx import sbom_json
from imagescan.scan import assemble_analysis
from imagescan.vulndb.errors import VulnDBError
from imagescan.vulndb.store import VulnDB

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

SourceOpener = Callable[[ImageReference], BlobSource]
MAX_DISTINCT_LAYERS = 800
"""Layer items the Map gets at most: ~200 bytes each keeps the state well under Step Functions' 256 KiB."""


def registry_opener(endpoints: Mapping[str, str] | None = None, access: RegistryAccess | None = None) -> SourceOpener:
    """Opens a registry client with ECR credentials from the container's token cache: ``access``'s, which asks
    for another account's token as that account's read role, else the functions' own credentials for every host.
    ``endpoints`` maps a registry host to the ``scheme://host:port`` actually spoken to (a mirror; a local
    registry in tests)."""
    mapping = dict(endpoints or {})

    def open_source(ref: ImageReference) -> BlobSource:
        from imagescan.image.registry import RegistryClient

        tokens = access.tokens if access is not None else clients.ecr_tokens()
        return RegistryClient(ref, ecr_provider=tokens, endpoint=mapping.get(ref.registry or ""))

    return open_source


def _unique_slugs(images: list[ResolvedImage]) -> list[str]:
    seen: Counter[str] = Counter()
    slugs = []
    for image in images:
        slug = keys.platform_slug(str(image.platform))
        seen[slug] += 1
        slugs.append(slug if seen[slug] == 1 else f"{slug}-{seen[slug]}")
    return slugs


def _placeholder(item_digest: str, diff_id: str, catalogers: list[Cataloger]) -> LayerResult:
    """What assembling knows of a layer that has no result: nothing, and says so."""
    return LayerResult(
        digest=item_digest, diff_id=diff_id, cache_key=cache_key_for(diff_id, catalogers),
        analyzers=analyzer_versions(catalogers), complete=False,
        warnings=[ScanWarning(code="layer-unreadable", layer_diff_id=diff_id,
                              message=f"layer {item_digest} could not be analysed (see the scan's failure record)")],
    )


@dataclass
class Pipeline:
    settings: Settings
    s3: S3Client
    dynamodb: DynamoDBClient
    open_source: SourceOpener = field(default_factory=registry_opener)
    catalogers: Callable[[], list[Cataloger]] = default_catalogers
    checks: Callable[[], list[ImageCheck]] | None = None
    """None: :func:`imagescan.checks.registry.default_checks`."""
    db_directory: Path = DEFAULT_DIRECTORY
    limits: Limits = field(default_factory=Limits)
    registry_access: RegistryAccess | None = None
    """Which registry accounts may be read (None: :meth:`RegistryAccess.from_settings`). Give ``open_source``
    the same one (:func:`registry_opener`) so that other accounts are read as their read role."""

    @classmethod
    def from_env(cls) -> Pipeline:
        settings = Settings.from_env()
        access = RegistryAccess.from_settings(settings)
        return cls(settings=settings, s3=clients.s3(), dynamodb=clients.dynamodb(),
                   open_source=registry_opener(access=access), registry_access=access)

    @cached_property
    def access(self) -> RegistryAccess:
        return self.registry_access or RegistryAccess.from_settings(self.settings)

    @cached_property
    def layer_cache(self) -> LayerCache:
        return LayerCache(self.s3, self.settings.bucket)

    @cached_property
    def database(self) -> DatabaseCache:
        return DatabaseCache(self.s3, self.settings.bucket, self.settings.db_key, self.db_directory)

    @cached_property
    def scan_state(self) -> ScanStateTable:
        self.settings.require("scan_state_table")
        return ScanStateTable(self.dynamodb, self.settings.scan_state_table)

    # -- resolve

    def resolve(self, request: ScanRequest) -> ResolveOutput:
        image = request.image
        expires_at = request.expires_at or int(
            (dt.datetime.now(dt.UTC) + dt.timedelta(days=self.settings.scan_record_days)).timestamp())
        images = self._resolve_images(image.reference())
        platforms: list[PlatformItem] = []
        distinct: dict[str, LayerItem] = {}
        for resolved, slug in zip(images, _unique_slugs(images), strict=True):
            plan = PlatformPlan.of(resolved)
            plan_key = keys.plan_key(request.scan_id, slug)
            s3io.put_json(self.s3, self.settings.bucket, plan_key, plan.model_dump_json(), compress=True)
            platforms.append(PlatformItem(platform=plan.platform, slug=slug, manifest_digest=plan.manifest_digest,
                                          plan_key=plan_key, layers=len(plan.layers)))
            for layer in plan.layers:
                distinct.setdefault(layer.diff_id, LayerItem(digest=layer.digest, diff_id=layer.diff_id,
                                                             size=layer.size))
        if len(distinct) > MAX_DISTINCT_LAYERS:
            raise ImageUnavailableError(f"{image.key} has {len(distinct)} distinct layers over its platforms; "
                                        f"at most {MAX_DISTINCT_LAYERS} are scanned")
        catalogers = self.catalogers()
        for item in distinct.values():
            item.cached = self.layer_cache.has(cache_key_for(item.diff_id, catalogers))
        cached = sum(item.cached for item in distinct.values())
        count(LAYER_CACHE_HITS, cached)
        self.scan_state.running(request.scan_id, image, expires_at, len(platforms), len(distinct), cached)
        logger.info("image resolved", extra={"scan_id": request.scan_id, "platforms": [p.platform for p in platforms],
                                             "layers": len(distinct), "cached": cached})
        return ResolveOutput(scan_id=request.scan_id, image=image, expires_at=str(expires_at), platforms=platforms,
                             layers=list(distinct.values()))

    def _resolve_images(self, ref: ImageReference) -> list[ResolvedImage]:
        self.access.check(ref)
        try:
            source = self.open_source(ref)
        except RegistryError as exc:
            raise from_registry_error(exc) from exc
        try:
            return resolve_all(source, ref.ref)
        except RegistryError as exc:
            raise from_registry_error(exc) from exc
        except ScanError as exc:
            raise ImageUnavailableError(f"{ref}: {exc}") from exc
        finally:
            source.close()

    # -- analyze

    def analyze(self, task: LayerTask) -> LayerOutcome:
        layer = task.layer
        catalogers = self.catalogers()
        cache_key = cache_key_for(layer.diff_id, catalogers)
        if self.layer_cache.has(cache_key):
            count(LAYER_CACHE_HITS)
            logger.info("layer cache hit", extra={"diff_id": layer.diff_id, "cache_key": cache_key})
            return LayerOutcome(cached=True)
        result = self._analyze(task.image.reference(), layer, catalogers)
        if not result.complete:
            key = self.layer_cache.put_partial(task.scan_id, result)
            reasons = "; ".join(w.message for w in result.warnings if w.code in ("layer-unreadable", "digest-mismatch"))
            logger.warning("layer incomplete", extra={"diff_id": layer.diff_id, "partial_key": key})
            raise LayerIncompleteError(reasons or f"layer {layer.digest} could not be read to its end")
        self.layer_cache.put(result)
        count(LAYERS_ANALYZED)
        logger.info("layer analysed", extra={"diff_id": layer.diff_id, "cache_key": cache_key,
                                             "entries": len(result.entries), "records": len(result.records)})
        return LayerOutcome(cached=False)

    def _analyze(self, ref: ImageReference, layer: LayerItem, catalogers: list[Cataloger]) -> LayerResult:
        self.access.check(ref)
        try:
            source = self.open_source(ref)
        except RegistryError as exc:
            raise from_registry_error(exc) from exc
        try:
            stream = source.open_blob(layer.digest)
            try:
                return analyze_layer(stream, diff_id=layer.diff_id, catalogers=catalogers, digest=layer.digest,
                                     size=layer.size or None, limits=self.limits)
            finally:
                stream.close()
        except RegistryError as exc:  # a failed GET, or the connection lost mid-blob
            raise from_registry_error(exc) from exc
        finally:
            source.close()

    # -- assemble

    def assemble(self, task: AssembleTask) -> PlatformResult:
        item = task.platform
        document = s3io.get_json(self.s3, self.settings.bucket, item.plan_key)
        if document is None:
            raise ImageUnavailableError(f"the plan of {item.platform} is missing (s3://{self.settings.bucket}/"
                                        f"{item.plan_key}): was the scan resolved?")
        plan = PlatformPlan.model_validate(document)
        catalogers = self.catalogers()
        layers = []
        for layer in plan.layers:
            key = cache_key_for(layer.diff_id, catalogers)
            found = self.layer_cache.get(key) or self.layer_cache.get_partial(task.scan_id, key)
            layers.append(found or _placeholder(layer.digest, layer.diff_id, catalogers))
        analysis = assemble_analysis(task.image.reference(plan.manifest_digest), plan.resolved(), layers,
                                     plan.manifest_digest)
        sbom_key = keys.sbom_key(task.image.digest, item.slug)
        s3io.put_json(self.s3, self.settings.bucket, sbom_key, sbom_json(analysis))
        db = self._open_database()
        try:
            findings = run_checks(analysis, CheckContext(vulndb=db), self.checks() if self.checks else None)
            report = build_report(analysis, findings, db.info() if db else None)
        finally:
            if db is not None:
                db.close()
        report_key = keys.report_key(task.scan_id, item.slug)
        s3io.put_json(self.s3, self.settings.bucket, report_key, json.dumps(report), compress=True)
        by_severity = Counter(str(f.severity) for f in findings)
        database = report.get("database")
        logger.info("platform assembled", extra={"platform": plan.platform, "packages": len(analysis.merged.packages),
                                                 "findings": dict(by_severity)})
        return PlatformResult(
            platform=plan.platform, manifest_digest=plan.manifest_digest, sbom_key=sbom_key, report_key=report_key,
            packages=len(report["packages"]), findings=dict(by_severity),
            incomplete_layers=sum(not layer.complete for layer in layers),
            os=f"{analysis.os.id} {analysis.os.version_id or ''}".strip() if analysis.os else None,
            database_built_at=database["built_at"] if isinstance(database, dict) else None,
        )

    def _open_database(self) -> VulnDB | None:
        """The database from S3, None when there is none or it cannot be opened (the scan then says that
        vulnerabilities were not checked: never clean by omission)."""
        path = self.database.path()
        if path is None:
            logger.warning("no vulnerability database in the bucket", extra={"key": self.settings.db_key})
            return None
        try:
            return VulnDB(path)
        except VulnDBError as exc:
            logger.error("the vulnerability database cannot be opened", extra={"reason": str(exc)})
            return None


_current: Pipeline | None = None


def current() -> Pipeline:
    """The container's pipeline (settings from the environment, clients created once)."""
    global _current
    if _current is None:
        _current = Pipeline.from_env()
    return _current


def install(pipeline: Pipeline | None) -> None:
    """Replace the container's pipeline (tests and local runs inject their registry mapping this way); None
    forgets it, so the next :func:`current` reads the environment again."""
    global _current
    _current = pipeline


__all__ = ["Pipeline", "SourceOpener", "current", "install", "registry_opener"]
