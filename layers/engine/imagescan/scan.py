"""Image analysis end to end: resolve the image, analyse its layers in parallel, merge them."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from imagescan.catalog.base import Cataloger
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
        done = 0
        if progress:
            progress(done, total)
        workers = max(1, min(options.workers or os.cpu_count() or 1, total))
        # Biggest layers first so that the pool finishes together; results are put back in layer order.
        order = sorted(range(total), key=lambda i: -image.layers[i].size)
        results: dict[int, LayerResult] = {}
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="layer") as pool:
            futures = {
                pool.submit(analyze_one_layer, source, image.layers[i], image.diff_ids[i], catalogers,
                            options.limits): i
                for i in order
            }
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                done += 1
                if progress:
                    progress(done, total)
    finally:
        source.close()
    layers = [results[i] for i in range(total)]
    merged = merge_layers(layers)
    digest = image.config_digest if ref.transport == "docker-archive" else image.manifest_digest
    return ImageAnalysis(reference=ref, image=image, digest=digest, layers=layers, merged=merged,
                         os=image_os(merged))


def image_os(merged: MergedImage) -> OSRelease | None:
    return detect_os(
        merged.os_records(),
        has_dpkg_status_d=any(path.startswith("var/lib/dpkg/status.d/") for path in merged.files),
        has_dpkg_status="var/lib/dpkg/status" in merged.files,
    )
