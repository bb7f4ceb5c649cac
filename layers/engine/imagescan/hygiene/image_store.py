"""A small store of the images scanned so far (reference, digest, creation date, layer diff_ids), used to name the
base image of a new scan: any stored image whose layers are a proper prefix of the new image's layers is a base,
and the longest prefix wins.

:class:`ImageStore` is the interface; :class:`SqliteImageStore` keeps it in one SQLite file
(``~/.cache/imagescan/images.db`` by default). The serverless pipeline can back the same interface with DynamoDB:
``with_bottom_layer`` is a query on a key of the bottom diff_id (a GSI), ``with_reference`` one on the reference.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from imagescan.errors import ScanError

SCHEMA = """
CREATE TABLE IF NOT EXISTS image (
  digest     TEXT NOT NULL,
  reference  TEXT NOT NULL,
  created    TEXT,
  os         TEXT,
  bottom     TEXT NOT NULL,
  layers     INTEGER NOT NULL,
  diff_ids   TEXT NOT NULL,
  scanned_at TEXT NOT NULL,
  PRIMARY KEY (digest, reference)
);
CREATE INDEX IF NOT EXISTS image_bottom ON image(bottom);
CREATE INDEX IF NOT EXISTS image_reference ON image(reference);
"""


class ImageStoreError(ScanError):
    """The store could not be opened, read or written."""


@dataclass(frozen=True)
class ImageRecord:
    digest: str
    reference: str
    created: str | None
    """The image config's ``created`` (RFC 3339), as given."""
    diff_ids: tuple[str, ...]
    os: str | None = None
    """``debian-12`` style, when known."""
    scanned_at: str = ""

    @property
    def created_at(self) -> dt.datetime | None:
        return parse_created(self.created)


def parse_created(text: str | None) -> dt.datetime | None:
    """An RFC 3339 timestamp as images carry it (nanoseconds, ``Z``); None when absent, unparsable or a
    placeholder from before 1980 (reproducible builds use the epoch)."""
    if not text:
        return None
    value = text.strip().replace("Z", "+00:00")
    if "." in value:  # Go writes nanoseconds; Python reads up to microseconds
        head, _, tail = value.partition(".")
        digits = "".join(c for c in tail if c.isdigit())
        zone = tail[len(digits):]
        value = f"{head}.{digits[:6].ljust(6, '0')}{zone}" if digits else head + zone
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed if parsed.year >= 1980 else None


@runtime_checkable
class ImageStore(Protocol):
    def put(self, record: ImageRecord) -> None: ...

    def with_bottom_layer(self, diff_id: str) -> list[ImageRecord]:
        """Every stored image whose first layer is ``diff_id``."""
        ...

    def with_reference(self, reference: str) -> list[ImageRecord]: ...


def longest_prefix(candidates: Sequence[ImageRecord], diff_ids: Sequence[str], digest: str) -> ImageRecord | None:
    """The stored image whose layers are the longest proper prefix of ``diff_ids`` (not the image itself); among
    equals, the most recently created, then the first reference in sort order."""
    ids = tuple(diff_ids)
    eligible = sorted(
        (r for r in candidates
         if r.digest != digest and 0 < len(r.diff_ids) < len(ids) and ids[: len(r.diff_ids)] == r.diff_ids),
        key=lambda r: (r.reference, r.digest),
    )

    def rank(r: ImageRecord) -> tuple[int, float]:
        created = r.created_at
        return len(r.diff_ids), created.timestamp() if created else 0.0

    return max(eligible, key=rank, default=None)


class SqliteImageStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10)
            conn.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ImageStoreError(f"image store {self.path}: {exc}") from exc
        return conn

    def put(self, record: ImageRecord) -> None:
        if not record.diff_ids:
            return
        scanned = record.scanned_at or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        conn = self._connect()
        try:
            with conn:
                conn.execute(
                    "INSERT OR REPLACE INTO image (digest, reference, created, os, bottom, layers, diff_ids,"
                    " scanned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (record.digest, record.reference, record.created, record.os, record.diff_ids[0],
                     len(record.diff_ids), json.dumps(list(record.diff_ids)), scanned),
                )
        except sqlite3.Error as exc:
            raise ImageStoreError(f"image store {self.path}: {exc}") from exc
        finally:
            conn.close()

    def _select(self, where: str, value: str) -> list[ImageRecord]:
        conn = self._connect()
        try:
            rows = conn.execute(
                f"SELECT digest, reference, created, os, diff_ids, scanned_at FROM image WHERE {where} = ?"
                " ORDER BY reference, digest", (value,)).fetchall()
        except sqlite3.Error as exc:
            raise ImageStoreError(f"image store {self.path}: {exc}") from exc
        finally:
            conn.close()
        out = []
        for digest, reference, created, os_name, diff_ids, scanned_at in rows:
            try:
                ids = json.loads(diff_ids)
            except ValueError:
                continue
            if isinstance(ids, list) and all(isinstance(i, str) for i in ids):
                out.append(ImageRecord(digest, reference, created, tuple(ids), os_name, scanned_at))
        return out

    def with_bottom_layer(self, diff_id: str) -> list[ImageRecord]:
        return self._select("bottom", diff_id)

    def with_reference(self, reference: str) -> list[ImageRecord]:
        return self._select("reference", reference)
