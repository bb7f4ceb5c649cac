"""Parsing of IMAGE strings, with the transport prefixes of skopeo/containers-image (see SPEC)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from imagescan.errors import ReferenceError_

Transport = Literal["docker", "oci", "oci-archive", "docker-archive", "sbom"]

DOCKER_HUB = "docker.io"
_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_REPO_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_ECR_RE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")


@dataclass(frozen=True)
class ImageReference:
    transport: Transport
    registry: str | None = None
    """``host[:port]`` for the docker transport (``docker.io`` for Docker Hub)."""
    repository: str | None = None
    tag: str | None = None
    digest: str | None = None
    path: str | None = None
    """File or directory for the local transports."""

    @property
    def ref(self) -> str:
        """The tag or digest to ask the registry for (digest wins)."""
        return self.digest or self.tag or "latest"

    @property
    def is_ecr(self) -> bool:
        return self.registry is not None and _ECR_RE.match(self.registry) is not None

    def ecr_account_region(self) -> tuple[str, str]:
        m = _ECR_RE.match(self.registry or "")
        if not m:
            raise ReferenceError_(f"{self.registry} is not an ECR registry host")
        return m.group("account"), m.group("region")

    @property
    def is_loopback(self) -> bool:
        host = (self.registry or "").rsplit(":", 1)[0] if not (self.registry or "").startswith("[") else "[::1]"
        return host in {"localhost", "127.0.0.1", "[::1]"} or host.startswith("127.")

    def name(self) -> str:
        """The image name used in ``pkg:oci/NAME``: the last component of the repository, or the file's stem."""
        if self.repository:
            return self.repository.rsplit("/", 1)[-1]
        base = (self.path or "image").rstrip("/").rsplit("/", 1)[-1]
        for suffix in (".tar.gz", ".tgz", ".tar"):
            if base.endswith(suffix):
                return base[: -len(suffix)]
        return base

    def __str__(self) -> str:
        if self.transport == "docker":
            s = f"{self.registry}/{self.repository}"
            if self.tag:
                s += f":{self.tag}"
            if self.digest:
                s += f"@{self.digest}"
            return s
        suffix = f":{self.tag}" if self.tag else ""
        return f"{self.transport}:{self.path}{suffix}"


def _split_path_tag(rest: str) -> tuple[str, str | None]:
    """``DIR[:TAG]``: the tag is what follows the last colon, when that is not part of the path."""
    if ":" in rest:
        path, tag = rest.rsplit(":", 1)
        if tag and "/" not in tag and path:
            return path, tag
    return rest, None


def parse_registry_reference(text: str) -> ImageReference:
    """``[HOST[:PORT]/]REPO[:TAG][@DIGEST]`` with Docker Hub defaults (``library/`` for single names)."""
    rest = text
    digest = None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        if not _DIGEST_RE.match(digest):
            raise ReferenceError_(f"invalid digest in image reference: {digest}")
    first, _, remainder = rest.partition("/")
    if remainder and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        registry, path = first, remainder
    else:
        registry, path = DOCKER_HUB, rest
    tag = None
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        path, tag = path.rsplit(":", 1)
        if not _TAG_RE.match(tag):
            raise ReferenceError_(f"invalid tag in image reference: {tag}")
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if not path or not _REPO_RE.match(path):
        raise ReferenceError_(f"invalid repository name in image reference: {text!r}")
    if tag is None and digest is None:
        tag = "latest"
    return ImageReference("docker", registry=registry, repository=path, tag=tag, digest=digest)


def parse_reference(text: str) -> ImageReference:
    """Parse any IMAGE string of SPEC's table."""
    text = text.strip()
    if not text:
        raise ReferenceError_("empty image reference")
    if text.startswith("docker://"):
        return parse_registry_reference(text[len("docker://"):])
    for transport in ("oci-archive", "docker-archive", "oci", "sbom"):
        prefix = transport + ":"
        if text.startswith(prefix):
            rest = text[len(prefix):]
            if not rest:
                raise ReferenceError_(f"{prefix} needs a path")
            if transport in ("docker-archive", "sbom"):
                return ImageReference(transport, path=rest)
            path, tag = _split_path_tag(rest)
            return ImageReference(transport, path=path, tag=tag)  # type: ignore[arg-type]
    return parse_registry_reference(text)
