from __future__ import annotations

import gzip
import hashlib
import io
import subprocess
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagescan.layer.walker import Limits, analyze_layer, normalize, normalize_any
from imagescan.models import EntryType, FileEntry
from tests.layer.conftest import Entry, RecordingCataloger, make_tar


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _walk(tar: bytes, recorder: RecordingCataloger, compress: bool = True, **kw: object):  # type: ignore[no-untyped-def]
    blob = gzip.compress(tar) if compress else tar
    return analyze_layer(io.BytesIO(blob), diff_id=_sha(tar), catalogers=[recorder], digest=_sha(blob),
                         size=len(blob), **kw)  # type: ignore[arg-type]


def test_indexes_entries_captures_wanted_files_and_whiteouts(recorder: RecordingCataloger) -> None:
    tar = make_tar([
        Entry("./etc/", kind=tarfile.DIRTYPE, mode=0o755),
        Entry("./etc/os-release", b"ID=debian\n"),
        Entry("usr/bin/tool", b"\x7fELF", mode=0o4755),
        Entry("usr/bin/sh", kind=tarfile.SYMTYPE, link="dash"),
        Entry("usr/bin/hard", kind=tarfile.LNKTYPE, link="usr/bin/tool"),
        Entry("var/old/.wh.gone"),
        Entry("opt/app/.wh..wh..opq"),
    ])
    result = _walk(tar, recorder)
    assert result.complete and not result.warnings
    assert result.diff_id == _sha(tar)
    entries = {e.path: e for e in map(FileEntry.from_row, result.entries)}
    assert entries["etc"].type is EntryType.DIR
    assert entries["usr/bin/tool"].mode == 0o4755 and entries["usr/bin/tool"].size == 4
    assert entries["usr/bin/sh"].link == "dash"
    assert entries["usr/bin/hard"].type is EntryType.HARDLINK and entries["usr/bin/hard"].link == "usr/bin/tool"
    assert "var/old/.wh.gone" not in entries
    assert result.whiteouts == ["var/old/gone"]
    assert result.opaque_dirs == ["opt/app"]
    assert recorder.seen == {"etc/os-release": b"ID=debian\n"}
    assert [r.path for r in result.records] == ["etc/os-release"]
    assert result.analyzers == {"recorder": 1, "walker": 1}


def test_cache_key_depends_on_diff_id_and_analyzer_versions(recorder: RecordingCataloger) -> None:
    tar = make_tar([Entry("etc/a", b"1")])
    first = _walk(tar, recorder)
    assert _walk(tar, recorder).cache_key == first.cache_key
    assert _walk(tar, RecordingCataloger(version=2)).cache_key != first.cache_key
    assert _walk(make_tar([Entry("etc/a", b"2")]), recorder).cache_key != first.cache_key


@pytest.mark.parametrize("name", ["../../etc/passwd", "/../etc/shadow", "etc/../../root/x"])
def test_entries_escaping_the_root_are_reported_and_skipped(name: str, recorder: RecordingCataloger) -> None:
    tar = make_tar([Entry(name, b"x"), Entry("etc/ok", b"fine")])
    result = _walk(tar, recorder)
    assert [w.code for w in result.warnings] == ["unsafe-path"]
    assert [FileEntry.from_row(r).path for r in result.entries] == ["etc/ok"]
    assert recorder.seen == {"etc/ok": b"fine"}


def test_normalize() -> None:
    assert normalize("./a//b/./c") == "a/b/c"
    assert normalize("/abs/path") == "abs/path"
    assert normalize("./") == ""
    assert normalize("a/../../b") is None
    assert normalize(".//etc/") == "etc"


@given(st.lists(st.sampled_from(["usr", "a.b", ".wh.x", ".", "..", "", "\\", "./", "/"]), max_size=6))
def test_normalize_fast_path_agrees_with_the_general_rule(parts: list[str]) -> None:
    name = "/".join(parts)
    assert normalize(name) == normalize_any(name)


def test_symlink_loop_is_indexed_not_followed(recorder: RecordingCataloger) -> None:
    tar = make_tar([
        Entry("etc/loop1", kind=tarfile.SYMTYPE, link="loop2"),
        Entry("etc/loop2", kind=tarfile.SYMTYPE, link="loop1"),
        Entry("etc/self", kind=tarfile.SYMTYPE, link="self"),
    ])
    result = _walk(tar, recorder)
    assert result.complete and len(result.entries) == 3 and recorder.seen == {}


def test_file_over_the_cap_is_a_warning(recorder: RecordingCataloger) -> None:
    tar = make_tar([Entry("etc/big", b"x" * 5000), Entry("etc/small", b"ok")])
    result = _walk(tar, recorder)
    assert [(w.code, w.path) for w in result.warnings] == [("file-too-large", "etc/big")]
    assert recorder.seen == {"etc/small": b"ok"}


def test_sparse_10gb_entry_streams_past(tmp_path: Path, recorder: RecordingCataloger) -> None:
    sparse = tmp_path / "root" / "var" / "sparse.img"
    sparse.parent.mkdir(parents=True)
    with sparse.open("wb") as f:
        f.truncate(10 * 1024**3)
    (tmp_path / "root" / "etc").mkdir()
    (tmp_path / "root" / "etc" / "hostname").write_text("box\n")
    archive = tmp_path / "sparse.tar"
    subprocess.run(["tar", "--sparse", "-C", str(tmp_path / "root"), "-cf", str(archive), "var", "etc"], check=True)
    tar = archive.read_bytes()
    assert len(tar) < 1024 * 1024
    result = _walk(tar, recorder)
    entries = {e.path: e for e in map(FileEntry.from_row, result.entries)}
    assert result.complete, result.warnings
    assert entries["var/sparse.img"].size == 10 * 1024**3
    assert recorder.seen == {"etc/hostname": b"box\n"}


def test_decompression_bomb_keeps_what_was_read(recorder: RecordingCataloger) -> None:
    tar = make_tar([Entry("etc/first", b"kept"), Entry("var/zeros", b"\0" * 30_000_000)])
    result = _walk(tar, recorder, limits=Limits(max_layer_bytes=10_000_000))
    assert not result.complete
    assert [w.code for w in result.warnings] == ["layer-unreadable"]
    assert "decompression bomb" in result.warnings[0].message
    assert recorder.seen == {"etc/first": b"kept"}


def test_truncated_gzip_keeps_earlier_entries(recorder: RecordingCataloger) -> None:
    tar = make_tar([Entry("etc/first", b"kept")] + [Entry(f"usr/f{i}", bytes([i % 256]) * 20000) for i in range(50)])
    blob = gzip.compress(tar)
    result = analyze_layer(io.BytesIO(blob[: len(blob) // 2]), diff_id=_sha(tar), catalogers=[recorder])
    assert not result.complete
    assert result.warnings[-1].code == "layer-unreadable" and "truncated" in result.warnings[-1].message
    assert recorder.seen == {"etc/first": b"kept"}
    assert len(result.entries) > 1


def test_corrupt_gzip_is_a_warning(recorder: RecordingCataloger) -> None:
    blob = bytearray(gzip.compress(make_tar([Entry("etc/a", b"x" * 100000)])))
    blob[len(blob) // 2] ^= 0xFF
    result = analyze_layer(io.BytesIO(bytes(blob)), diff_id="sha256:" + "0" * 64, catalogers=[recorder])
    assert not result.complete and result.warnings


def test_blob_digest_mismatch_discards_untrusted_results(recorder: RecordingCataloger) -> None:
    tar = make_tar([Entry("etc/a", b"x")])
    blob = gzip.compress(tar)
    result = analyze_layer(io.BytesIO(blob), diff_id=_sha(tar), catalogers=[recorder], digest=_sha(b"other"))
    assert not result.complete
    assert [w.code for w in result.warnings] == ["digest-mismatch"]
    assert result.entries == [] and result.records == []


def test_diff_id_mismatch_discards_untrusted_results(recorder: RecordingCataloger) -> None:
    tar = make_tar([Entry("etc/a", b"x")])
    result = analyze_layer(io.BytesIO(gzip.compress(tar)), diff_id=_sha(b"other"), catalogers=[recorder])
    assert not result.complete and [w.code for w in result.warnings] == ["digest-mismatch"]
    assert result.records == []


def test_not_a_tar_is_a_warning(recorder: RecordingCataloger) -> None:
    result = analyze_layer(io.BytesIO(gzip.compress(b"this is not a tar archive" * 100)), diff_id="sha256:x",
                           catalogers=[recorder])
    assert not result.complete and result.warnings[0].code == "layer-unreadable"


def test_cataloger_crash_is_contained(recorder: RecordingCataloger) -> None:
    class Broken(RecordingCataloger):
        def parse(self, path, data, size):  # type: ignore[no-untyped-def]
            raise RuntimeError("bug")

    tar = make_tar([Entry("etc/a", b"1")])
    result = analyze_layer(io.BytesIO(tar), diff_id=_sha(tar), catalogers=[Broken(name="broken"), recorder])
    assert result.complete and [w.code for w in result.warnings] == ["cataloger-failed"]
    assert recorder.seen == {"etc/a": b"1"}


_SAMPLE = make_tar([Entry("etc/os-release", b"ID=alpine\n"), Entry("usr/x", b"y" * 3000),
                    Entry("etc/l", kind=tarfile.SYMTYPE, link="../x")])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(_SAMPLE) - 1), st.integers(0, 255)), max_size=8),
       st.integers(0, len(_SAMPLE)))
def test_mutated_tar_never_crashes(flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(_SAMPLE)
    for pos, value in flips:
        data[pos] = value
    recorder = RecordingCataloger()
    result = analyze_layer(io.BytesIO(bytes(data[:cut] if cut else data)), diff_id=_sha(bytes(data)),
                           catalogers=[recorder])
    assert result.complete or result.warnings
    for path in recorder.seen:
        assert normalize(path) == path
