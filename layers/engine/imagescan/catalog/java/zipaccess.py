"""Bounded, streaming access to (nested) zip archives with :mod:`zipfile`.

Nothing is extracted to disk and no nested archive is read whole into memory: a STORED member is read in place
through :class:`FileSlice` (a window on the outer file); a compressed one is inflated into a spooled temporary file
(memory up to :data:`SPOOL_IN_MEMORY`, then disk). Every cost an archive can force is capped by :class:`Limits`,
shared by one top-level file and all archives nested in it through :class:`Budget`:

- the central directory (parsed into memory by zipfile) of every archive open at the same time;
- bytes inflated (nested archives and metadata files, by their declared size, before inflating);
- the number of archives opened; the nesting depth (the caller checks it);
- overlapping entries (two entries sharing compressed bytes: the "quoted overlap" zip bomb) make an archive invalid.

Every failure is an :class:`ArchiveError` with a message; the caller decides whether it voids the whole file or only
the nested archive.
"""

from __future__ import annotations

import hashlib
import io
import lzma
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO, cast

MiB = 1024 * 1024
CHUNK = MiB
SPOOL_IN_MEMORY = 8 * MiB
_EOCD = struct.Struct("<4s4H2LH")
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_LOCAL_HEADER_SIZE = 30
_READ_ERRORS = (
    zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, NotImplementedError, RuntimeError,
    ValueError, struct.error, OverflowError,
)  # fmt: skip
"""What zipfile and the decompressors raise on damaged or unsupported data."""


class ArchiveError(Exception):
    """This archive (or member) cannot be read within the limits."""


@dataclass(frozen=True)
class Limits:
    max_depth: int = 4
    """Archives nested deeper than this (the file the walker gives is depth 0) are not opened."""
    max_nested_size: int = 256 * MiB
    """A compressed nested archive whose declared size is larger is not inflated."""
    max_inflated: int = 1024 * MiB
    """Bytes inflated in total for one top-level file (nested archives and metadata files)."""
    max_archives: int = 10_000
    """Archives opened in total for one top-level file."""
    max_central_directory: int = 32 * MiB
    """Central-directory bytes of all the archives open at the same time (zipfile holds one object per entry)."""
    max_metadata_size: int = MiB
    """A MANIFEST.MF or pom.properties larger than this is not read."""


class Budget:
    """What one top-level file may still spend."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.inflated = 0
        self.archives = 0
        self.central_directory = 0

    def inflate(self, size: int) -> None:
        if self.inflated + size > self.limits.max_inflated:
            raise ArchiveError(f"inflating {size} more bytes would pass the cap of {self.limits.max_inflated} bytes "
                               "inflated per file")
        self.inflated += size

    @contextmanager
    def open_archive(self, central_directory: int) -> Iterator[None]:
        if self.archives >= self.limits.max_archives:
            raise ArchiveError(f"over the cap of {self.limits.max_archives} archives per file")
        if self.central_directory + central_directory > self.limits.max_central_directory:
            raise ArchiveError(f"central directory of {central_directory} bytes passes the cap of "
                               f"{self.limits.max_central_directory} bytes for archives open at once")
        self.archives += 1
        self.central_directory += central_directory
        try:
            yield
        finally:
            self.central_directory -= central_directory


class FileSlice(io.RawIOBase):
    """A read-only, seekable window ``[start, start + length)`` on a seekable file. It seeks the underlying file
    before every read, so it can share that file with the zipfile that owns it (which does the same)."""

    def __init__(self, raw: BinaryIO, start: int, length: int) -> None:
        super().__init__()
        self._raw = raw
        self._start = start
        self._length = length
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            base = 0
        elif whence == io.SEEK_CUR:
            base = self._pos
        elif whence == io.SEEK_END:
            base = self._length
        else:
            raise ValueError(f"invalid whence {whence}")
        if base + offset < 0:
            raise OSError("negative seek position")
        self._pos = base + offset
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        remaining = max(0, self._length - self._pos)
        count = remaining if size is None or size < 0 else min(size, remaining)
        if count == 0:
            return b""
        self._raw.seek(self._start + self._pos)
        data = self._raw.read(count)
        self._pos += len(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _central_directory_size(fp: BinaryIO, size: int) -> int:
    """The central directory's size from the end record (zip64 aware); ArchiveError when there is none."""
    tail_length = min(size, _EOCD.size + 0xFFFF)
    fp.seek(size - tail_length)
    tail = fp.read(tail_length)
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or len(tail) - pos < _EOCD.size:
        raise ArchiveError("no end of central directory record: not a zip archive")
    cd_size = _EOCD.unpack_from(tail, pos)[5]
    locator_at = size - tail_length + pos - _EOCD64_LOCATOR.size
    if cd_size == 0xFFFFFFFF and locator_at >= 0:
        fp.seek(locator_at)
        locator = fp.read(_EOCD64_LOCATOR.size)
        if len(locator) == _EOCD64_LOCATOR.size and locator[:4] == b"PK\x06\x07":
            fp.seek(_EOCD64_LOCATOR.unpack(locator)[2])
            record = fp.read(_EOCD64.size)
            if len(record) == _EOCD64.size and record[:4] == b"PK\x06\x06":
                cd_size = _EOCD64.unpack(record)[8]
    return int(cd_size)


def _name_length(info: zipfile.ZipInfo) -> int:
    try:
        return len(info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437"))
    except UnicodeEncodeError:
        return len(info.orig_filename)


def _check_overlaps(infos: list[zipfile.ZipInfo], size: int) -> None:
    ordered = sorted(infos, key=lambda i: i.header_offset)
    followers: list[zipfile.ZipInfo | None] = [*ordered[1:], None]
    for current, following in zip(ordered, followers, strict=False):
        if current.header_offset < 0:
            raise ArchiveError(f"entry {current.filename!r} has a negative offset")
        end = current.header_offset + _LOCAL_HEADER_SIZE + _name_length(current) + current.compress_size
        limit = following.header_offset if following is not None else size
        if end > limit:
            what = f"overlaps entry {following.filename!r}" if following is not None else "runs past the end"
            raise ArchiveError(f"entry {current.filename!r} {what}: overlapping or truncated entries")


@contextmanager
def open_zip(fp: BinaryIO, size: int, budget: Budget) -> Iterator[zipfile.ZipFile]:
    """A zipfile over ``fp`` (``size`` bytes) once its central directory fits the budget and no entries overlap."""
    try:
        cd_size = _central_directory_size(fp, size)
    except _READ_ERRORS as exc:
        raise ArchiveError(f"not a readable zip archive ({type(exc).__name__}: {exc})") from exc
    with budget.open_archive(cd_size):
        try:
            fp.seek(0)
            archive = zipfile.ZipFile(fp)
        except _READ_ERRORS as exc:
            raise ArchiveError(f"not a readable zip archive ({type(exc).__name__}: {exc})") from exc
        with archive:
            _check_overlaps(archive.infolist(), size)
            yield archive


def _check_member(info: zipfile.ZipInfo) -> None:
    if info.flag_bits & 0x1:
        raise ArchiveError("encrypted")


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget) -> bytes:
    """A small member (MANIFEST.MF, pom.properties) whole, within the metadata cap."""
    _check_member(info)
    cap = budget.limits.max_metadata_size
    if info.file_size > cap:
        raise ArchiveError(f"{info.file_size} bytes, over the cap of {cap}; not read")
    budget.inflate(info.file_size)
    try:
        with archive.open(info) as member:
            return member.read(cap + 1)[:cap]
    except _READ_ERRORS as exc:
        raise ArchiveError(f"unreadable ({type(exc).__name__}: {exc})") from exc


def _data_offset(fp: BinaryIO, size: int, info: zipfile.ZipInfo) -> int:
    fp.seek(info.header_offset)
    header = fp.read(_LOCAL_HEADER_SIZE)
    if len(header) != _LOCAL_HEADER_SIZE or header[:4] != b"PK\x03\x04":
        raise ArchiveError("bad local file header")
    fields = _LOCAL_HEADER.unpack(header)
    start = int(info.header_offset) + _LOCAL_HEADER_SIZE + int(fields[9]) + int(fields[10])
    if start + info.compress_size > size:
        raise ArchiveError("data runs past the end of the archive")
    return start


def _sha1_of(fp: BinaryIO) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    fp.seek(0)
    while chunk := fp.read(CHUNK):
        digest.update(chunk)
    fp.seek(0)
    return digest.hexdigest()


def sha1_file(fp: BinaryIO) -> str:
    """SHA-1 of a whole seekable file, read in chunks; leaves it at offset 0."""
    return _sha1_of(fp)


@contextmanager
def open_member_file(
    archive: zipfile.ZipFile, fp: BinaryIO, size: int, info: zipfile.ZipInfo, budget: Budget,
) -> Iterator[tuple[BinaryIO, int, str]]:
    """A nested archive as a seekable file: ``(file, size, sha1 of its bytes)``. ``fp``/``size`` are the file the
    zipfile ``archive`` reads. STORED members are read in place; compressed ones are inflated into a spool."""
    _check_member(info)
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size != info.compress_size:
            raise ArchiveError("stored entry with different compressed and uncompressed sizes")
        try:
            window = cast(BinaryIO, FileSlice(fp, _data_offset(fp, size, info), info.compress_size))
            sha1 = _sha1_of(window)
        except _READ_ERRORS as exc:
            raise ArchiveError(f"unreadable ({type(exc).__name__}: {exc})") from exc
        yield window, info.compress_size, sha1
        return
    cap = budget.limits.max_nested_size
    if info.file_size > cap:
        raise ArchiveError(f"nested archive of {info.file_size} bytes is over the cap of {cap}; not read")
    budget.inflate(info.file_size)
    digest = hashlib.sha1(usedforsecurity=False)
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        try:
            with archive.open(info) as member:
                while chunk := member.read(CHUNK):
                    digest.update(chunk)
                    spool.write(chunk)
        except _READ_ERRORS as exc:
            raise ArchiveError(f"unreadable ({type(exc).__name__}: {exc})") from exc
        total = spool.tell()
        spool.seek(0)
        yield cast(BinaryIO, spool), total, digest.hexdigest()
