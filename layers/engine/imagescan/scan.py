"""Image analysis end to end: resolve the image, analyse its layers in parallel, merge them."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from imagescan.catalog.base import Cataloger
from imagescan.catalog.npm import keep_applications
from imagescan.catalog.osrelease import detect_os
from imagescan.catalog.registry import default_catalogers
from imagescan.errors import ScanError
from imagescan.image.manifest import Descriptor, Platform, ResolvedImage, resolve
from imagescan.image.open import manifest_ref, open_source
from imagescan.image.reference import ImageReference, parse_reference
from imagescan.image.source import BlobSource
from imagescan.layer.cachekey import layer_cache_key
from imagescan.layer.walker import Limits, analyze_layer, analyzer_versions
from imagescan.merge import MergedImage, merge_layers
from imagescan.models import LayerResult, OSRelease, ScanWarning

Progress = Callable[[int, int], None]


@dataclass
class ScanOptions:
    platform: Platform | None = None
    insecure: bool = False
    workers: int | None = None
    limits: Limits = field(default_factory=Limits)


@dataclass
class ImageAnalysis:
    reference: ImageReference
    image: ResolvedImage
    digest: str
    """The manifest digest; for a docker-archive, which has no manifest, the config digest (image ID)."""
    layers: list[LayerResult]
    merged: MergedImage
    os: OSRelease | None

    @property
    def warnings(self) -> list[ScanWarning]:
        return self.merged.warnings


def analyze_one_layer(
    source: BlobSource, desc: Descriptor, diff_id: str, catalogers: Sequence[Cataloger], limits: Limits
) -> LayerResult:
    """Stream one layer from ``source`` and analyse it. Never raises for a bad layer: it records a warning."""
    try:
        stream = source.open_blob(desc.digest)
    except ScanError as exc:
        analyzers = analyzer_versions(catalogers)
        return LayerResult(
            digest=desc.digest, diff_id=diff_id, cache_key=layer_cache_key(diff_id, analyzers, {}),
            analyzers=analyzers, complete=False,
            warnings=[ScanWarning(code="layer-unreadable", message=f"layer {desc.digest}: {exc}",
                                  layer_diff_id=diff_id)],
        )
    try:
        return analyze_layer(stream, diff_id=diff_id, catalogers=catalogers, digest=desc.digest,
                             size=desc.size or None, limits=limits)
    finally:
        stream.close()


@dataclass(frozen=True)
class LayerJob:
    """Everything a worker process needs to analyse one layer on its own."""

    reference: ImageReference
    insecure: bool
    desc: Descriptor
    diff_id: str
    catalogers: Sequence[Cataloger]
    limits: Limits


_worker_sources: dict[tuple[ImageReference, bool], BlobSource] = {}


def run_layer_job(job: LayerJob) -> LayerResult:
    """Worker-process entry point: one source per image and process, reused across that process's layers."""
    key = (job.reference, job.insecure)
    if key not in _worker_sources:
        _worker_sources[key] = open_source(job.reference, insecure=job.insecure)
    return analyze_one_layer(_worker_sources[key], job.desc, job.diff_id, job.catalogers, job.limits)


def _pool(workers: int) -> Executor:
    """Processes, because the tar walk holds the GIL; threads where processes cannot run (AWS Lambda has no
    /dev/shm for multiprocessing's semaphores)."""
    try:
        # fork is the cheapest start; with other threads running (a progress bar) a fork could inherit a held lock.
        context = multiprocessing.get_context("fork" if threading.active_count() == 1 else "forkserver")
        return ProcessPoolExecutor(max_workers=workers, mp_context=context)
    except (OSError, ImportError, ValueError):
        return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="layer")


def analyze_image(
    reference: str | ImageReference,
    options: ScanOptions | None = None,
    catalogers: Sequence[Cataloger] | None = None,
    progress: Progress | None = None,
) -> ImageAnalysis:
    options = options or ScanOptions()
    ref = parse_reference(reference) if isinstance(reference, str) else reference
    catalogers = list(catalogers) if catalogers is not None else default_catalogers()
    source = open_source(ref, insecure=options.insecure)
    try:
        image = resolve(source, manifest_ref(ref), options.platform)
        total = len(image.layers)
        workers = max(1, min(options.workers or os.cpu_count() or 1, total))
        results: dict[int, LayerResult] = {}
        if workers == 1:
            if progress:
                progress(0, total)
            for i in range(total):
                results[i] = analyze_one_layer(source, image.layers[i], image.diff_ids[i], catalogers, options.limits)
                if progress:
                    progress(i + 1, total)
        else:
            # Biggest layers first so that the workers finish together; results are put back in layer order.
            order = sorted(range(total), key=lambda i: -image.layers[i].size)
            with _pool(workers) as pool:
                futures = {
                    pool.submit(run_layer_job, LayerJob(ref, options.insecure, image.layers[i], image.diff_ids[i],
                                                        catalogers, options.limits)): i
                    for i in order
                }
                if progress:  # the first report comes once the workers exist (a progress display may start a thread)
                    progress(0, total)
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
                    if progress:
                        progress(len(results), total)
    finally:
        source.close()
    layers = [results[i] for i in range(total)]
    digest = image.config_digest if ref.transport == "docker-archive" else image.manifest_digest
    return assemble_analysis(ref, image, layers, digest)


def assemble_analysis(
    ref: ImageReference, image: ResolvedImage, layers: list[LayerResult], digest: str
) -> ImageAnalysis:
    """Everything after the layer walks: merge, then the image analysis. Shared with the AWS pipeline, whose
    layer results come from S3 (:mod:`imagescan.aws.pipeline`)."""
    merged = merge_layers(layers)
    merged.packages = keep_applications(merged.packages, merged.files, _workdir(image.config))
    return ImageAnalysis(reference=ref, image=image, digest=digest, layers=layers, merged=merged,
                         os=image_os(merged))


def _workdir(config: dict[str, Any]) -> str | None:
    inner = config.get("config")
    value = inner.get("WorkingDir") if isinstance(inner, dict) else None
    return value if isinstance(value, str) else None


def image_os(merged: MergedImage) -> OSRelease | None:
    return detect_os(
        merged.os_records(),
        has_dpkg_status_d=any(path.startswith("var/lib/dpkg/status.d/") for path in merged.files),
        has_dpkg_status="var/lib/dpkg/status" in merged.files,
    )
