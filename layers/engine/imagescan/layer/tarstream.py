"""A forward-only reader of tar headers for the layer walker: ustar, GNU (long names, old sparse) and PAX.

Python's :mod:`tarfile` builds a full ``TarInfo`` per entry and parses every header field; the walker needs only
name, type, mode, owner, size and link target, for every entry of every layer. This reader parses just those, in
the same way as ``tarfile`` (same name reconstruction, same checksum rule, same data sizes), and is checked against
it entry by entry on real layers (tests/layer/test_tarstream.py). Malformed input raises :class:`TarFormatError`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from imagescan.errors import LayerError

BLOCK = 512
_DATA_TYPES = frozenset(b"07S") | {0}
"""Types whose size counts data blocks: regular, contiguous, old GNU sparse, and ``\\0`` (old regular)."""
_KNOWN_TYPES = frozenset(b"01234567LKSxg") | {0}
_GNU_TYPES = frozenset(b"LKS")
_SIGNED = struct.Struct("148b8x356b")
_FIELDS = struct.Struct("100s8s8s8s12s20xB100s88x155s")
"""name, mode, uid, gid, size, typeflag, linkname, prefix (ustar offsets 0, 100, 108, 116, 124, 156, 157, 345)."""


class TarFormatError(LayerError):
    """The layer is not a well-formed tar stream."""


@dataclass(slots=True)
class TarHeader:
    name: str
    type: int
    """The typeflag byte: ``ord("0")`` regular, ``ord("5")`` directory, ``ord("2")`` symlink, ..."""
    mode: int
    uid: int
    gid: int
    size: int
    """The file's size (for sparse files, their full logical size)."""
    linkname: str
    data_size: int
    """Bytes of data stored after the header."""
    sparse: bool = False


def _number(field: bytes) -> int:
    if field and field[0] & 0x80:  # GNU base-256
        value = int.from_bytes(field[1:], "big")
        return value - (1 << (8 * (len(field) - 1))) if field[0] == 0xFF else value
    try:  # the usual form, "0000644\0": one call instead of a split and a strip
        return int(field.rstrip(b"\0"), 8)
    except ValueError:
        pass
    text = field.split(b"\0", 1)[0].strip(b" ")
    try:
        return int(text, 8) if text else 0
    except ValueError as exc:
        raise TarFormatError(f"invalid number {field!r} in a tar header") from exc


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _pax_records(data: bytes) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data) and data[pos] != 0:
        space = data.find(b" ", pos)
        if space < 0:
            raise TarFormatError("malformed PAX header")
        try:
            length = int(data[pos:space])
        except ValueError as exc:
            raise TarFormatError("malformed PAX header length") from exc
        end = pos + length
        if length <= 0 or end > len(data) or data[end - 1:end] != b"\n":
            raise TarFormatError("malformed PAX header record")
        key, sep, value = data[space + 1:end - 1].partition(b"=")
        if not sep:
            raise TarFormatError("malformed PAX header record")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos = end
    return records


class TarStream:
    """Iterate the headers of a tar stream read from ``reader`` (``read(n)`` and forward ``seek``/``tell``).

    While a header is current, :meth:`read` returns its data; moving to the next header skips what was not read.
    """

    def __init__(self, reader: Any) -> None:
        self._r = reader
        self._next = 0  # offset of the next header
        self._left = 0  # data bytes of the current entry not read yet
        self._global: dict[str, str] = {}

    def _block(self, n: int) -> bytes:
        data = self._r.read(n)
        while len(data) < n:
            more = self._r.read(n - len(data))
            if not more:
                break
            data += more
        return bytes(data)

    def _data(self, size: int) -> bytes:
        data = self._block(size)
        if len(data) < size:
            raise TarFormatError("unexpected end of data in a tar entry")
        self._r.seek(self._r.tell() + (-size) % BLOCK)
        return data

    def read(self, n: int) -> bytes:
        if self._left <= 0:
            return b""
        data = self._r.read(min(n, self._left))
        self._left -= len(data)
        if not data:
            raise TarFormatError("unexpected end of data in a tar entry")
        return bytes(data)

    def _header(self) -> bytes | None:
        self._r.seek(self._next)
        buf = self._block(BLOCK)
        if not buf:
            return None
        if len(buf) < BLOCK:
            raise TarFormatError("truncated tar header")
        if buf.count(0) == BLOCK:
            return None
        chksum = _number(buf[148:156])
        if chksum != sum(buf) - sum(buf[148:156]) + 256 and chksum != sum(_SIGNED.unpack(buf)) + 256:
            raise TarFormatError("bad checksum in a tar header")
        return buf

    def __iter__(self) -> Iterator[TarHeader]:
        first = True
        while True:
            buf = self._header()
            if buf is None:
                if first and self._r.tell() == 0:
                    raise TarFormatError("empty layer: no tar data")
                return
            first = False
            pax = dict(self._global)
            long_name = long_link = None
            while buf[156] in b"LKxg":
                kind, size = buf[156], _number(buf[124:136])
                if size < 0 or size > 64 * 1024 * 1024:
                    raise TarFormatError("unreasonable size of a tar extension header")
                data = self._data(size)
                if kind == ord("L"):
                    long_name = _text(data)
                elif kind == ord("K"):
                    long_link = _text(data)
                elif kind == ord("x"):
                    pax.update(_pax_records(data))
                else:
                    self._global.update(_pax_records(data))
                    pax.update(self._global)
                self._next = self._r.tell()
                buf = self._header()  # type: ignore[assignment]
                if buf is None:
                    raise TarFormatError("tar extension header without an entry")
            yield self._entry(buf, pax, long_name, long_link)

    def _entry(self, buf: bytes, pax: dict[str, str], long_name: str | None, long_link: str | None) -> TarHeader:
        raw_name, raw_mode, raw_uid, raw_gid, raw_size, kind, raw_link, raw_prefix = _FIELDS.unpack_from(buf)
        name = _text(raw_name)
        size = _number(raw_size)
        if size < 0:
            raise TarFormatError("negative size in a tar header")
        if kind == 0 and name.endswith("/"):
            kind = ord("5")
        if raw_prefix[0] and kind not in _GNU_TYPES:
            name = f"{_text(raw_prefix)}/{name}"
        header = TarHeader(name=long_name if long_name is not None else name, type=kind,
                           mode=_number(raw_mode), uid=_number(raw_uid), gid=_number(raw_gid),
                           size=size, linkname=long_link if long_link is not None else _text(raw_link),
                           data_size=size if kind in _DATA_TYPES or kind not in _KNOWN_TYPES else 0)
        data_start = self._r.tell()
        if kind == ord("S"):  # old GNU sparse: logical size after the map, map extensions after the header
            header.sparse, header.size = True, _number(buf[483:495])
            extended = buf[482]
            while extended:
                ext = self._block(BLOCK)
                if len(ext) < BLOCK:
                    raise TarFormatError("truncated GNU sparse header")
                extended = ext[504]
            data_start = self._r.tell()
        self._apply_pax(header, pax)
        if kind == ord("5"):  # long and PAX names of directories end in a slash too
            header.name = header.name.rstrip("/")
        self._left = header.data_size
        self._next = data_start + header.data_size + (-header.data_size) % BLOCK
        return header

    @staticmethod
    def _apply_pax(header: TarHeader, pax: dict[str, str]) -> None:
        if not pax:
            return
        try:
            if "path" in pax:
                header.name = pax["path"]
            if "linkpath" in pax:
                header.linkname = pax["linkpath"]
            for key in ("uid", "gid"):
                if key in pax:
                    setattr(header, key, int(pax[key]))
            if "size" in pax:
                header.size = int(pax["size"])
                if header.data_size or header.type in _DATA_TYPES or header.type not in _KNOWN_TYPES:
                    header.data_size = header.size
            if "GNU.sparse.name" in pax:
                header.name = pax["GNU.sparse.name"]
            real = pax.get("GNU.sparse.realsize") or pax.get("GNU.sparse.size")
            if real is not None:
                header.sparse, header.size = True, int(real)
        except ValueError as exc:
            raise TarFormatError("malformed PAX value") from exc
        if header.size < 0 or header.data_size < 0:
            raise TarFormatError("negative size in a PAX header")
