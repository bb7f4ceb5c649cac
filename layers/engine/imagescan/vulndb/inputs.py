"""Reading feed files safely: size caps, gzip with truncation and bomb guards, zip members, JSON parsing.
Every failure becomes :class:`FeedError` with the file named; nothing else escapes."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from imagescan.vulndb.errors import FeedError

MAX_FILE = 1024 * 1024 * 1024
"""Largest feed (after decompression) read into memory: the Debian tracker dump is ~70 MiB, OSV all.zip members
are small."""
MAX_MEMBER = 64 * 1024 * 1024
HEAD = 64 * 1024
_CHUNK = 1024 * 1024


def read_head(path: Path, size: int = HEAD) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(size)
    except OSError as exc:
        raise FeedError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def read_all(path: Path, limit: int = MAX_FILE) -> bytes:
    try:
        with path.open("rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise FeedError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise FeedError(f"{path}: larger than {limit} bytes")
    return data


def gunzip(data: bytes, what: str, limit: int = MAX_FILE) -> bytes:
    """Decompress a (possibly multi-member) gzip stream, refusing truncated, corrupt or oversized data."""
    out = bytearray()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            while chunk := stream.read(_CHUNK):
                out += chunk
                if len(out) > limit:
                    raise FeedError(f"{what}: decompresses to more than {limit} bytes")
    except (OSError, EOFError, zlib.error) as exc:
        raise FeedError(f"{what}: corrupt or truncated gzip: {exc}") from exc
    return bytes(out)


def parse_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except RecursionError as exc:
        raise FeedError(f"{what}: JSON nested too deeply") from exc
    except ValueError as exc:
        raise FeedError(f"{what}: not valid JSON: {exc}") from exc


def zip_json_members(path: Path) -> list[zipfile.ZipInfo]:
    """The ``.json`` members of a zip, sorted by name (directories and macOS resource forks left out)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise FeedError(f"{path}: not a readable zip: {exc}") from exc
    members = [
        info for info in infos
        if not info.is_dir() and info.filename.lower().endswith(".json") and "__MACOSX/" not in info.filename
    ]
    return sorted(members, key=lambda info: info.filename)


def iter_zip_members(path: Path, members: list[zipfile.ZipInfo]) -> Iterator[tuple[str, bytes | FeedError]]:
    """(member name, its bytes) for each member, or (name, the error) when that member cannot be read."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise FeedError(f"{path}: not a readable zip: {exc}") from exc
    with zf:
        for info in members:
            what = f"{path.name}:{info.filename}"
            if info.file_size > MAX_MEMBER:
                yield info.filename, FeedError(f"{what}: member larger than {MAX_MEMBER} bytes")
                continue
            try:
                with zf.open(info) as member:
                    data = member.read(MAX_MEMBER + 1)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError,
                    ValueError) as exc:
                yield info.filename, FeedError(f"{what}: unreadable member: {exc}")
                continue
            if len(data) > MAX_MEMBER:
                yield info.filename, FeedError(f"{what}: member larger than {MAX_MEMBER} bytes")
                continue
            yield info.filename, data
