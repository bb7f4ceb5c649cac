"""A real registry for tests: Debian's ``docker-registry`` (distribution 2.8) on 127.0.0.1, plus push helpers.

Fixtures (session scope, registered by ``tests/conftest.py``):

* ``registry``: an anonymous registry.
* ``auth_registry``: a registry with ``auth: htpasswd`` (bcrypt); users in :data:`AUTH_USERS`.

Helpers push through the distribution API with urllib3 (monolithic uploads: POST then PUT):
:func:`push_blob`, :func:`push_manifest`, :func:`push_image` (layers + config → manifest digest),
:func:`push_index` (a manifest list / OCI index of several platform images and an attestation manifest).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import urllib3

from tests.needs import missing

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"

AUTH_USERS = {"alice": "wonderland", "AWS": "123456789012-auth-token"}
"""Users of ``auth_registry``. The AWS one matches the token moto's ECR ``GetAuthorizationToken`` returns."""

_HTTP = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=5, read=30))


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------------------------ tiny image content


def tar_layer(files: dict[str, bytes], *, compress: bool = True) -> bytes:
    """A layer blob: a tar of ``files`` (path → content), gzip-compressed unless ``compress=False``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    return gzip.compress(raw, mtime=0) if compress else raw


def diff_id(layer: bytes) -> str:
    return sha256_digest(gzip.decompress(layer) if layer[:2] == b"\x1f\x8b" else layer)


def image_config(layers: list[bytes], *, os_name: str = "linux", arch: str = "amd64") -> bytes:
    """A minimal image config whose ``rootfs.diff_ids`` match ``layers``."""
    config = {
        "architecture": arch,
        "os": os_name,
        "config": {"Env": ["PATH=/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id(layer) for layer in layers]},
        "history": [{"created_by": "test"} for _ in layers],
    }
    return json.dumps(config, sort_keys=True).encode()


# ------------------------------------------------------------------------------------------ pushing


@dataclass(frozen=True)
class Pushed:
    """A manifest as stored: enough to reference it from an index."""

    digest: str
    size: int
    media_type: str
    body: bytes = field(repr=False)


def _auth_headers(auth: tuple[str, str] | None) -> dict[str, str]:
    if auth is None:
        return {}
    return {"Authorization": "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()}


def push_blob(registry_url: str, repo: str, data: bytes, *, auth: tuple[str, str] | None = None) -> str:
    """Upload a blob (POST to start, PUT with the whole content); returns its digest."""
    digest = sha256_digest(data)
    headers = _auth_headers(auth)
    start = _HTTP.request("POST", f"{registry_url}/v2/{repo}/blobs/uploads/", headers=headers, redirect=False)
    if start.status != 202:
        raise AssertionError(f"blob upload start: {start.status} {start.data[:300]!r}")
    location = start.headers["Location"]
    if location.startswith("/"):
        location = registry_url + location
    sep = "&" if "?" in location else "?"
    put = _HTTP.request(
        "PUT",
        f"{location}{sep}digest={digest}",
        body=data,
        headers={**headers, "Content-Type": "application/octet-stream", "Content-Length": str(len(data))},
        redirect=False,
    )
    if put.status != 201:
        raise AssertionError(f"blob upload: {put.status} {put.data[:300]!r}")
    return digest


def push_manifest(
    registry_url: str, repo: str, ref: str, body: bytes, media_type: str, *, auth: tuple[str, str] | None = None
) -> Pushed:
    """PUT a manifest or index under ``ref`` (a tag, or its own digest)."""
    resp = _HTTP.request(
        "PUT",
        f"{registry_url}/v2/{repo}/manifests/{ref}",
        body=body,
        headers={**_auth_headers(auth), "Content-Type": media_type},
        redirect=False,
    )
    if resp.status != 201:
        raise AssertionError(f"manifest upload: {resp.status} {resp.data[:300]!r}")
    digest = sha256_digest(body)
    assert resp.headers.get("Docker-Content-Digest", digest) == digest
    return Pushed(digest, len(body), media_type, body)


def push_image_manifest(
    registry_url: str,
    repo: str,
    tag: str | None,
    layers: list[bytes],
    config: bytes,
    *,
    docker: bool = False,
    annotations: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> Pushed:
    """Push layers, config and an image manifest (OCI, or Docker schema 2 with ``docker=True``).

    ``tag=None`` stores the manifest by digest only (as the images of an index usually are).
    """
    config_type = DOCKER_CONFIG if docker else OCI_CONFIG
    manifest: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
        "config": {
            "mediaType": config_type,
            "size": len(config),
            "digest": push_blob(registry_url, repo, config, auth=auth),
        },
        "layers": [
            {
                "mediaType": (DOCKER_LAYER_GZIP if docker else OCI_LAYER_GZIP)
                if layer[:2] == b"\x1f\x8b"
                else OCI_LAYER_TAR,
                "size": len(layer),
                "digest": push_blob(registry_url, repo, layer, auth=auth),
            }
            for layer in layers
        ],
    }
    if annotations:
        manifest["annotations"] = annotations
    body = json.dumps(manifest, indent=2).encode()
    media_type = DOCKER_MANIFEST if docker else OCI_MANIFEST
    return push_manifest(registry_url, repo, tag or sha256_digest(body), body, media_type, auth=auth)


def push_image(
    registry_url: str,
    repo: str,
    tag: str,
    layers: list[bytes],
    config: bytes,
    *,
    docker: bool = False,
    auth: tuple[str, str] | None = None,
) -> str:
    """Push a single-platform image under ``tag``; returns the manifest digest."""
    return push_image_manifest(registry_url, repo, tag, layers, config, docker=docker, auth=auth).digest


def push_index(
    registry_url: str,
    repo: str,
    tag: str,
    platforms: dict[str, tuple[list[bytes], bytes]],
    *,
    attestation: bool = True,
    docker: bool = False,
    auth: tuple[str, str] | None = None,
) -> Pushed:
    """Push one image per ``"os/arch[/variant]"`` (layers, config) and an index of them under ``tag``.

    With ``attestation`` each image gets a BuildKit-style attestation manifest (platform ``unknown/unknown``,
    ``vnd.docker.reference.type: attestation-manifest``) listed in the index after it.
    """
    entries: list[dict[str, object]] = []
    for platform, (layers, config) in platforms.items():
        os_name, arch, *variant = platform.split("/")
        image = push_image_manifest(registry_url, repo, None, layers, config, docker=docker, auth=auth)
        plat: dict[str, str] = {"os": os_name, "architecture": arch}
        if variant:
            plat["variant"] = variant[0]
        entries.append({"mediaType": image.media_type, "digest": image.digest, "size": image.size, "platform": plat})
        if attestation:
            statement = json.dumps({"_type": "https://in-toto.io/Statement/v0.1", "subject": [image.digest]}).encode()
            att_config = json.dumps(
                {"architecture": "unknown", "os": "unknown", "rootfs": {"type": "layers", "diff_ids": []}}
            ).encode()
            att = push_image_manifest(registry_url, repo, None, [statement], att_config, auth=auth)
            entries.append(
                {
                    "mediaType": att.media_type,
                    "digest": att.digest,
                    "size": att.size,
                    "platform": {"os": "unknown", "architecture": "unknown"},
                    "annotations": {
                        "vnd.docker.reference.digest": image.digest,
                        "vnd.docker.reference.type": "attestation-manifest",
                    },
                }
            )
    media_type = DOCKER_LIST if docker else OCI_INDEX
    body = json.dumps({"schemaVersion": 2, "mediaType": media_type, "manifests": entries}, indent=2).encode()
    return push_manifest(registry_url, repo, tag, body, media_type, auth=auth)


# ------------------------------------------------------------------------------------------ the server


@dataclass
class RegistryServer:
    """A running ``docker-registry serve``."""

    host: str
    port: int
    process: subprocess.Popen[bytes]
    root: Path
    users: dict[str, str] = field(default_factory=dict)

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``: the registry part of an image reference."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def push_auth(self) -> tuple[str, str] | None:
        return ("alice", self.users["alice"]) if self.users else None

    def push_image(self, repo: str, tag: str, layers: list[bytes], config: bytes, *, docker: bool = False) -> str:
        return push_image(self.url, repo, tag, layers, config, docker=docker, auth=self.push_auth)

    def push_index(self, repo: str, tag: str, platforms: dict[str, tuple[list[bytes], bytes]], **kw: bool) -> Pushed:
        return push_index(self.url, repo, tag, platforms, auth=self.push_auth, **kw)

    def push_blob(self, repo: str, data: bytes) -> str:
        return push_blob(self.url, repo, data, auth=self.push_auth)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _htpasswd(users: dict[str, str]) -> str:
    import bcrypt

    return "".join(f"{u}:{bcrypt.hashpw(p.encode(), bcrypt.gensalt(rounds=4)).decode()}\n" for u, p in users.items())


def start_registry(workdir: Path, users: dict[str, str] | None = None) -> RegistryServer:
    """Start ``docker-registry`` on a free 127.0.0.1 port with storage under ``workdir``; wait for ``/v2/``."""
    binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    if not Path(binary).exists():
        missing("docker-registry is not installed (apt-get install docker-registry)")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    auth = ""
    if users:
        (workdir / "htpasswd").write_text(_htpasswd(users))
        auth = f"auth:\n  htpasswd:\n    realm: imagescan-test\n    path: {workdir / 'htpasswd'}\n"
    config = workdir / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n  secret: imagescan-test-secret\n" + auth
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    with (workdir / "registry.log").open("wb") as log:
        process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT, env=env)
    server = RegistryServer("127.0.0.1", port, process, workdir, dict(users or {}))
    deadline = time.monotonic() + 15
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {(workdir / 'registry.log').read_text()[-2000:]}")
        try:
            resp = _HTTP.request("GET", f"{server.url}/v2/", timeout=1.0)
            if resp.status in (200, 401):
                return server
        except urllib3.exceptions.HTTPError:
            pass
        if time.monotonic() > deadline:
            stop_registry(server)
            raise RuntimeError("docker-registry did not answer /v2/ within 15 s")
        time.sleep(0.05)


def stop_registry(server: RegistryServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """An anonymous ``docker-registry`` on 127.0.0.1 (session-wide; use distinct repository names per test)."""
    server = start_registry(tmp_path_factory.mktemp("registry"))
    yield server
    stop_registry(server)


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """A ``docker-registry`` with htpasswd (Basic) authentication for :data:`AUTH_USERS`."""
    server = start_registry(tmp_path_factory.mktemp("auth-registry"), AUTH_USERS)
    yield server
    stop_registry(server)
