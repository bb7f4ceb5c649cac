"""Manifests and indexes: parse, verify, pick the platform, and load the image config.

Supported: Docker v2 schema 2 manifests and manifest lists, OCI image manifests and indexes. Docker schema 1 and
unknown types are refused with a clear error. Attestation manifests (platform ``unknown/unknown``) are never picked.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from imagescan.errors import DigestMismatch, ManifestError
from imagescan.image.source import BlobSource

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
ACCEPT = (OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST, *DOCKER_SCHEMA1)
MAX_CONFIG_BYTES = 16 * 1024 * 1024
ATTESTATION_REF_TYPE = "vnd.docker.reference.type"


@dataclass(frozen=True)
class Platform:
    os: str = "linux"
    architecture: str = "amd64"
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.strip().lower().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ManifestError(f"invalid platform {text!r}: expected OS/ARCH[/VARIANT]")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


DEFAULT_PLATFORM = Platform()


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class ResolvedImage:
    manifest_digest: str
    manifest_media_type: str
    config_digest: str
    config: dict[str, Any]
    layers: list[Descriptor]
    diff_ids: list[str]
    platform: Platform
    index_digest: str | None = None

    @property
    def created(self) -> str | None:
        value = self.config.get("created")
        return value if isinstance(value, str) else None


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _verify(data: bytes, digest: str) -> None:
    algorithm = digest.split(":", 1)[0]
    if algorithm not in ("sha256", "sha512"):
        raise DigestMismatch(f"unsupported digest algorithm: {digest}")
    actual = f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"
    if actual != digest:
        raise DigestMismatch(f"content hashes to {actual}, not to its digest {digest}")


def _load_json(data: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{what} is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ManifestError(f"{what} is not a JSON object")
    return doc


def _descriptor(raw: Any, what: str) -> Descriptor:
    if not isinstance(raw, dict) or not isinstance(raw.get("digest"), str):
        raise ManifestError(f"{what}: descriptor without a digest")
    platform = None
    if isinstance(raw.get("platform"), dict):
        p = raw["platform"]
        platform = Platform(str(p.get("os", "")), str(p.get("architecture", "")), p.get("variant") or None)
    size = raw.get("size", 0)
    return Descriptor(
        media_type=str(raw.get("mediaType", "")),
        digest=raw["digest"],
        size=size if isinstance(size, int) and size >= 0 else 0,
        platform=platform,
        annotations={str(k): str(v) for k, v in (raw.get("annotations") or {}).items()},
    )


def media_type_of(doc: dict[str, Any], header: str) -> str:
    media_type = doc.get("mediaType") or header.split(";")[0].strip()
    if not media_type:
        if doc.get("schemaVersion") == 1:
            return DOCKER_SCHEMA1[0]
        media_type = OCI_INDEX if "manifests" in doc else OCI_MANIFEST if "layers" in doc else ""
    return str(media_type)


def _is_attestation(d: Descriptor) -> bool:
    return ATTESTATION_REF_TYPE in d.annotations or (
        d.platform is not None and d.platform.os == "unknown" and d.platform.architecture == "unknown"
    )


def _variant_matches(wanted: Platform, have: Platform) -> bool:
    if wanted.variant is None:
        return True
    default = {"arm64": "v8"}.get(have.architecture)
    return (have.variant or default) == wanted.variant


def select_platform(manifests: list[Descriptor], wanted: Platform) -> Descriptor:
    candidates = [d for d in manifests if not _is_attestation(d)]
    for d in candidates:
        p = d.platform
        if p and p.os == wanted.os and p.architecture == wanted.architecture and _variant_matches(wanted, p):
            return d
    available = ", ".join(sorted({str(d.platform) for d in candidates if d.platform})) or "none"
    raise ManifestError(f"the image index has no manifest for platform {wanted} (available: {available})")


def resolve(source: BlobSource, ref: str, platform: Platform | None = None) -> ResolvedImage:
    """Fetch the manifest for ``ref`` (tag or digest), descend an index to ``platform``, and load the config."""
    wanted = platform or DEFAULT_PLATFORM
    data, header = source.fetch_manifest(ref)
    if ref.startswith(("sha256:", "sha512:")):
        _verify(data, ref)
    doc = _load_json(data, "manifest")
    media_type = media_type_of(doc, header)
    index_digest = None
    if media_type in INDEX_TYPES:
        index_digest = ref if ref.startswith("sha") else digest_of(data)
        entries = doc.get("manifests")
        if not isinstance(entries, list):
            raise ManifestError("image index has no manifests list")
        chosen = select_platform([_descriptor(m, "image index") for m in entries], wanted)
        data, header = source.fetch_manifest(chosen.digest)
        _verify(data, chosen.digest)
        doc = _load_json(data, "manifest")
        media_type = media_type_of(doc, header or chosen.media_type)
        if media_type in INDEX_TYPES:
            raise ManifestError("nested image indexes are not supported")
    if media_type in DOCKER_SCHEMA1 or doc.get("schemaVersion") == 1:
        raise ManifestError("Docker schema 1 manifests are not supported (deprecated); re-push the image "
                            "with a current client")
    if media_type not in MANIFEST_TYPES:
        raise ManifestError(f"unsupported manifest media type {media_type!r}")
    manifest_digest = ref if ref.startswith("sha") and index_digest is None else digest_of(data)
    config_desc = _descriptor(doc.get("config"), "manifest config")
    layers_raw = doc.get("layers")
    if not isinstance(layers_raw, list):
        raise ManifestError("manifest has no layers list")
    layers = [_descriptor(layer, "manifest layer") for layer in layers_raw]
    config = load_config(source, config_desc)
    rootfs = config.get("rootfs") if isinstance(config.get("rootfs"), dict) else {}
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list) or not all(isinstance(d, str) for d in diff_ids):
        raise ManifestError("image config has no rootfs.diff_ids")
    if len(diff_ids) != len(layers):
        raise ManifestError(f"manifest lists {len(layers)} layers but the config {len(diff_ids)} diff_ids")
    actual = Platform(str(config.get("os", "")), str(config.get("architecture", "")), config.get("variant"))
    if index_digest is None and platform is not None and (actual.os, actual.architecture) != (
        wanted.os, wanted.architecture
    ):
        raise ManifestError(f"the image is {actual}, not the requested platform {wanted}")
    return ResolvedImage(
        manifest_digest=manifest_digest, manifest_media_type=media_type, config_digest=config_desc.digest,
        config=config, layers=layers, diff_ids=list(diff_ids), platform=actual, index_digest=index_digest,
    )


def resolve_all(source: BlobSource, ref: str) -> list[ResolvedImage]:
    """Every image ``ref`` names: the image of a manifest, or each platform image of an index in index order
    (attestation manifests and repeated digests skipped), each with ``index_digest`` set."""
    data, header = source.fetch_manifest(ref)
    if ref.startswith(("sha256:", "sha512:")):
        _verify(data, ref)
    doc = _load_json(data, "manifest")
    if media_type_of(doc, header) not in INDEX_TYPES:
        return [resolve(source, ref)]
    index_digest = ref if ref.startswith("sha") else digest_of(data)
    entries = doc.get("manifests")
    if not isinstance(entries, list):
        raise ManifestError("image index has no manifests list")
    images: list[ResolvedImage] = []
    seen: set[str] = set()
    for desc in (_descriptor(m, "image index") for m in entries):
        if _is_attestation(desc) or desc.digest in seen:
            continue
        if desc.media_type in INDEX_TYPES:
            raise ManifestError("nested image indexes are not supported")
        seen.add(desc.digest)
        image = resolve(source, desc.digest)
        image.index_digest = index_digest
        images.append(image)
    if not images:
        raise ManifestError("the image index lists no image manifests")
    return images


def load_config(source: BlobSource, desc: Descriptor) -> dict[str, Any]:
    if desc.size > MAX_CONFIG_BYTES:
        raise ManifestError(f"image config is {desc.size} bytes, over the {MAX_CONFIG_BYTES} limit")
    stream = source.open_blob(desc.digest)
    try:
        data = stream.read(MAX_CONFIG_BYTES + 1)
        while len(data) <= MAX_CONFIG_BYTES and (more := stream.read(MAX_CONFIG_BYTES + 1 - len(data))):
            data += more
    finally:
        stream.close()
    if len(data) > MAX_CONFIG_BYTES:
        raise ManifestError(f"image config is over the {MAX_CONFIG_BYTES} byte limit")
    _verify(data, desc.digest)
    return _load_json(data, "image config")
