"""How old the image and its base are: the image's creation date, the OS point release against the newest one of
its release in the end-of-life table, and the base image, named by matching the bottom layers against the images
scanned before (:mod:`.image_store`; the longest layer prefix wins). Every scan is recorded in the store
afterwards, so that it can serve as the base of later scans."""

from __future__ import annotations

import datetime as dt
import re

from imagescan.checks.base import CheckContext
from imagescan.findings import Finding
from imagescan.hygiene.context import EolSource, eol_source, hygiene_options, image_store
from imagescan.hygiene.emit import Emitter
from imagescan.hygiene.eol import NAMES, ago, find_cycle, os_product
from imagescan.hygiene.image_store import ImageRecord, ImageStoreError, longest_prefix, parse_created
from imagescan.scan import ImageAnalysis
from imagescan.vulndb.models import Cycle

STALE_DAYS = 180


def _numbers(version: str) -> list[int]:
    match = re.match(r"\d+(?:\.\d+)*", version.strip())
    return [int(p) for p in match.group(0).split(".")] if match else []


def point_releases_behind(version: str | None, cycle: Cycle) -> int:
    """How many point releases ``version`` is behind the newest of its release (``cycle.latest``): 12.5 vs 12.15
    is 10. 0 when current, ahead, or when the versions carry no point release to compare."""
    if not version or not cycle.latest:
        return 0
    current, latest = _numbers(version), _numbers(cycle.latest)
    depth = len(cycle.cycle.split("."))
    if len(current) <= depth or len(latest) <= depth or current[:depth] != latest[:depth]:
        return 0
    return max(0, latest[depth] - current[depth])


def _point_release(analysis: ImageAnalysis, source: EolSource, emit: Emitter) -> None:
    os = analysis.os
    product = os_product(os) if os else None
    if os is None or product is None or not source.available:
        return
    cycles = source.cycles(product)
    cycle = find_cycle(cycles, os.version_id, os.version_codename, product)
    if cycle is None or cycle.latest is None:
        return
    behind = point_releases_behind(os.version_id, cycle)
    if behind <= 0:
        return
    name = NAMES.get(cycle.product, cycle.product)
    released = f", released {cycle.latest_release_date}" if cycle.latest_release_date else ""
    emit.misconfiguration(
        "os-point-release", f"{cycle.product}:{os.version_id}",
        f"{name} {os.version_id} is {behind} point release{'s' if behind != 1 else ''} behind {cycle.latest}",
        f"{os.source or 'os-release'}: version {os.version_id}; newest {cycle.latest}{released}",
        path=os.source or None, subjects=[cycle.product])


def _image_age(analysis: ImageAnalysis, today: dt.date, emit: Emitter) -> None:
    created = parse_created(analysis.image.created)
    if created is None or (today - created.date()).days <= STALE_DAYS:
        return
    emit.misconfiguration("image-age", "created", f"Image was built {ago(created.date(), today)} ago "
                          f"({created.date()})", f"config created {analysis.image.created}", config="created")


def _base(analysis: ImageAnalysis, context: CheckContext, today: dt.date, emit: Emitter) -> None:
    try:
        store = image_store(context)
        if store is None or not analysis.image.diff_ids or analysis.reference.transport == "sbom":
            return
        diff_ids = analysis.image.diff_ids
        base = longest_prefix(store.with_bottom_layer(diff_ids[0]), diff_ids, analysis.digest)
        newer: list[ImageRecord] = []
        if base is not None and "@" not in base.reference and base.created_at is not None:
            built = base.created_at
            newer = sorted((r for r in store.with_reference(base.reference)
                            if r.digest != base.digest and r.created_at is not None and r.created_at > built),
                           key=lambda r: (r.created_at or built, r.digest))
        os = analysis.os
        store.put(ImageRecord(analysis.digest, str(analysis.reference), analysis.image.created, tuple(diff_ids),
                              (os.distro_qualifier() or os.id) if os else None))
    except ImageStoreError as exc:
        emit.incomplete("image-store-unavailable", "store", "Base image not looked up: the image store failed",
                        str(exc))
        return
    if base is None:
        return
    built_at = base.created_at
    age = f", built {ago(built_at.date(), today)} ago ({built_at.date()})" if built_at else ""
    emit.misconfiguration(
        "base-image", f"base:{base.digest}", f"Base image: {base.reference}{age}",
        f"layers 1-{len(base.diff_ids)} of {len(analysis.image.diff_ids)} are {base.reference}@{base.digest}",
        config="rootfs.diff_ids", subjects=[base.reference],
        detail=f"The bottom {len(base.diff_ids)} layers are those of {base.reference} ({base.digest}), created "
               f"{base.created or 'at an unknown date'}.")
    if newer and built_at is not None:
        latest = newer[-1]
        latest_at = latest.created_at or built_at
        emit.misconfiguration(
            "base-image-outdated", f"base-outdated:{base.digest}",
            f"Base image {base.reference} was rebuilt {ago(built_at.date(), latest_at.date())} later "
            f"({latest_at.date()})",
            f"this image uses {base.digest} (created {base.created}); {latest.digest} was created {latest.created}",
            config="rootfs.diff_ids", subjects=[base.reference])


class BaseImageCheck:
    name = "hygiene-base-image"
    version = 1

    def run(self, analysis: ImageAnalysis, context: CheckContext) -> list[Finding]:
        options = hygiene_options(context)
        emit = Emitter(analysis.digest, options.policy)
        today = options.now.date()
        _image_age(analysis, today, emit)
        _point_release(analysis, eol_source(context), emit)
        _base(analysis, context, today, emit)
        return emit.findings
