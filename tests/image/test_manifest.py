from __future__ import annotations

import hashlib
import io
import json
from typing import Any, BinaryIO

import pytest

from imagescan.errors import DigestMismatch, ManifestError
from imagescan.image.manifest import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    Platform,
    resolve,
)


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class MemorySource:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.tags: dict[str, tuple[bytes, str]] = {}

    def add(self, doc: Any) -> str:
        data = json.dumps(doc).encode() if not isinstance(doc, bytes) else doc
        digest = _digest(data)
        self.blobs[digest] = data
        return digest

    def fetch_manifest(self, ref: str) -> tuple[bytes, str]:
        if ref in self.tags:
            return self.tags[ref]
        data = self.blobs[ref]
        return data, json.loads(data).get("mediaType", "")

    def open_blob(self, digest: str) -> BinaryIO:
        return io.BytesIO(self.blobs[digest])

    def close(self) -> None:
        pass


def _image(src: MemorySource, arch: str, media_type: str = OCI_MANIFEST, layers: int = 1) -> tuple[str, int]:
    config = {"architecture": arch, "os": "linux", "rootfs": {"type": "layers",
              "diff_ids": [f"sha256:{i:064x}" for i in range(layers)]}, "created": "2024-01-01T00:00:00Z"}
    cfg = src.add(config)
    manifest = {"schemaVersion": 2, "mediaType": media_type,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg, "size": 10},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                            "digest": f"sha256:{i + 100:064x}", "size": 5} for i in range(layers)]}
    data = json.dumps(manifest).encode()
    return src.add(data), len(data)


def _index(src: MemorySource, media_type: str, with_attestation: bool = True) -> str:
    amd, amd_size = _image(src, "amd64")
    arm, arm_size = _image(src, "arm64")
    entries = [
        {"mediaType": OCI_MANIFEST, "digest": arm, "size": arm_size,
         "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"mediaType": OCI_MANIFEST, "digest": amd, "size": amd_size,
         "platform": {"os": "linux", "architecture": "amd64"}},
    ]
    if with_attestation:
        att, att_size = _image(src, "unknown")
        entries.insert(0, {"mediaType": OCI_MANIFEST, "digest": att, "size": att_size,
                           "platform": {"os": "unknown", "architecture": "unknown"},
                           "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                                           "vnd.docker.reference.digest": amd}})
    data = json.dumps({"schemaVersion": 2, "mediaType": media_type, "manifests": entries}).encode()
    src.tags["latest"] = (data, media_type)
    return src.add(data)


@pytest.mark.parametrize("media_type", [OCI_INDEX, DOCKER_LIST])
def test_index_defaults_to_linux_amd64_and_skips_attestations(media_type: str) -> None:
    src = MemorySource()
    index = _index(src, media_type)
    image = resolve(src, "latest")
    assert image.platform == Platform("linux", "amd64")
    assert image.index_digest == index
    assert image.layers[0].digest == f"sha256:{100:064x}"


def test_platform_selection_with_variant() -> None:
    src = MemorySource()
    _index(src, OCI_INDEX)
    assert resolve(src, "latest", Platform.parse("linux/arm64")).platform.architecture == "arm64"
    assert resolve(src, "latest", Platform.parse("linux/arm64/v8")).platform.architecture == "arm64"


def test_no_matching_platform_lists_what_exists() -> None:
    src = MemorySource()
    _index(src, OCI_INDEX)
    with pytest.raises(ManifestError, match=r"linux/s390x.*linux/amd64, linux/arm64/v8"):
        resolve(src, "latest", Platform.parse("linux/s390x"))


def test_attestation_is_never_picked() -> None:
    src = MemorySource()
    _index(src, OCI_INDEX)
    with pytest.raises(ManifestError):
        resolve(src, "latest", Platform.parse("unknown/unknown"))


@pytest.mark.parametrize("media_type", [OCI_MANIFEST, DOCKER_MANIFEST])
def test_single_manifest_by_digest_is_verified(media_type: str) -> None:
    src = MemorySource()
    digest, _ = _image(src, "amd64", media_type, layers=3)
    image = resolve(src, digest)
    assert image.manifest_digest == digest and len(image.layers) == len(image.diff_ids) == 3
    src.blobs[digest] = src.blobs[digest].replace(b'"size": 5', b'"size": 6')
    with pytest.raises(DigestMismatch):
        resolve(src, digest)


def test_explicit_platform_must_match_a_single_manifest() -> None:
    src = MemorySource()
    digest, _ = _image(src, "arm64")
    with pytest.raises(ManifestError, match="not the requested platform"):
        resolve(src, digest, Platform.parse("linux/amd64"))


def test_schema1_is_refused_clearly() -> None:
    src = MemorySource()
    src.tags["old"] = (json.dumps({"schemaVersion": 1, "name": "x", "fsLayers": []}).encode(), "")
    with pytest.raises(ManifestError, match="schema 1"):
        resolve(src, "old")


@pytest.mark.parametrize(
    ("body", "media_type", "message"),
    [
        (b"not json", OCI_MANIFEST, "not valid JSON"),
        (b"[1, 2]", OCI_MANIFEST, "not a JSON object"),
        (json.dumps({"schemaVersion": 2, "mediaType": "application/x-unknown"}).encode(), "", "unsupported"),
        (json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": "x"}).encode(), "", "no manifests"),
        (json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {}}).encode(), "", "descriptor"),
    ],
)
def test_malformed_manifests_are_clear_errors(body: bytes, media_type: str, message: str) -> None:
    src = MemorySource()
    src.tags["bad"] = (body, media_type)
    with pytest.raises(ManifestError, match=message):
        resolve(src, "bad")


def test_layer_count_must_match_diff_ids() -> None:
    src = MemorySource()
    cfg = src.add({"architecture": "amd64", "os": "linux", "rootfs": {"diff_ids": []}})
    data = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {"digest": cfg, "size": 1},
                       "layers": [{"digest": "sha256:" + "1" * 64, "size": 1}]}).encode()
    src.tags["x"] = (data, OCI_MANIFEST)
    with pytest.raises(ManifestError, match="1 layers but the config 0"):
        resolve(src, "x")
