"""The image-check contract: one named, versioned check over a whole analysed image (after the merge)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from imagescan.findings import Finding
from imagescan.scan import ImageAnalysis

if TYPE_CHECKING:
    from imagescan.vulndb.store import VulnDB


@dataclass
class CheckContext:
    """What a check may use besides the image: options the user gave, data sources the scan has."""

    vulnerabilities_checked: bool = False
    extras: dict[str, object] = field(default_factory=dict)
    vulndb: VulnDB | None = None
    """The opened vulnerability database, when the scan has one: the vulnerability check matches against it.
    Giving one sets :attr:`vulnerabilities_checked`."""

    def __post_init__(self) -> None:
        if self.vulndb is not None:
            self.vulnerabilities_checked = True


class ImageCheck(Protocol):
    name: str
    version: int

    def run(self, analysis: ImageAnalysis, context: CheckContext) -> list[Finding]: ...
