"""Images pushed to the test registry that stands in for ECR: fixture layouts byte for byte, an image sharing a
fixture's base layers, and an image with a corrupt layer blob."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fixtures.layoutread import blob_path, is_index, read_json_blob, top_descriptor
from tests.registry_fixture import (
    OCI_CONFIG,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    RegistryServer,
    diff_id,
    push_blob,
    push_manifest,
    sha256_digest,
    tar_layer,
)


def push_layout(server: RegistryServer, layout: Path, repository: str, tag: str) -> str:
    """Upload the layout's ``latest`` (manifest or index, every platform) as is; returns the top digest."""

    def put(desc: dict[str, Any], ref: str) -> None:
        doc = read_json_blob(layout, str(desc["digest"]))
        if is_index(desc):
            for child in doc.get("manifests", []):
                put(child, str(child["digest"]))
        else:
            for blob in [doc["config"], *doc.get("layers", [])]:
                push_blob(server.url, repository, blob_path(layout, str(blob["digest"])).read_bytes(),
                          auth=server.push_auth)
        body = blob_path(layout, str(desc["digest"])).read_bytes()
        push_manifest(server.url, repository, ref, body, str(desc["mediaType"]), auth=server.push_auth)

    top = top_descriptor(layout)
    put(top, tag)
    return str(top["digest"])


def push_derived(server: RegistryServer, layout: Path, repository: str, tag: str, files: dict[str, bytes]) -> str:
    """The layout's (single-platform) image plus one layer of ``files``: same base layers, new manifest."""
    manifest = read_json_blob(layout, str(top_descriptor(layout)["digest"]))
    config = read_json_blob(layout, str(manifest["config"]["digest"]))
    extra = tar_layer(files)
    config["rootfs"]["diff_ids"].append(diff_id(extra))
    config.setdefault("history", []).append({"created_by": "COPY extra / # test"})
    config_bytes = json.dumps(config, sort_keys=True).encode()
    for blob in manifest["layers"]:
        push_blob(server.url, repository, blob_path(layout, str(blob["digest"])).read_bytes(), auth=server.push_auth)
    new_layer = {"mediaType": OCI_LAYER_GZIP, "size": len(extra),
                 "digest": push_blob(server.url, repository, extra, auth=server.push_auth)}
    derived = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
               "config": {"mediaType": OCI_CONFIG, "size": len(config_bytes),
                          "digest": push_blob(server.url, repository, config_bytes, auth=server.push_auth)},
               "layers": [*manifest["layers"], new_layer]}
    body = json.dumps(derived, indent=2).encode()
    return push_manifest(server.url, repository, tag, body, OCI_MANIFEST, auth=server.push_auth).digest


def blob_file(server: RegistryServer, digest: str) -> Path:
    """Where ``docker-registry``'s filesystem storage keeps a blob's bytes."""
    hexdigest = digest.split(":", 1)[1]
    return server.root / "data" / "docker" / "registry" / "v2" / "blobs" / "sha256" / hexdigest[:2] / hexdigest / "data"


def push_with_corrupt_layer(server: RegistryServer, repository: str, tag: str, seed: str) -> tuple[str, list[str]]:
    """A two-layer image whose second layer blob is damaged in the registry's storage after the push (the bytes no
    longer match their digest). Returns the manifest digest and the layers' diff_ids."""
    good = tar_layer({f"etc/{seed}/good.txt": f"intact {seed}\n".encode() * 50})
    bad = tar_layer({f"opt/{seed}/bad.bin": bytes(range(256)) * 64})
    config = {"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/usr/bin:/bin"]},
              "rootfs": {"type": "layers", "diff_ids": [diff_id(good), diff_id(bad)]},
              "history": [{"created_by": "ADD good"}, {"created_by": "ADD bad"}]}
    config_bytes = json.dumps(config, sort_keys=True).encode()
    layers = [{"mediaType": OCI_LAYER_GZIP, "size": len(blob),
               "digest": push_blob(server.url, repository, blob, auth=server.push_auth)} for blob in (good, bad)]
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "size": len(config_bytes),
                           "digest": push_blob(server.url, repository, config_bytes, auth=server.push_auth)},
                "layers": layers}
    body = json.dumps(manifest).encode()
    digest = push_manifest(server.url, repository, tag, body, OCI_MANIFEST, auth=server.push_auth).digest
    path = blob_file(server, sha256_digest(bad))
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(b ^ 0xFF for b in data[middle:middle + 64])
    path.write_bytes(bytes(data))
    return digest, [diff_id(good), diff_id(bad)]
