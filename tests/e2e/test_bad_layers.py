"""A damaged layer costs only itself: the other layers' packages are reported and the scan says what is missing."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from fixtures import build as fixture_build
from fixtures.imagebuilder import ImageSpec, Layer, write_oci_layout
from imagescan.checks.base import CheckContext
from imagescan.checks.incomplete import IncompleteCheck
from imagescan.cli import run
from imagescan.findings import IncompleteFinding
from imagescan.scan import analyze_image


def _layout_with_damaged_layer(tmp_path: Path, damage: str) -> Path:
    layout = tmp_path / "oci"
    shutil.copytree(fixture_build.build("small"), layout)
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads((layout / "blobs/sha256" / index["manifests"][0]["digest"][7:]).read_text())
    digests = [layer["digest"] for layer in manifest["layers"]]
    blob = layout / "blobs/sha256" / digests[1][7:]  # the layer that upgrades libssl3 and adds curl
    data = bytearray(blob.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "flipped":
        data[len(data) // 2] ^= 0xFF
    else:
        data = bytearray(b"not a layer at all")
    blob.chmod(0o644)
    blob.write_bytes(bytes(data))
    return layout


@pytest.mark.parametrize("damage", ["truncated", "flipped", "replaced"])
def test_other_layers_survive_and_the_gap_is_reported(tmp_path: Path, damage: str) -> None:
    layout = _layout_with_damaged_layer(tmp_path, damage)
    analysis = analyze_image(f"oci:{layout}")
    names = {p.name for p in analysis.merged.packages}
    assert {"base-files", "zlib1g", "libssl3"} <= names  # from the intact first layer
    assert "curl" not in names  # only the damaged layer had it
    assert analysis.merged.incomplete_layers == [analysis.image.diff_ids[1]]
    findings = IncompleteCheck().run(analysis, CheckContext())
    damaged = analysis.image.diff_ids[1]
    assert any(isinstance(f, IncompleteFinding) and f.code == "layer-unreadable" and f.layer_diff_id == damaged
               for f in findings)
    assert any(w.code in ("digest-mismatch", "layer-unreadable") for w in analysis.warnings)
    assert analysis.layers[0].complete and analysis.layers[2].complete


def test_damaged_layer_makes_fail_on_medium_fail(tmp_path: Path) -> None:
    layout = _layout_with_damaged_layer(tmp_path, "flipped")
    args = ["scan", f"oci:{layout}", "--fail-on", "medium", "--format", "json", "-o", str(tmp_path / "r.json")]
    assert run(args) == 1
    report = json.loads((tmp_path / "r.json").read_text())
    assert any(f["kind"] == "scan-incomplete" and f["code"] == "layer-unreadable" for f in report["findings"])


def _hostile_layout(tmp_path: Path) -> Path:
    """One gzip layer whose entries climb out of the root, point outside, and loop."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        entries = [
            ("../../escaped", tarfile.REGTYPE, "", b"pwned"),
            ("/abs/../../../etc/evil", tarfile.REGTYPE, "", b"pwned"),
            ("etc/os-release", tarfile.REGTYPE, "", b"ID=alpine\nVERSION_ID=3.18.4\n"),
            ("etc/passwd", tarfile.SYMTYPE, "/../../etc/passwd", b""),
            ("loop/a", tarfile.SYMTYPE, "b", b""),
            ("loop/b", tarfile.SYMTYPE, "a", b""),
        ]
        for name, kind, link, data in entries:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, link
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)
    tar_bytes = raw.getvalue()
    blob = gzip.compress(tar_bytes)
    blobs = tmp_path / "blobs"
    blobs.mkdir()
    path = blobs / "layer.tar.gz"
    path.write_bytes(blob)
    layer = Layer(path=path, digest="sha256:" + hashlib.sha256(blob).hexdigest(),
                  diff_id="sha256:" + hashlib.sha256(tar_bytes).hexdigest(), size=len(blob),
                  media_type="application/vnd.oci.image.layer.v1.tar+gzip", compression="gzip",
                  uncompressed_size=len(tar_bytes))
    out = tmp_path / "layout"
    write_oci_layout(out, ImageSpec([layer]))
    return out


def test_hostile_paths_are_reported_and_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = _hostile_layout(tmp_path)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    analysis = analyze_image(f"oci:{layout}")
    assert list(work.iterdir()) == []
    assert not (tmp_path / "escaped").exists() and not Path("/etc/evil").exists()
    assert sorted(w.code for w in analysis.warnings) == ["unsafe-path", "unsafe-path"]
    assert analysis.os is not None and analysis.os.id == "alpine"
    assert analysis.merged.resolve("loop/a") is None
    assert "escaped" not in analysis.merged.files and "etc/evil" not in analysis.merged.files
