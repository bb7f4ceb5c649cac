"""Open the blob source for any image reference."""

from __future__ import annotations

from imagescan.errors import ReferenceError_
from imagescan.image.archive import open_docker_archive, open_oci_archive, open_oci_dir
from imagescan.image.reference import ImageReference
from imagescan.image.source import BlobSource


def open_source(ref: ImageReference, insecure: bool = False) -> BlobSource:
    if ref.transport == "docker":
        from imagescan.image.registry import RegistryClient  # urllib3/boto3 only when a registry is used

        return RegistryClient(ref, insecure=insecure)
    if ref.transport == "oci":
        return open_oci_dir(ref.path or "", ref.tag)
    if ref.transport == "oci-archive":
        return open_oci_archive(ref.path or "", ref.tag)
    if ref.transport == "docker-archive":
        return open_docker_archive(ref.path or "")
    raise ReferenceError_(f"{ref} is an SBOM, not an image: there is nothing to pull")


def manifest_ref(ref: ImageReference) -> str:
    """What to ask the source's ``fetch_manifest`` for first."""
    if ref.transport == "docker":
        return ref.ref
    return ref.tag or "latest"
