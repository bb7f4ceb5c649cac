from __future__ import annotations

import contextlib
import gzip
import hashlib
import io

import pytest
import pyzstd
from hypothesis import given, settings
from hypothesis import strategies as st

from imagescan.errors import DigestMismatch, LayerError
from imagescan.layer.streams import DecompressingReader, VerifyingReader

DATA = b"layer bytes " * 50_000


def _read_all(reader: DecompressingReader, n: int = 7000) -> bytes:
    out = []
    while chunk := reader.read(n):
        out.append(chunk)
    return b"".join(out)


@pytest.mark.parametrize(
    ("blob", "kind"),
    [
        (gzip.compress(DATA), "gzip"),
        (pyzstd.compress(DATA), "zstd"),
        (DATA, "none"),
        (gzip.compress(DATA[:1000]) + gzip.compress(DATA[1000:]), "gzip"),
        (pyzstd.compress(DATA[:1000]) + pyzstd.compress(DATA[1000:]), "zstd"),
    ],
    ids=["gzip", "zstd", "plain", "gzip-multimember", "zstd-multiframe"],
)
def test_decompresses_by_content_and_hashes_output(blob: bytes, kind: str) -> None:
    reader = DecompressingReader(io.BytesIO(blob), max_bytes=10**9)
    assert reader.compression == kind
    assert _read_all(reader) == DATA
    assert reader.diff_id == "sha256:" + hashlib.sha256(DATA).hexdigest()


@pytest.mark.parametrize("blob", [gzip.compress(DATA)[:-30], pyzstd.compress(DATA)[:-30]], ids=["gzip", "zstd"])
def test_truncated_stream_is_an_error(blob: bytes) -> None:
    reader = DecompressingReader(io.BytesIO(blob), max_bytes=10**9)
    with pytest.raises(LayerError, match="truncated"):
        reader.drain()


@pytest.mark.parametrize("blob", [b"\x1f\x8b" + b"garbage" * 100, b"\x28\xb5\x2f\xfd" + b"xx" * 100])
def test_corrupt_stream_is_an_error(blob: bytes) -> None:
    with pytest.raises(LayerError, match="corrupt"):
        DecompressingReader(io.BytesIO(blob), max_bytes=10**9).drain()


@pytest.mark.parametrize("compress", [gzip.compress, pyzstd.compress], ids=["gzip", "zstd"])
def test_decompression_bomb_stops_at_the_limit_with_bounded_output(compress: object) -> None:
    bomb = compress(b"\0" * 64_000_000)  # type: ignore[operator]
    assert len(bomb) < 200_000
    reader = DecompressingReader(io.BytesIO(bomb), max_bytes=8_000_000)
    with pytest.raises(LayerError, match="decompression bomb"):
        while piece := reader.read(1 << 20):
            assert len(piece) <= 1 << 20


def test_verifying_reader_accepts_the_right_digest() -> None:
    digest = "sha256:" + hashlib.sha256(DATA).hexdigest()
    reader = VerifyingReader(io.BytesIO(DATA), digest, len(DATA))
    while reader.read(4096):
        pass
    assert reader.count == len(DATA)


def test_verifying_reader_rejects_other_content() -> None:
    digest = "sha256:" + hashlib.sha256(b"something else").hexdigest()
    reader = VerifyingReader(io.BytesIO(DATA), digest)
    with pytest.raises(DigestMismatch):
        while reader.read(4096):
            pass


def test_verifying_reader_detects_short_body() -> None:
    digest = "sha256:" + hashlib.sha256(DATA).hexdigest()
    reader = VerifyingReader(io.BytesIO(DATA[:-10]), digest, len(DATA))
    with pytest.raises(LayerError, match="truncated"):
        while reader.read(4096):
            pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096), st.sampled_from([b"", b"\x1f\x8b\x08", b"\x28\xb5\x2f\xfd"]))
def test_arbitrary_input_never_raises_anything_but_layer_error(body: bytes, magic: bytes) -> None:
    reader = DecompressingReader(io.BytesIO(magic + body), max_bytes=1 << 20)
    with contextlib.suppress(LayerError):
        reader.drain()
