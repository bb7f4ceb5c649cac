"""Image hygiene checks other than secrets: unsafe contents, unwanted software, configuration and history, the
Dockerfile (``--dockerfile``), end of life, and base-image age. Every rule is in :mod:`.rules`; a policy file
(:mod:`.policy`) turns rules off, changes their severity or ignores paths."""

from __future__ import annotations

from imagescan.checks.base import ImageCheck
from imagescan.hygiene.base_image import BaseImageCheck
from imagescan.hygiene.config import ConfigHistoryCheck
from imagescan.hygiene.context import hygiene_extras
from imagescan.hygiene.dockerfile import DockerfileCheck
from imagescan.hygiene.eol import EolCheck
from imagescan.hygiene.unsafe_files import UnsafeFilesCheck
from imagescan.hygiene.unwanted import UnwantedSoftwareCheck


def hygiene_checks() -> list[ImageCheck]:
    """The hygiene checks, in report order. Registered in :func:`imagescan.checks.registry.default_checks`."""
    return [UnsafeFilesCheck(), UnwantedSoftwareCheck(), ConfigHistoryCheck(), DockerfileCheck(), EolCheck(),
            BaseImageCheck()]


__all__ = [
    "BaseImageCheck",
    "ConfigHistoryCheck",
    "DockerfileCheck",
    "EolCheck",
    "UnsafeFilesCheck",
    "UnwantedSoftwareCheck",
    "hygiene_checks",
    "hygiene_extras",
]
