"""The fixture image builder, checked against the real tools: skopeo and umoci must accept what we write."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import pyzstd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.imagebuilder import (
    HistoryEntry,
    ImageSpec,
    TarEntry,
    build_layer,
    inspect,
    iter_layer,
    layer_from_diff,
    layer_from_dir,
    opaque,
    snapshot,
    whiteout,
    write_oci_layout,
)
from fixtures.tarlayer import clean_path
from tests.needs import missing


def need(*tools: str) -> None:
    absent = [t for t in tools if shutil.which(t) is None]
    if absent:
        missing(f"needs {', '.join(absent)}")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def decompressed_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as raw:
        magic = raw.read(4)
        raw.seek(0)
        stream: Any = raw
        if magic[:2] == b"\x1f\x8b":
            stream = gzip.GzipFile(fileobj=raw)
        elif magic == b"\x28\xb5\x2f\xfd":
            stream = pyzstd.ZstdFile(raw, mode="r")
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def members(path: Path) -> dict[str, tuple[Any, bytes | None]]:
    return {info.name: (info, data) for info, data in iter_layer(path)}


def umoci_unpack(image: str, bundle: Path) -> Path:
    """``umoci unpack`` of an ``oci`` layout reference (DIR:TAG); returns the rootfs."""
    args = ["umoci", "unpack"] + (["--rootless"] if os.geteuid() != 0 else []) + ["--image", image, str(bundle)]
    subprocess.run(args, check=True, capture_output=True)
    return bundle / "rootfs"


def gzip_copy(src_layout: Path, dest_layout: Path, tag: str = "latest") -> None:
    """umoci 0.4 cannot read zstd layers: recompress with skopeo first."""
    subprocess.run(
        ["skopeo", "copy", "-q", "--dest-compress", "--dest-compress-format", "gzip",
         f"oci:{src_layout}:{tag}", f"oci:{dest_layout}:{tag}"],
        check=True, capture_output=True,
    )  # fmt: skip


# --- layers from entries -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_layer_digest_diff_id_and_size_match_the_blob(tmp_path: Path, compression: Any) -> None:
    layer = build_layer([TarEntry("a/b.txt", data=b"hello\n" * 1000)], compression, tmp_path)
    assert layer.digest == sha256_file(layer.path)
    assert layer.diff_id == decompressed_sha256(layer.path)
    assert layer.size == layer.path.stat().st_size
    assert layer.path.name.startswith(layer.digest.split(":")[1])
    assert layer.media_type.startswith("application/vnd.oci.image.layer.v1.tar")
    if compression == "none":
        assert layer.digest == layer.diff_id


def test_entries_keep_kind_mode_owner_and_links(tmp_path: Path) -> None:
    entries = [
        TarEntry("usr/bin/tool", data=b"#!/bin/sh\n", mode=0o4755, uid=0, gid=50),
        TarEntry("etc/os-release", kind="symlink", link="../usr/lib/os-release"),
        TarEntry("usr/bin/tool2", kind="hardlink", link="usr/bin/tool"),
        TarEntry("dev/null", kind="char", devmajor=1, devminor=3, mode=0o666),
        TarEntry("run/pipe", kind="fifo"),
        TarEntry("home/user", kind="dir", mode=0o700, uid=1000, gid=1000),
    ]
    got = members(build_layer(entries, "gzip", tmp_path).path)
    tool, data = got["usr/bin/tool"]
    assert (tool.mode, tool.uid, tool.gid, tool.mtime, data) == (0o4755, 0, 50, 1704067200, b"#!/bin/sh\n")
    assert got["etc/os-release"][0].issym() and got["etc/os-release"][0].linkname == "../usr/lib/os-release"
    assert got["usr/bin/tool2"][0].islnk() and got["usr/bin/tool2"][0].linkname == "usr/bin/tool"
    dev = got["dev/null"][0]
    assert dev.ischr() and (dev.devmajor, dev.devminor) == (1, 3)
    assert got["run/pipe"][0].isfifo()
    assert got["home/user"][0].isdir() and got["home/user"][0].uid == 1000
    # parents added before their first child, once; explicit dirs keep their mode
    names = list(got)
    assert names.index("usr") < names.index("usr/bin") < names.index("usr/bin/tool")
    assert got["home"][0].mode == 0o755 and names.count("home") == 1


def test_same_entries_give_the_same_digests(tmp_path: Path) -> None:
    entries = [TarEntry("x", data=b"1"), TarEntry("y/z", data=b"2" * 5000), whiteout("old")]
    for compression in ("gzip", "zstd", "none"):
        a = build_layer(entries, compression, tmp_path / "a")
        b = build_layer(list(entries), compression, tmp_path / "b")
        assert (a.digest, a.diff_id) == (b.digest, b.diff_id)


def test_whiteout_and_opaque_names() -> None:
    assert whiteout("/etc/motd").path == "etc/.wh.motd"
    assert whiteout("top").path == ".wh.top"
    assert opaque("var/lib/app/").path == "var/lib/app/.wh..wh..opq"
    assert whiteout("a/b").data == b"" and whiteout("a/b").kind == "file"


@pytest.mark.parametrize("bad", ["", "/", "../etc", "a/../../b", "./.."])
def test_paths_that_escape_are_refused(bad: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        clean_path(bad)
    with pytest.raises(ValueError):
        build_layer([TarEntry(bad, data=b"x")], "none", tmp_path)


def test_a_failed_build_leaves_no_partial_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        build_layer([TarEntry("ok", data=b"1"), TarEntry("link", kind="symlink")], "gzip", tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- layers from directories ----------------------------------------------------------------------------------------


def make_tree(root: Path) -> None:
    (root / "bin").mkdir(parents=True)
    (root / "bin/run").write_bytes(b"#!/bin/sh\necho run\n")
    (root / "bin/run").chmod(0o750)
    os.link(root / "bin/run", root / "bin/run-again")
    (root / "bin/sh").symlink_to("/bin/dash")
    (root / "secret").mkdir(mode=0o700)
    (root / "secret/key").write_bytes(b"k")
    (root / "cache").mkdir()
    (root / "cache/junk").write_bytes(b"j")
    os.mkfifo(root / "fifo")


def test_layer_from_dir_keeps_modes_symlinks_and_hardlinks(tmp_path: Path) -> None:
    make_tree(tmp_path / "root")
    layer = layer_from_dir(tmp_path / "root", "gzip", tmp_path / "out", exclude=["cache/*"])
    got = members(layer.path)
    assert list(got) == sorted(got, key=lambda n: n.split("/"))  # deterministic, parents first
    assert got["bin/run"][0].mode == 0o750 and got["bin/run"][1] == b"#!/bin/sh\necho run\n"
    assert got["bin/run-again"][0].islnk() and got["bin/run-again"][0].linkname == "bin/run"
    assert got["bin/sh"][0].linkname == "/bin/dash"
    assert got["secret"][0].mode == 0o700
    assert got["fifo"][0].isfifo()
    assert "cache" in got and "cache/junk" not in got
    assert layer.diff_id == decompressed_sha256(layer.path)
    again = layer_from_dir(tmp_path / "root", "gzip", tmp_path / "out2", exclude=["cache/*"])
    assert again.digest == layer.digest


def test_layer_from_a_50mb_directory_streams_with_flat_memory(tmp_path: Path) -> None:
    root = tmp_path / "big"
    root.mkdir()
    chunk = os.urandom(1 << 20)
    for i in range(5):
        with open(root / f"blob{i}.bin", "wb") as f:
            for _ in range(10):
                f.write(chunk)
    del chunk
    tracemalloc.start()
    try:
        layer = layer_from_dir(root, "gzip", tmp_path / "out")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert layer.uncompressed_size > 50 * (1 << 20)
    assert peak < 8 * (1 << 20), f"peak {peak / (1 << 20):.1f} MiB while writing a 50 MiB layer"


def test_layer_from_diff_writes_changes_whiteouts_and_opaque_dirs(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/keep").write_text("same")
    (root / "etc/edit").write_text("v1")
    (root / "etc/gone").write_text("bye")
    (root / "olddir/sub").mkdir(parents=True)
    (root / "olddir/sub/f").write_text("x")
    (root / "redo").mkdir()
    (root / "redo/old").write_text("old")
    (root / "redo/kept-name").write_text("old content")
    (root / "becomes-file").mkdir()
    (root / "becomes-file/inner").write_text("i")
    (root / "ignored").mkdir()
    before = snapshot(root, exclude=["ignored/*"])

    (root / "etc/edit").write_text("v2 longer")
    (root / "etc/gone").unlink()
    (root / "etc/new").write_text("new")
    shutil.rmtree(root / "olddir")
    shutil.rmtree(root / "redo")
    (root / "redo").mkdir()
    (root / "redo/kept-name").write_text("new content")
    shutil.rmtree(root / "becomes-file")
    (root / "becomes-file").write_text("now a file")
    (root / "ignored/tmpfile").write_text("t")

    layer = layer_from_diff(before, root, "zstd", tmp_path / "out")
    got = members(layer.path)
    assert set(got) == {
        ".wh.becomes-file", ".wh.olddir", "becomes-file", "etc", "etc/.wh.gone", "etc/edit", "etc/new",
        "redo", "redo/.wh..wh..opq", "redo/kept-name", "ignored",
    }  # fmt: skip
    assert got["etc/edit"][1] == b"v2 longer"
    names = list(got)
    assert names.index("redo/.wh..wh..opq") < names.index("redo/kept-name")
    assert names.index(".wh.becomes-file") < names.index("becomes-file")


def test_base_plus_diff_unpacked_by_umoci_equals_the_changed_tree(tmp_path: Path) -> None:
    need("umoci")
    root = tmp_path / "root"
    make_tree(root)
    os.unlink(root / "fifo")
    base = layer_from_dir(root, "gzip", tmp_path / "layers")
    before = snapshot(root)
    (root / "bin/run").write_bytes(b"#!/bin/sh\necho changed\n")
    shutil.rmtree(root / "secret")
    shutil.rmtree(root / "cache")
    (root / "cache").mkdir()
    (root / "cache/fresh").write_bytes(b"f")
    (root / "new/deep").mkdir(parents=True)
    (root / "new/deep/file").write_bytes(b"n")
    diff = layer_from_diff(before, root, "gzip", tmp_path / "layers")
    write_oci_layout(tmp_path / "oci", ImageSpec([base, diff]))
    rootfs = umoci_unpack(f"{tmp_path}/oci:latest", tmp_path / "bundle")

    def tree(top: Path) -> dict[str, bytes | str]:
        out: dict[str, bytes | str] = {}
        for p in sorted(top.rglob("*")):
            rel = str(p.relative_to(top))
            out[rel] = (
                "dir" if p.is_dir() and not p.is_symlink() else os.readlink(p) if p.is_symlink() else p.read_bytes()
            )
        return out

    assert tree(rootfs) == tree(root)


# --- layouts ---------------------------------------------------------------------------------------------------------


def check_layout_blobs(layout: Path) -> list[dict[str, Any]]:
    """Every blob matches its name; every manifest's config and layers exist with the right size, and the
    config's diff_ids are the layers' uncompressed digests. Returns the image manifests."""
    blobs = layout / "blobs" / "sha256"
    for blob in blobs.iterdir():
        assert sha256_file(blob) == "sha256:" + blob.name
    index = json.loads((layout / "index.json").read_text())
    assert json.loads((layout / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    found: list[dict[str, Any]] = []
    todo = list(index["manifests"])
    while todo:
        desc = todo.pop()
        data = (blobs / desc["digest"].split(":")[1]).read_bytes()
        assert len(data) == desc["size"]
        doc = json.loads(data)
        assert doc["mediaType"] == desc["mediaType"]
        if "manifests" in doc:
            todo += doc["manifests"]
            continue
        found.append(doc)
        config = json.loads((blobs / doc["config"]["digest"].split(":")[1]).read_bytes())
        assert len(config["rootfs"]["diff_ids"]) == len(doc["layers"])
        for layer, diff_id in zip(doc["layers"], config["rootfs"]["diff_ids"], strict=True):
            path = blobs / layer["digest"].split(":")[1]
            assert path.stat().st_size == layer["size"]
            if "tar" in layer["mediaType"]:
                assert decompressed_sha256(path) == diff_id
        if config["os"] != "unknown":
            assert sum(1 for h in config["history"] if not h.get("empty_layer")) == len(doc["layers"])
    return found


def test_small_image_is_accepted_by_skopeo_and_umoci(small: Path, tmp_path: Path) -> None:
    need("skopeo", "umoci")
    manifests = check_layout_blobs(small)
    assert [layer["mediaType"].rsplit("+", 1)[-1] for layer in manifests[0]["layers"]] == ["gzip", "gzip", "zstd"]
    info = inspect(f"oci:{small}:latest")
    assert info["Architecture"] == "amd64" and len(info["Layers"]) == 3
    config = inspect(f"oci:{small}:latest", config=True)
    assert config["config"]["Cmd"] == ["python3", "/app/main.py"] and config["config"]["WorkingDir"] == "/app"
    assert config["config"]["ExposedPorts"] == {"8080/tcp": {}}
    gzip_copy(small, tmp_path / "gz")
    rootfs = umoci_unpack(f"{tmp_path}/gz:latest", tmp_path / "bundle")
    assert not (rootfs / "etc/motd").exists() and not (rootfs / "root/.aws/credentials").exists()
    assert sorted(p.name for p in (rootfs / "var/lib/app").iterdir()) == ["state.json"]
    assert 'VERSION_ID="12"' in (rootfs / "etc/os-release").read_text()
    status = (rootfs / "var/lib/dpkg/status").read_text()
    assert "Package: curl" in status and "Version: 3.0.15-1~deb12u1" in status
    assert (rootfs / "var/lib/dpkg/info/libssl3:amd64.list").read_text().startswith("/.\n")
    assert (rootfs / "app/node_modules/lodash/package.json").exists()


def test_small_layers_hold_the_whiteouts_and_opaque_marker(small: Path) -> None:
    doc = json.loads((small / "index.json").read_text())["manifests"][0]
    manifest = json.loads((small / "blobs/sha256" / doc["digest"].split(":")[1]).read_bytes())
    layer2 = small / "blobs/sha256" / manifest["layers"][1]["digest"].split(":")[1]
    names = set(members(layer2))
    assert {"etc/.wh.motd", "root/.aws/.wh.credentials", "var/lib/app/.wh..wh..opq"} <= names
    layer3 = small / "blobs/sha256" / manifest["layers"][2]["digest"].split(":")[1]
    assert not any(".wh." in n for n in members(layer3))


def test_multiarch_index_platforms_and_attestations(multiarch: Path, tmp_path: Path) -> None:
    need("skopeo", "umoci")
    check_layout_blobs(multiarch)
    raw = inspect(f"oci:{multiarch}:latest", raw=True)
    assert raw["mediaType"] == "application/vnd.oci.image.index.v1+json"
    platforms = [m["platform"] for m in raw["manifests"]]
    assert platforms[:2] == [{"architecture": "amd64", "os": "linux"},
                             {"architecture": "arm64", "os": "linux", "variant": "v8"}]  # fmt: skip
    attestations = raw["manifests"][2:]
    assert [a["platform"] for a in attestations] == [{"architecture": "unknown", "os": "unknown"}] * 2
    for att, image in zip(attestations, raw["manifests"][:2], strict=True):
        assert att["annotations"]["vnd.docker.reference.type"] == "attestation-manifest"
        assert att["annotations"]["vnd.docker.reference.digest"] == image["digest"]
    assert inspect(f"oci:{multiarch}:latest", platform="linux/arm64/v8")["Architecture"] == "arm64"
    subprocess.run(
        ["skopeo", "--override-arch", "arm64", "--override-variant", "v8", "copy", "-q",
         f"oci:{multiarch}:latest", f"oci:{tmp_path}/arm:latest"],
        check=True, capture_output=True,
    )  # fmt: skip
    rootfs = umoci_unpack(f"{tmp_path}/arm:latest", tmp_path / "bundle")
    status = (rootfs / "var/lib/dpkg/status").read_text()
    assert "Package: libatomic1" in status and "Architecture: arm64" in status and "libssl3" not in status


def test_named_builds_are_deterministic(tmp_path: Path) -> None:
    from fixtures.build import build, build_info

    for name in ("small", "multiarch", "apk"):
        a = build_info(build(name, tmp_path / "a"))
        b = build_info(build(name, tmp_path / "b"))
        assert a["digest"] == b["digest"] and a["manifests"] == b["manifests"]


def test_history_must_match_layers(tmp_path: Path) -> None:
    layer = build_layer([TarEntry("a", data=b"a")], "gzip", tmp_path)
    with pytest.raises(ValueError, match="history"):
        write_oci_layout(tmp_path / "oci", ImageSpec([layer], history=[HistoryEntry("x", empty_layer=True)]))


def test_docker_format_refuses_what_schema2_cannot_say(tmp_path: Path) -> None:
    zst = build_layer([TarEntry("a", data=b"a")], "zstd", tmp_path)
    with pytest.raises(ValueError, match="zstd"):
        write_oci_layout(tmp_path / "o1", ImageSpec([zst]), manifest_format="docker")
    gz = build_layer([TarEntry("a", data=b"a")], "gzip", tmp_path)
    with pytest.raises(ValueError, match="attestation"):
        write_oci_layout(tmp_path / "o2", ImageSpec([gz]), manifest_format="docker", attestation=True)


def test_tags_accumulate_in_one_layout(tmp_path: Path) -> None:
    need("skopeo")
    a = build_layer([TarEntry("a", data=b"a")], "gzip", tmp_path)
    b = build_layer([TarEntry("b", data=b"b")], "gzip", tmp_path)
    first = write_oci_layout(tmp_path / "oci", ImageSpec([a]), tag="one")
    write_oci_layout(tmp_path / "oci", ImageSpec([b]), tag="two")
    again = write_oci_layout(tmp_path / "oci", ImageSpec([a]), tag="one")
    index = json.loads((tmp_path / "oci/index.json").read_text())
    assert [m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]] == ["two", "one"]
    assert again.digest == first.digest == inspect(f"oci:{tmp_path}/oci:one")["Digest"]


_NAME = st.text(alphabet="abcXYZ019._- ", min_size=1, max_size=12).filter(lambda s: s not in (".", ".."))
_FILES = st.dictionaries(
    st.lists(_NAME, min_size=1, max_size=3).map("/".join), st.binary(max_size=3000), max_size=8
).filter(lambda files: not any(other.startswith(path + "/") for path in files for other in files))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=_FILES, compression=st.sampled_from(["gzip", "zstd", "none"]))
def test_any_files_round_trip_with_correct_digests(tmp_path: Path, files: dict[str, bytes], compression: Any) -> None:
    layer = build_layer([TarEntry(p, data=d) for p, d in files.items()], compression, tmp_path / "h")
    got = {name: data for name, (info, data) in members(layer.path).items() if info.isreg()}
    assert got == {clean_path(p): d for p, d in files.items()}
    assert layer.digest == sha256_file(layer.path) and layer.diff_id == decompressed_sha256(layer.path)
