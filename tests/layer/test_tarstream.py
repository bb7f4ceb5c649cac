"""The walker's tar reader against Python's tarfile: the same entries, field by field."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures import build as fixture_build
from imagescan.layer.streams import DecompressingReader
from imagescan.layer.tarstream import TarFormatError, TarStream


def _ours(data: bytes) -> list[tuple[object, ...]]:
    stream = TarStream(DecompressingReader(io.BytesIO(data), 1 << 40))
    out = []
    for h in stream:
        content = stream.read(1 << 30) if h.type in (ord("0"), 0, ord("7")) else None
        out.append((h.name, h.type, h.mode, h.uid, h.gid, h.size, h.linkname, content))
    return out


def _reference(data: bytes) -> list[tuple[object, ...]]:
    out = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        for m in tar:
            content = tar.extractfile(m).read() if m.type in (b"0", b"\0", b"7") else None  # type: ignore[union-attr]
            out.append((m.name, m.type[0] if m.type != b"\0" else 0, m.mode, m.uid, m.gid, m.size, m.linkname,
                        content))
    return out


def _layers(name: str) -> list[Path]:
    layout = fixture_build.build(name)
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads((layout / "blobs/sha256" / index["manifests"][0]["digest"][7:]).read_text())
    return [layout / "blobs/sha256" / layer["digest"][7:] for layer in manifest["layers"]]


@pytest.mark.parametrize("image", ["debian", "langs", "java"])
def test_same_entries_as_tarfile_on_real_layers(image: str) -> None:
    for blob in _layers(image):
        data = gzip.decompress(blob.read_bytes()) if blob.read_bytes()[:2] == b"\x1f\x8b" else blob.read_bytes()
        assert _ours(data) == _reference(data), blob.name


@pytest.mark.parametrize("fmt", ["gnu", "posix", "ustar", "v7"])
def test_gnu_tar_formats_long_names_and_links(tmp_path: Path, fmt: str) -> None:
    root = tmp_path / "root"
    long_names = fmt in ("gnu", "posix")  # ustar keeps 255 characters (prefix + name), v7 only 99
    deep = root / ("d" * 60) / ("e" * 60) / ("f" * 60) if long_names else root / ("d" * 40) / ("e" * 40)
    deep.mkdir(parents=True)
    (deep / ("long-file-name-" * 8 if long_names else "file")).write_text("content\n")
    if long_names:
        (root / "link").symlink_to("d" * 60 + "/" + "e" * 60 + "/" + "x" * 120)
        (root / "hard").hardlink_to(deep / ("long-file-name-" * 8))
    else:
        (root / "link").symlink_to("d" * 40)
    archive = tmp_path / "a.tar"
    subprocess.run(["tar", f"--format={fmt}", "-C", str(root), "-cf", str(archive), "."], check=True)
    data = archive.read_bytes()
    assert _ours(data) == _reference(data)


def test_sparse_and_pax_sparse(tmp_path: Path) -> None:
    big = tmp_path / "root" / "sparse"
    big.parent.mkdir()
    with big.open("wb") as f:
        f.seek(5_000_000)
        f.write(b"end")
    for fmt in ("gnu", "posix"):
        archive = tmp_path / f"{fmt}.tar"
        subprocess.run(["tar", "--sparse", f"--format={fmt}", "-C", str(big.parent), "-cf", str(archive), "sparse"],
                       check=True)
        [entry] = list(TarStream(DecompressingReader(io.BytesIO(archive.read_bytes()), 1 << 40)))
        assert (entry.name, entry.size, entry.sparse) == ("sparse", 5_000_003, True)


@pytest.mark.parametrize("data", [b"", b"x" * 100, b"y" * 512, bytes(511)])
def test_malformed_streams(data: bytes) -> None:
    with pytest.raises(TarFormatError):
        list(TarStream(DecompressingReader(io.BytesIO(data), 1 << 40)))


_SAMPLE = subprocess.run(["tar", "--format=posix", "-C", "/etc", "-cf", "-", "hostname", "os-release", "ssl"],
                         capture_output=True, check=False).stdout


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, max(0, len(_SAMPLE) - 1)), st.integers(0, 255)), max_size=6))
def test_mutations_raise_only_tar_format_errors(flips: list[tuple[int, int]]) -> None:
    data = bytearray(_SAMPLE)
    for pos, value in flips:
        if pos < len(data):
            data[pos] = value
    with contextlib.suppress(TarFormatError):
        _ours(bytes(data))
