"""The inventory matching works on: an image's packages and its OS, whatever they were read from.

Two producers build it: :func:`inventory_from_analysis` from a scanned image, and the SBOM reader
(``imagescan.sbom.reader``) from a CycloneDX document, so that a stored SBOM can be re-matched without pulling the
image again. What matching reads of each :class:`~imagescan.models.Package`:

* ``type``, ``name``, ``namespace`` (npm scope, Maven group, Go module prefix, Composer vendor) and ``version``;
* OS packages (``deb``, ``rpm``, ``apk``): ``source_name`` and ``source_version`` (dpkg ``Source``, apk origin;
  Debian and Alpine advisories name source packages), ``epoch`` for rpm (``version`` is ``version-release``);
* ``owner``: a language package whose files an OS package owns is left to that OS package's advisories;
* ``arch``, ``path`` and ``layer_diff_id``: where the finding points (and part of its stable id).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from imagescan.models import OSRelease, Package

if TYPE_CHECKING:  # the SBOM path builds inventories without the image-reading machinery
    from imagescan.scan import ImageAnalysis


class Inventory(BaseModel):
    """An image's packages and OS, ready to be matched against the vulnerability database."""

    model_config = ConfigDict(extra="forbid")

    reference: str
    """The image as the user named it (``docker://...``, ``oci:DIR``, ``sbom:FILE``...)."""
    digest: str
    """The image's manifest digest (``sha256:...``): finding ids are derived from it, so the same package in the
    same image gets the same finding id whether the image or its SBOM is scanned."""
    os: OSRelease | None = None
    """The image's distribution; None when unknown (OS packages then cannot be matched: a note says so)."""
    packages: list[Package] = Field(default_factory=list)


def inventory_from_analysis(analysis: ImageAnalysis) -> Inventory:
    """The inventory of a scanned image: the merged (final-filesystem) packages and the detected OS."""
    return Inventory(
        reference=str(analysis.reference),
        digest=analysis.digest,
        os=analysis.os,
        packages=list(analysis.merged.packages),
    )
