"""Reader of rpm's SQLite database ``rpmdb.sqlite`` (rpm 4.16+: Fedora 33+, RHEL 9, Amazon Linux 2023, ...).

The headers are in ``Packages(hnum INTEGER PRIMARY KEY, blob BLOB)``. The layer's bytes are copied to a private
temporary file and opened read-only and immutable, so SQLite never writes a journal, never looks for a ``-wal``
file beside it and never touches the image. (A write-ahead log that an image ships beside the database is a
separate file of the layer; rpm checkpoints it when it closes the database, so it is empty in practice.)
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import BinaryIO

from imagescan.catalog.base import CatalogError
from imagescan.catalog.rpm.blobs import DbItem, HeaderBlob, SkippedRecord

MAGIC = b"SQLite format 3\x00"
_BATCH = 64


def read_sqlite(data: BinaryIO, size: int) -> Iterator[DbItem]:
    """The records of ``rpmdb.sqlite``; raises CatalogError when SQLite cannot open it or it has no Packages table.

    The returned iterator owns the temporary copy and removes it when it is exhausted or closed.
    """
    del size  # the copy is as long as the stream
    tmp = tempfile.TemporaryDirectory(prefix="imagescan-rpmdb-")
    try:
        db_path = Path(tmp.name) / "rpmdb.sqlite"
        data.seek(0)
        with db_path.open("wb") as out:
            shutil.copyfileobj(data, out, 1024 * 1024)
        conn = _open(db_path)
    except BaseException:
        tmp.cleanup()
        raise
    return _rows(tmp, conn)


def _open(db_path: Path) -> sqlite3.Connection:
    uri = db_path.as_uri() + "?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except (sqlite3.Error, ValueError) as exc:  # ValueError: UnicodeDecodeError from a damaged schema
        raise CatalogError(f"rpm sqlite: {exc}") from exc
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except (sqlite3.Error, ValueError) as exc:  # ValueError: UnicodeDecodeError from a damaged schema
        conn.close()
        raise CatalogError(f"rpm sqlite: {exc}") from exc
    if "Packages" not in tables:
        conn.close()
        raise CatalogError("rpm sqlite: the database has no Packages table")
    return conn


def _rows(tmp: tempfile.TemporaryDirectory[str], conn: sqlite3.Connection) -> Iterator[DbItem]:
    try:
        with closing(conn):
            try:
                cursor = conn.execute("SELECT hnum, blob FROM Packages ORDER BY hnum")
                while rows := cursor.fetchmany(_BATCH):
                    for hnum, blob in rows:
                        yield _item(hnum, blob)
            except (sqlite3.Error, ValueError) as exc:  # ValueError: UnicodeDecodeError from a damaged schema
                yield SkippedRecord("Packages table", f"reading stopped: {exc}")
    finally:
        tmp.cleanup()


def _item(hnum: object, blob: object) -> DbItem:
    if not isinstance(hnum, int):
        return SkippedRecord(f"hnum {hnum!r}", "not an integer")
    if not isinstance(blob, bytes):
        return SkippedRecord(f"hnum {hnum}", f"blob is {type(blob).__name__}, not bytes")
    return HeaderBlob(hnum, blob)
