"""Local transports: ``oci:`` layout directories, ``oci-archive:`` tars of a layout, ``docker-archive:`` tars.

All three implement :class:`~imagescan.image.source.BlobSource`. Archives are read in place (tar members are
seekable in an uncompressed tar): nothing is extracted to disk.
"""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from imagescan.errors import ManifestError, ScanError
from imagescan.image.manifest import DOCKER_MANIFEST, OCI_INDEX, digest_of, media_type_of

REF_NAME = "org.opencontainers.image.ref.name"
_DIGEST = re.compile(r"^(sha256|sha512):([a-f0-9]{64}|[a-f0-9]{128})$")
MAX_METADATA_BYTES = 16 * 1024 * 1024


class _Files(Protocol):
    def open(self, name: str) -> BinaryIO: ...
    def exists(self, name: str) -> bool: ...
    def close(self) -> None: ...


class _DirFiles:
    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise ScanError(f"{root} is not a directory")
        self.root = root

    def open(self, name: str) -> BinaryIO:
        try:
            return (self.root / name).open("rb")
        except OSError as exc:
            raise ScanError(f"cannot read {name} in {self.root}: {exc.strerror}") from exc

    def exists(self, name: str) -> bool:
        return (self.root / name).is_file()

    def close(self) -> None:
        pass


class _Slice:
    """Reads at most ``size`` bytes of ``handle`` from its current position."""

    def __init__(self, handle: BinaryIO, size: int) -> None:
        self.handle = handle
        self.left = size

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0 or n > self.left:
            n = self.left
        data = self.handle.read(n)
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.handle.close()

    def __enter__(self) -> _Slice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _TarFiles:
    def __init__(self, path: Path) -> None:
        try:
            with tarfile.open(path, mode="r:") as tar:  # only the member offsets are kept
                self.members = {m.name.removeprefix("./"): m for m in tar.getmembers() if m.isfile()}
        except (OSError, tarfile.TarError) as exc:
            raise ScanError(f"cannot read archive {path}: {exc}") from exc
        self.path = path

    def open(self, name: str) -> BinaryIO:
        """A fresh handle on the member's bytes, so that several layers can be read at once."""
        member = self.members.get(name)
        if member is None or member.sparse:
            raise ScanError(f"{self.path} has no member {name}")
        handle = self.path.open("rb")
        handle.seek(member.offset_data)
        return _Slice(handle, member.size)  # type: ignore[return-value]

    def exists(self, name: str) -> bool:
        return name in self.members

    def close(self) -> None:
        pass


def _read_json(files: _Files, name: str) -> tuple[bytes, Any]:
    with files.open(name) as f:
        data = f.read(MAX_METADATA_BYTES + 1)
    if len(data) > MAX_METADATA_BYTES:
        raise ManifestError(f"{name} is too large")
    try:
        return data, json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{name} is not valid JSON: {exc}") from exc


def blob_name(digest: str) -> str:
    m = _DIGEST.match(digest)
    if not m:
        raise ManifestError(f"invalid digest {digest!r}")
    return f"blobs/{m.group(1)}/{m.group(2)}"


class OciLayoutSource:
    """An OCI image layout (``oci-layout``, ``index.json``, ``blobs/``), from a directory or a tar."""

    def __init__(self, files: _Files, tag: str | None) -> None:
        self.files = files
        self.tag = tag
        if not files.exists("index.json"):
            files.close()
            raise ManifestError("not an OCI image layout: index.json is missing")

    def fetch_manifest(self, ref: str) -> tuple[bytes, str]:
        if _DIGEST.match(ref):
            with self.files.open(blob_name(ref)) as f:
                data = f.read(MAX_METADATA_BYTES)
            doc = json.loads(data) if data.startswith(b"{") else {}
            return data, media_type_of(doc, "") if isinstance(doc, dict) else ""
        data, index = _read_json(self.files, "index.json")
        entries = index.get("manifests") if isinstance(index, dict) else None
        if not isinstance(entries, list) or not entries:
            raise ManifestError("index.json lists no manifests")
        if self.tag:
            named = [m for m in entries if (m.get("annotations") or {}).get(REF_NAME) == self.tag]
            if not named:
                raise ManifestError(f"the OCI layout has no image tagged {self.tag!r}")
            entries = named
        if len(entries) == 1:
            return self.fetch_manifest(str(entries[0].get("digest", "")))
        return data, OCI_INDEX  # several untagged manifests: index.json itself is the index to choose from

    def open_blob(self, digest: str) -> BinaryIO:
        return self.files.open(blob_name(digest))

    def close(self) -> None:
        self.files.close()


class DockerArchiveSource:
    """A ``docker save`` tar: ``manifest.json`` names the config and the layer tars.

    A Docker v2 manifest is synthesised from it. Layer tars in a docker-archive are usually uncompressed, so the
    blob digest is the diff_id; when the layer member is stored under ``blobs/ALG/HEX`` that name is its digest.
    """

    def __init__(self, files: _Files) -> None:
        self.files = files
        _, doc = _read_json(files, "manifest.json")
        if not isinstance(doc, list) or not doc or not isinstance(doc[0], dict):
            files.close()
            raise ManifestError("docker-archive manifest.json lists no image")
        entry = doc[0]
        self.config_name = str(entry.get("Config", ""))
        self.layer_names = [str(x) for x in entry.get("Layers") or []]
        with files.open(self.config_name) as f:
            config_bytes = f.read(MAX_METADATA_BYTES)
        self.config_digest = digest_of(config_bytes)
        config = json.loads(config_bytes)
        diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
        if len(diff_ids) != len(self.layer_names):
            raise ManifestError("docker-archive: manifest.json and the config disagree on the number of layers")
        self.blobs: dict[str, str] = {self.config_digest: self.config_name}
        layers = []
        for name, diff_id in zip(self.layer_names, diff_ids, strict=True):
            m = re.match(r"^blobs/(sha256|sha512)/([a-f0-9]+)$", name)
            digest = f"{m.group(1)}:{m.group(2)}" if m else str(diff_id)
            self.blobs[digest] = name
            layers.append({"mediaType": "application/vnd.docker.image.rootfs.diff.tar", "digest": digest, "size": 0})
        manifest = {
            "schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                       "digest": self.config_digest, "size": len(config_bytes)},
            "layers": layers,
        }
        self.manifest = json.dumps(manifest, sort_keys=True).encode()

    def fetch_manifest(self, ref: str) -> tuple[bytes, str]:
        return self.manifest, DOCKER_MANIFEST

    def open_blob(self, digest: str) -> BinaryIO:
        name = self.blobs.get(digest)
        if name is None:
            raise ManifestError(f"docker-archive has no blob {digest}")
        return self.files.open(name)

    def close(self) -> None:
        self.files.close()


def open_oci_dir(path: str, tag: str | None) -> OciLayoutSource:
    return OciLayoutSource(_DirFiles(Path(path)), tag)


def open_oci_archive(path: str, tag: str | None) -> OciLayoutSource:
    return OciLayoutSource(_TarFiles(Path(path)), tag)


def open_docker_archive(path: str) -> DockerArchiveSource:
    return DockerArchiveSource(_TarFiles(Path(path)))
