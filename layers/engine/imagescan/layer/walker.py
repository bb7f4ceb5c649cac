"""One streaming pass over one layer: index every entry, note whiteouts, hand the wanted files to catalogers.

The layer is never held whole, in memory or on disk: entries stream past once; only files some cataloger wants
are captured, each up to that cataloger's size cap (small ones in memory, larger ones spilled to a temp file that
is deleted right after parsing). Any failure of the stream (corrupt or truncated data, a decompression bomb, a
digest mismatch) ends the walk with a recorded warning and ``complete=False``; what was read before it is kept
unless the bytes are proven untrusted (digest mismatch).
"""

from __future__ import annotations

import posixpath
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from imagescan.catalog.base import Cataloger, CatalogError
from imagescan.errors import DigestMismatch, LayerError
from imagescan.layer.cachekey import layer_cache_key
from imagescan.layer.streams import CHUNK, DecompressingReader, VerifyingReader
from imagescan.layer.tarstream import TarHeader, TarStream
from imagescan.models import EntryType, LayerResult, PathRecord, ScanWarning

WALKER_VERSION = 1
WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
SPOOL_IN_MEMORY = 8 * 1024 * 1024

_TYPES: dict[int, str] = {
    ord("0"): EntryType.FILE.value, 0: EntryType.FILE.value, ord("7"): EntryType.FILE.value,
    ord("S"): EntryType.FILE.value, ord("5"): EntryType.DIR.value, ord("2"): EntryType.SYMLINK.value,
    ord("1"): EntryType.HARDLINK.value, ord("3"): EntryType.CHAR.value, ord("4"): EntryType.BLOCK.value,
    ord("6"): EntryType.FIFO.value,
}
_FILE, _SYMLINK, _HARDLINK, _OTHER = (EntryType.FILE.value, EntryType.SYMLINK.value, EntryType.HARDLINK.value,
                                      EntryType.OTHER.value)


@dataclass(frozen=True)
class Limits:
    max_layer_bytes: int = 64 * 1024**3
    """Uncompressed bytes after which a layer is abandoned (decompression bombs)."""


def analyzer_versions(catalogers: Sequence[Cataloger]) -> dict[str, int]:
    versions = {c.name: c.version for c in catalogers}
    versions["walker"] = WALKER_VERSION
    return versions


def cache_key_for(diff_id: str, catalogers: Sequence[Cataloger]) -> str:
    """The cache key :func:`analyze_layer` gives the result of this layer with these catalogers, known before any
    byte is read (the AWS pipeline looks the result up in S3 with it)."""
    options = {"max_file_size": {c.name: c.max_file_size for c in catalogers}}
    return layer_cache_key(diff_id, analyzer_versions(catalogers), options)


def normalize(name: str) -> str | None:
    """The image path of a tar member name, without leading slash; None when it escapes the root."""
    plain = (name[2:] if name.startswith("./") else name).lstrip("/")
    if "\\" not in plain and "//" not in plain and "/." not in plain and not plain.startswith("."):
        return plain.rstrip("/")  # the usual name, "usr/bin/env": already normal
    return normalize_any(name)


def normalize_any(name: str) -> str | None:
    """:func:`normalize` for any name (dot components, backslashes, repeated slashes)."""
    path = posixpath.normpath("/" + name.replace("\\", "/").lstrip("/"))
    if ".." in name.replace("\\", "/").split("/"):
        # normpath of "/a/../../etc" is "/etc": a member that tries to climb is suspicious in any case.
        return None
    return "" if path == "/" else path.lstrip("/")


def _selector(cataloger: Cataloger) -> Callable[[str, int], bool]:
    """The optional ``wants_mode(path, mode)`` when a cataloger has one (binary catalogers pick files by their
    execute bits), else ``wants(path)``; looked up once per layer, called once per file."""
    by_mode = getattr(cataloger, "wants_mode", None)
    if by_mode is not None:
        return by_mode  # type: ignore[no-any-return]
    return lambda path, _mode: cataloger.wants(path)


class _Walk:
    def __init__(self, catalogers: Sequence[Cataloger], diff_id: str) -> None:
        self.catalogers = catalogers
        self.selectors = [(c, _selector(c)) for c in catalogers]
        self.diff_id = diff_id
        self.entries: list[list[str | int | None]] = []
        self.whiteouts: list[str] = []
        self.opaque: list[str] = []
        self.records: list[PathRecord] = []
        self.warnings: list[ScanWarning] = []
        self.oversize: dict[str, int] = {}

    def warn(self, code: str, message: str, path: str | None = None) -> None:
        self.warnings.append(ScanWarning(code=code, message=message, layer_diff_id=self.diff_id, path=path))

    def member(self, tar: TarStream, info: TarHeader) -> None:
        path = normalize(info.name)
        if path is None:
            self.warn("unsafe-path", f"tar entry {info.name!r} escapes the image root; ignored", info.name)
            return
        if not path:
            return
        directory, _, base = path.rpartition("/")
        if base.startswith(WHITEOUT_PREFIX):
            if base == OPAQUE_MARKER:
                self.opaque.append(directory)
            else:
                self.whiteouts.append(posixpath.join(directory, base[len(WHITEOUT_PREFIX):]))
            return
        kind = _TYPES.get(info.type, _OTHER)
        link: str | None = None
        if kind == _SYMLINK:
            link = info.linkname
        elif kind == _HARDLINK:
            link = normalize(info.linkname)
        # The row layout of FileEntry.to_row(), built directly: this runs for every entry of every layer.
        self.entries.append([path, kind, info.mode, info.uid, info.gid, info.size if kind == _FILE else 0, link])
        if kind == _FILE:
            wanting = [c for c, wants in self.selectors if wants(path, info.mode)]
            if wanting:
                self.capture(tar, info, path, wanting)

    def capture(self, tar: TarStream, info: TarHeader, path: str, wanting: list[Cataloger]) -> None:
        # A sparse file's holes are not stored: what a cataloger would read is not the file; it counts as unread.
        readers = [] if info.sparse else [c for c in wanting if info.size <= c.max_file_size]
        for c in wanting:
            if c not in readers:
                self.oversize[c.name] = self.oversize.get(c.name, 0) + 1
                if getattr(c, "warn_oversize", True):
                    what = "a sparse file" if info.sparse else f"{info.size} bytes, over the {c.name} cataloger's cap"
                    self.warn("file-too-large", f"{path} is {what}; not read", path)
        if not readers:
            return
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            while chunk := tar.read(CHUNK):
                spool.write(chunk)
            for c in readers:
                spool.seek(0)
                try:
                    record = c.parse(path, spool, info.size)  # type: ignore[arg-type]
                except CatalogError as exc:
                    self.warn("malformed-file", f"{c.name}: {path}: {exc}", path)
                    continue
                except Exception as exc:  # a cataloger bug must not lose the rest of the layer
                    self.warn("cataloger-failed", f"{c.name} failed on {path}: {type(exc).__name__}: {exc}", path)
                    continue
                if record is not None:
                    for note in record.notes:
                        self.warn("malformed-record", f"{c.name}: {path}: {note}", path)
                    self.records.append(record)


def analyze_layer(
    raw: BinaryIO | Any,
    *,
    diff_id: str,
    catalogers: Sequence[Cataloger],
    digest: str | None = None,
    size: int | None = None,
    limits: Limits = Limits(),
) -> LayerResult:
    """Walk one layer blob. ``digest``/``size`` verify the compressed bytes; ``diff_id`` the uncompressed tar."""
    walk = _Walk(catalogers, diff_id)
    source: Any = VerifyingReader(raw, digest, size) if digest else raw
    complete = True
    untrusted = False
    counted = 0
    try:
        reader = DecompressingReader(source, limits.max_layer_bytes)
        try:
            tar = TarStream(reader)  # skips file data without copying it
            for info in tar:
                walk.member(tar, info)
            reader.drain()
        finally:
            counted = reader.count
        if reader.diff_id != diff_id:
            untrusted = True
            walk.warn("digest-mismatch",
                      f"layer content hashes to {reader.diff_id}, but the image config lists {diff_id}")
    except DigestMismatch as exc:
        untrusted = True
        walk.warn("digest-mismatch", str(exc))
    except LayerError as exc:
        complete = False
        walk.warn("layer-unreadable", f"layer {digest or diff_id}: {exc}; results cover the part read before")
    except (EOFError, OSError, ValueError) as exc:
        complete = False
        walk.warn("layer-unreadable",
                  f"layer {digest or diff_id} is not a valid tar stream ({type(exc).__name__}: {exc}); "
                  "results cover the part read before")
    if untrusted:
        complete = False
        walk.entries, walk.records, walk.whiteouts, walk.opaque = [], [], [], []
    analyzers = analyzer_versions(catalogers)
    return LayerResult(
        digest=digest or diff_id,
        diff_id=diff_id,
        cache_key=cache_key_for(diff_id, catalogers),
        analyzers=analyzers,
        size=size or 0,
        uncompressed_size=counted,
        entries=walk.entries,
        whiteouts=walk.whiteouts,
        opaque_dirs=walk.opaque,
        records=walk.records,
        warnings=walk.warnings,
        oversize=walk.oversize,
        complete=complete,
    )
