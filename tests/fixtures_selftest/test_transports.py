"""Layouts written by the builder survive skopeo's conversions and pushes to a real registry."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest

from fixtures.imagebuilder import (
    ImageSpec,
    TarEntry,
    build_layer,
    inspect,
    local_registry,
    push,
    to_docker_archive,
    to_oci_archive,
    write_oci_layout,
)
from fixtures.registry import push_exact
from fixtures.skopeo import SkopeoError
from tests.needs import missing

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


@pytest.fixture(autouse=True)
def _tools() -> None:
    absent = [t for t in ("skopeo", "docker-registry") if shutil.which(t) is None]
    if absent:
        missing(f"needs {', '.join(absent)}")


def top_digest(layout: Path) -> str:
    return str(json.loads((layout / "index.json").read_text())["manifests"][0]["digest"])


def test_archives_of_a_single_image(small: Path, tmp_path: Path) -> None:
    oci_tar = to_oci_archive(small, tmp_path / "small-oci.tar")
    assert inspect(f"oci-archive:{oci_tar}:latest")["Digest"] == top_digest(small)
    docker_tar = to_docker_archive(small, tmp_path / "small-docker.tar", tag="small:latest")
    info = inspect(f"docker-archive:{docker_tar}")
    with tarfile.open(docker_tar) as tar:
        f = tar.extractfile("manifest.json")
        assert f is not None
        assert json.load(f)[0]["RepoTags"] == ["docker.io/library/small:latest"]  # skopeo normalises names
    # docker-archive stores uncompressed layers: their digests are the layout's diff_ids
    config = inspect(f"oci:{small}:latest", config=True)
    assert info["Layers"] == config["rootfs"]["diff_ids"]


def test_archives_of_an_index(multiarch: Path, tmp_path: Path) -> None:
    oci_tar = to_oci_archive(multiarch, tmp_path / "multi.tar")
    raw = inspect(f"oci-archive:{oci_tar}:latest", raw=True)
    assert raw["mediaType"] == "application/vnd.oci.image.index.v1+json" and len(raw["manifests"]) == 4
    arm = to_docker_archive(multiarch, tmp_path / "arm.tar", platform="linux/arm64/v8")
    assert inspect(f"docker-archive:{arm}")["Architecture"] == "arm64"


def test_push_oci_keeps_digests_and_v2s2_converts(small: Path, multiarch: Path) -> None:
    with local_registry() as reg:
        assert push(small, f"{reg}/small:oci", format="oci") == top_digest(small)
        assert inspect(f"docker://{reg}/small:oci", raw=True)["layers"][2]["mediaType"].endswith("+zstd")

        push(small, f"{reg}/small:v2s2", format="v2s2")
        raw = inspect(f"docker://{reg}/small:v2s2", raw=True)
        assert raw["mediaType"] == DOCKER_MANIFEST
        assert {layer["mediaType"] for layer in raw["layers"]} == {"application/vnd.docker.image.rootfs.diff.tar.gzip"}

        assert push(multiarch, f"{reg}/multi:oci", format="oci") == top_digest(multiarch)
        push(multiarch, f"{reg}/multi:v2s2", format="v2s2")
        listing = inspect(f"docker://{reg}/multi:v2s2", raw=True)
        assert listing["mediaType"] == DOCKER_LIST
        assert [m["platform"]["architecture"] for m in listing["manifests"]] == ["amd64", "arm64"]
        assert inspect(f"docker://{reg}/multi:v2s2", platform="linux/arm64/v8")["Architecture"] == "arm64"


def test_docker_format_layouts_push_byte_for_byte(tmp_path: Path) -> None:
    a = build_layer([TarEntry("etc/arch", data=b"amd64\n")], "gzip", tmp_path)
    b = build_layer([TarEntry("etc/arch", data=b"arm64\n")], "gzip", tmp_path)
    specs = [ImageSpec([a]), ImageSpec([b], architecture="arm64", variant="v8")]
    listing = write_oci_layout(tmp_path / "list", specs, manifest_format="docker")
    single = write_oci_layout(tmp_path / "one", specs[0], manifest_format="docker")
    assert listing.descriptor.media_type == DOCKER_LIST and single.descriptor.media_type == DOCKER_MANIFEST
    with pytest.raises(SkopeoError, match="OCI media types"):
        to_oci_archive(tmp_path / "list", tmp_path / "x.tar")
    with local_registry() as reg:
        assert push_exact(tmp_path / "list", f"{reg}/dock:list") == listing.digest
        assert push_exact(tmp_path / "one", f"{reg}/dock:one") == single.digest
        raw = inspect(f"docker://{reg}/dock:list", raw=True)
        assert raw["mediaType"] == DOCKER_LIST
        assert inspect(f"docker://{reg}/dock:list", platform="linux/arm64/v8")["Architecture"] == "arm64"
        one = inspect(f"docker://{reg}/dock:one")
        assert one["Digest"] == single.digest and one["Layers"] == [a.digest]
