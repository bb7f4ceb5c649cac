from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass, field
from typing import BinaryIO

import pytest

from imagescan.models import PathRecord


@dataclass
class Entry:
    name: str
    data: bytes = b""
    kind: bytes = tarfile.REGTYPE
    link: str = ""
    mode: int = 0o644
    size: int | None = None


def make_tar(entries: list[Entry]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            info = tarfile.TarInfo(e.name)
            info.type = e.kind
            info.mode = e.mode
            info.linkname = e.link
            info.mtime = 0
            if e.kind == tarfile.REGTYPE:
                info.size = len(e.data)
                tar.addfile(info, io.BytesIO(e.data))
            else:
                tar.addfile(info)
    return buf.getvalue()


@dataclass
class RecordingCataloger:
    """A cataloger that records every file it is handed (tests of the walker itself)."""

    name: str = "recorder"
    version: int = 1
    max_file_size: int = 1024
    prefix: str = "etc/"
    seen: dict[str, bytes] = field(default_factory=dict)

    def wants(self, path: str) -> bool:
        return path.startswith(self.prefix)

    def parse(self, path: str, data: BinaryIO, size: int) -> PathRecord | None:
        self.seen[path] = data.read()
        return PathRecord(cataloger=self.name, path=path)


@pytest.fixture
def recorder() -> RecordingCataloger:
    return RecordingCataloger()
