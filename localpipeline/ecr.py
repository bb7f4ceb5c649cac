"""ECR, locally: images pushed into moto's ECR (manifests, with their real digests) and their blobs served by a
real ``docker-registry`` on 127.0.0.1 that stands in for the ECR host.

moto's ECR keeps manifests but throws layer bytes away and has no ``GetDownloadUrlForLayer``, so the pipeline's
registry client (the same code path as in AWS: ``GetAuthorizationToken``, then the registry API) is pointed at the
local registry through :func:`imagescan.aws.pipeline.registry_opener`'s ``endpoints``. The registry's htpasswd
user is ``AWS`` with moto's token password (``<account>-auth-token``), so moto's authorization token logs in as is.

Any IMAGE the CLI accepts (``oci:``, ``oci-archive:``, ``docker-archive:``, a registry reference) is copied
manifest by manifest and blob by blob (streamed) from its source; an index brings every child manifest along.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import urllib3

from imagescan.image.manifest import INDEX_TYPES, media_type_of
from imagescan.image.open import manifest_ref, open_source
from imagescan.image.reference import ImageReference, parse_reference
from imagescan.image.source import BlobSource

if TYPE_CHECKING:
    from mypy_boto3_ecr import ECRClient

_HTTP = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=5, read=120))
_GENERIC_NAMES = {"oci", "layout", "image", "index", "blobs"}


class LocalEcrError(Exception):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Registry:
    """A running ``docker-registry serve`` with Basic auth for one user."""

    port: int
    process: subprocess.Popen[bytes]
    root: Path
    user: str
    password: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_registry(workdir: Path, user: str, password: str, timeout: float = 15.0) -> Registry:
    """``docker-registry`` on a free 127.0.0.1 port, storage under ``workdir``, htpasswd (bcrypt) for ``user``."""
    import bcrypt

    binary = shutil.which("docker-registry")
    if binary is None:
        raise LocalEcrError("docker-registry is not installed (apt-get install docker-registry)")
    workdir.mkdir(parents=True, exist_ok=True)
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
    (workdir / "htpasswd").write_text(f"{user}:{hashed}\n")
    port = free_port()
    config = workdir / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n  secret: imagescan-local\n"
        f"auth:\n  htpasswd:\n    realm: imagescan-local\n    path: {workdir / 'htpasswd'}\n")
    with (workdir / "registry.log").open("wb") as log:
        process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    registry = Registry(port, process, workdir, user, password)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise LocalEcrError(f"docker-registry exited: {(workdir / 'registry.log').read_text()[-2000:]}")
        try:
            if _HTTP.request("GET", f"{registry.url}/v2/", timeout=1.0).status in (200, 401):
                return registry
        except urllib3.exceptions.HTTPError:
            pass
        if time.monotonic() > deadline:
            registry.stop()
            raise LocalEcrError(f"docker-registry did not answer /v2/ within {timeout} s")
        time.sleep(0.05)


def repository_name(ref: ImageReference) -> str:
    """An ECR repository name for an IMAGE: its repository, else its file or directory name (the parent's when
    the name says nothing, like a layout directory called ``oci``)."""
    if ref.repository:
        name = ref.repository
    else:
        path = Path(ref.path or "image")
        name = ref.name()
        if name.lower() in _GENERIC_NAMES and path.parent.name:
            name = path.parent.name
    name = re.sub(r"[^a-z0-9._/-]+", "-", name.lower()).strip("-./_")
    return name or "image"


@dataclass
class PushedImage:
    reference: str
    repository: str
    tag: str
    digest: str
    media_type: str
    manifests: int = 0
    blobs: int = 0
    bytes: int = 0
    platforms: list[str] = field(default_factory=list)


@dataclass
class ImageCopier:
    """Copies one image from its source into the local registry and moto's ECR."""

    registry: Registry
    ecr: ECRClient
    source: BlobSource
    repository: str

    def _blob_exists(self, digest: str) -> bool:
        resp = _HTTP.request("HEAD", f"{self.registry.url}/v2/{self.repository}/blobs/{digest}",
                             headers=self.registry.headers)
        return resp.status == 200

    def blob(self, descriptor: dict[str, Any], pushed: PushedImage) -> None:
        digest, size = str(descriptor["digest"]), int(descriptor.get("size") or 0)
        if self._blob_exists(digest):
            return
        base = f"{self.registry.url}/v2/{self.repository}/blobs/uploads/"
        start = _HTTP.request("POST", base, headers=self.registry.headers, redirect=False)
        if start.status != 202:
            raise LocalEcrError(f"blob upload of {digest}: HTTP {start.status} {start.data[:300]!r}")
        location = start.headers["Location"]
        if location.startswith("/"):
            location = self.registry.url + location
        location += ("&" if "?" in location else "?") + f"digest={digest}"
        stream = self.source.open_blob(digest)
        try:
            headers = {**self.registry.headers, "Content-Type": "application/octet-stream"}
            if size:
                headers["Content-Length"] = str(size)
                body: Any = stream
            else:
                body = stream.read()
            put = _HTTP.request("PUT", location, body=body, headers=headers, redirect=False,
                                preload_content=True)
        finally:
            stream.close()
        if put.status != 201:
            raise LocalEcrError(f"blob upload of {digest}: HTTP {put.status} {put.data[:300]!r}")
        pushed.blobs += 1
        pushed.bytes += size

    def manifest(self, ref: str, tag: str | None, pushed: PushedImage) -> tuple[str, str]:
        """Copy the manifest or index ``ref`` (and what it references); returns its digest and media type."""
        body, header_type = self.source.fetch_manifest(ref)
        try:
            doc = json.loads(body)
        except ValueError as exc:
            raise LocalEcrError(f"{ref}: the manifest is not JSON") from exc
        media_type = media_type_of(doc, header_type)
        if media_type in INDEX_TYPES:
            for child in doc.get("manifests") or []:
                self.manifest(str(child["digest"]), None, pushed)
                plat = child.get("platform") or {}
                if plat.get("os") not in (None, "unknown"):
                    pushed.platforms.append("/".join(v for v in (plat.get("os"), plat.get("architecture"),
                                                                   plat.get("variant")) if v))
        else:
            for descriptor in [doc["config"], *(doc.get("layers") or [])]:
                self.blob(descriptor, pushed)
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        resp = _HTTP.request("PUT", f"{self.registry.url}/v2/{self.repository}/manifests/{tag or digest}",
                             body=body, headers={**self.registry.headers, "Content-Type": media_type}, redirect=False)
        if resp.status != 201:
            raise LocalEcrError(f"manifest {digest}: HTTP {resp.status} {resp.data[:300]!r}")
        put: dict[str, Any] = {"repositoryName": self.repository, "imageManifest": body.decode(),
                               "imageManifestMediaType": media_type, "imageDigest": digest}
        if tag:
            put["imageTag"] = tag
        self.ecr.put_image(**put)
        pushed.manifests += 1
        return digest, media_type


def push(image: str, registry: Registry, ecr: ECRClient, repository: str | None = None) -> PushedImage:
    """Copy ``image`` (any IMAGE the CLI accepts) into moto's ECR and the local registry, as ``docker push``
    would to ECR; returns where it went."""
    ref = parse_reference(image)
    repo = repository or repository_name(ref)
    tag = ref.tag or "latest"
    with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
        ecr.create_repository(repositoryName=repo)
    source = open_source(ref, insecure=ref.transport == "docker" and ref.is_loopback)
    try:
        pushed = PushedImage(reference=image, repository=repo, tag=tag, digest="", media_type="")
        pushed.digest, pushed.media_type = ImageCopier(registry, ecr, source, repo).manifest(
            manifest_ref(ref), tag, pushed)
    finally:
        source.close()
    return pushed
