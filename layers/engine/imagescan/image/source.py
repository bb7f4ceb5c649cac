"""The contract every image transport implements: manifests by reference, blobs by digest, as streams."""

from __future__ import annotations

from typing import BinaryIO, Protocol


class BlobSource(Protocol):
    """Where an image's manifests and blobs come from. Implementations must not read a blob whole into memory."""

    def fetch_manifest(self, ref: str) -> tuple[bytes, str]:
        """The raw manifest or index for a tag or digest, and its media type (may be empty when unknown)."""
        ...

    def open_blob(self, digest: str) -> BinaryIO:
        """A readable stream of the blob's bytes (not yet verified; the caller checks the digest as it reads)."""
        ...

    def close(self) -> None: ...
