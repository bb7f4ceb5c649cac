"""Streaming readers: digest verification and decompression (gzip, zstd or none, detected by content).

Nothing here holds more than one read buffer of a blob: layers of any size stream through in constant memory.
"""

from __future__ import annotations

import hashlib
import zlib
from typing import Any, BinaryIO

import pyzstd

from imagescan.errors import DigestMismatch, LayerError

_zlib: Any
try:  # Intel ISA-L inflate: about 2x faster than zlib on layer data; same API.
    from isal import isal_zlib as _zlib
except ImportError:  # pragma: no cover - isal ships wheels for x86_64 and aarch64
    _zlib = zlib

CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _new_hasher(digest: str) -> Any:
    algorithm = digest.split(":", 1)[0]
    if algorithm not in ("sha256", "sha512"):
        raise DigestMismatch(f"unsupported digest algorithm in {digest}")
    return hashlib.new(algorithm)


class VerifyingReader:
    """Reads ``raw`` and checks, at its end, that the bytes hash to ``digest`` (and add up to ``size``)."""

    def __init__(self, raw: BinaryIO, digest: str, size: int | None = None) -> None:
        self._raw = raw
        self.digest = digest
        self._hash = _new_hasher(digest)
        self._size = size
        self.count = 0
        self._done = False

    def read(self, n: int = -1) -> bytes:
        if self._done:
            return b""
        data = self._raw.read(n if n is not None and n >= 0 else CHUNK)
        if data:
            self._hash.update(data)
            self.count += len(data)
            if self._size is not None and self.count > self._size:
                raise DigestMismatch(f"blob {self.digest} is longer than its declared size {self._size}")
            return data
        self._done = True
        self._check()
        return b""

    def _check(self) -> None:
        if self._size is not None and self.count != self._size:
            raise LayerError(f"blob {self.digest} is truncated: {self.count} of {self._size} bytes")
        actual = f"{self.digest.split(':', 1)[0]}:{self._hash.hexdigest()}"
        if actual != self.digest:
            raise DigestMismatch(f"blob content hashes to {actual}, not to its digest {self.digest}")

    def close(self) -> None:
        self._raw.close()


def sniff(head: bytes) -> str:
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "none"


class _Prefixed:
    """``raw`` with some already-read bytes put back in front."""

    def __init__(self, head: bytes, raw: Any) -> None:
        self._head = head
        self._raw = raw

    def read(self, n: int = -1) -> bytes:
        if self._head:
            data, self._head = self._head, b""
            return data
        return bytes(self._raw.read(n if n and n > 0 else CHUNK))


class DecompressingReader:
    """Decompresses a layer stream, whatever its compression, and hashes the output (the layer's diff_id).

    Output is produced at most :data:`CHUNK` bytes at a time, so even a decompression bomb never sits in memory;
    ``max_bytes`` bounds the total uncompressed size: past it :class:`LayerError` is raised. Multi-member gzip
    streams are followed to their end. A compressed stream that stops before its end marker raises
    :class:`LayerError` (truncated).
    """

    def __init__(self, raw: Any, max_bytes: int) -> None:
        self._max = max_bytes
        self.hash = hashlib.sha256()
        self.count = 0
        head = bytes(raw.read(CHUNK))
        self.compression = sniff(head)
        self._src = _Prefixed(head, raw)
        self._eof = False
        self._buf = b""
        self._pos = 0
        self._in = b""
        self._error: LayerError | None = None
        self._dec: Any = None
        self._zstd: Any = None
        if self.compression == "gzip":
            self._dec = _zlib.decompressobj(16 + 15)
        elif self.compression == "zstd":
            self._zstd = pyzstd.EndlessZstdDecompressor()

    @property
    def diff_id(self) -> str:
        return "sha256:" + self.hash.hexdigest()

    def _gzip(self) -> bytes:
        while True:
            if self._dec.eof:
                rest = self._dec.unused_data + self._in
                self._in = b""
                if not rest:
                    rest = self._src.read(CHUNK)
                if rest.strip(b"\0") == b"":  # end, or zero padding after the last member
                    if rest:
                        continue
                    return b""
                self._dec = _zlib.decompressobj(16 + 15)
                self._in = rest
            if not self._in:
                self._in = self._src.read(CHUNK)
                if not self._in:
                    raise LayerError("gzip stream is truncated")
            try:
                out = self._dec.decompress(self._in, CHUNK)
            except (zlib.error, _zlib.error) as exc:
                raise LayerError(f"corrupt gzip data: {exc}") from exc
            self._in = self._dec.unconsumed_tail
            if out:
                return bytes(out)

    def _zstd_out(self) -> bytes:
        while True:
            if self._zstd.needs_input:
                self._in = self._src.read(CHUNK)
                if not self._in:
                    if not self._zstd.at_frame_edge:
                        raise LayerError("zstd stream is truncated")
                    return b""
            else:
                self._in = b""
            try:
                out = self._zstd.decompress(self._in, max_length=CHUNK)
            except pyzstd.ZstdError as exc:
                raise LayerError(f"corrupt zstd data: {exc}") from exc
            if out:
                return bytes(out)

    def _fill(self) -> bytes:
        """The next piece of uncompressed output (at most CHUNK bytes), or b'' at the end of the stream."""
        if self.compression == "none":
            return self._src.read(CHUNK)
        if self.compression == "gzip":
            return self._gzip()
        return self._zstd_out()

    def _next(self) -> bool:
        piece = self._fill()
        if not piece:
            self._eof = True
            return False
        self.count += len(piece)
        if self.count > self._max:
            raise LayerError(
                f"layer expands past {self._max} bytes uncompressed (decompression bomb or over the limit)"
            )
        self.hash.update(piece)
        self._buf, self._pos = piece, 0
        return True

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = CHUNK
        if self._error is not None:
            raise self._error
        end = self._pos + n
        if end <= len(self._buf):  # the usual case (a tar header, a small file): one slice
            part = self._buf[self._pos:end]
            self._pos = end
            return part
        parts: list[bytes] = []
        while n > 0:
            try:
                if self._pos >= len(self._buf) and (self._eof or not self._next()):
                    break
            except LayerError as exc:
                if not parts:
                    raise
                self._error = exc  # hand out what was decoded before the damage first
                break
            part = self._buf[self._pos : self._pos + n]
            self._pos += len(part)
            n -= len(part)
            parts.append(part)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def tell(self) -> int:
        """Bytes handed out (or skipped) so far."""
        return self.count - (len(self._buf) - self._pos)

    def seek(self, offset: int, whence: int = 0) -> int:
        """Forward-only seek: skips without copying. tarfile's random-access mode needs no more than this."""
        position = self.tell()
        target = offset if whence == 0 else position + offset if whence == 1 else -1
        if target < position:
            raise OSError("layer streams can only seek forward")
        left = target - position
        if left <= len(self._buf) - self._pos:  # within the current piece
            self._pos += left
            return target
        while left > 0:
            if self._pos >= len(self._buf) and (self._eof or not self._next()):
                break
            step = min(left, len(self._buf) - self._pos)
            self._pos += step
            left -= step
        return self.tell()

    def drain(self) -> None:
        """Read to the end (trailing tar padding) so that :attr:`diff_id` covers the whole stream."""
        while self._eof is False:
            self._pos = len(self._buf)
            self._next()
