"""``sbom:FILE`` (SPEC): an :class:`ImageAnalysis` made from a stored SBOM, so that ``imagescan scan`` re-matches it
with the same checks and reports as an image, without pulling anything.

Nothing of the image is read: there are no layers, files or config, so the checks that look at them find nothing,
and a ``sbom-input`` warning says so. The digest is the one the SBOM names (finding ids then equal those of a scan
of the image itself when the SBOM is ours).
"""

from __future__ import annotations

from imagescan.errors import ManifestError, ReferenceError_
from imagescan.image.manifest import Platform, ResolvedImage
from imagescan.image.reference import ImageReference, parse_reference
from imagescan.merge import MergedImage
from imagescan.models import ScanWarning
from imagescan.sbom.reader import read_sbom
from imagescan.scan import ImageAnalysis

MEDIA_TYPE = "application/vnd.cyclonedx+json"


def _platform(text: str | None) -> Platform:
    if text:
        try:
            return Platform.parse(text)
        except ManifestError:
            pass
    return Platform("unknown", "unknown")


def analysis_from_sbom(reference: str | ImageReference) -> ImageAnalysis:
    """The analysis of ``sbom:FILE``. Raises :class:`~imagescan.sbom.reader.SbomError` (a ScanError) when the file
    is not a CycloneDX JSON SBOM."""
    ref = parse_reference(reference) if isinstance(reference, str) else reference
    if ref.transport != "sbom" or not ref.path:
        raise ReferenceError_(f"{ref} is not an sbom:FILE reference")
    read = read_sbom(ref.path)
    inventory = read.inventory
    image = ResolvedImage(
        manifest_digest=inventory.digest, manifest_media_type=MEDIA_TYPE, config_digest=inventory.digest,
        config={}, layers=[], diff_ids=[], platform=_platform(read.platform),
    )
    producer = f" by {read.tool}" if read.tool else ""
    notice = ScanWarning(
        code="sbom-input",
        message=f"packages read from the SBOM {ref.path}{producer} ({len(inventory.packages)} packages); the image "
        "was not pulled: its files, secrets and configuration were not checked",
    )
    merged = MergedImage(packages=inventory.packages, warnings=[notice, *read.warnings])
    return ImageAnalysis(reference=ref, image=image, digest=inventory.digest, layers=[], merged=merged,
                         os=inventory.os)
