"""The image-check contract: one named, versioned check over a whole analysed image (after the merge)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from imagescan.findings import Finding
from imagescan.scan import ImageAnalysis


@dataclass
class CheckContext:
    """What a check may use besides the image: options the user gave, data sources the scan has."""

    vulnerabilities_checked: bool = False
    extras: dict[str, object] = field(default_factory=dict)


class ImageCheck(Protocol):
    name: str
    version: int

    def run(self, analysis: ImageAnalysis, context: CheckContext) -> list[Finding]: ...
