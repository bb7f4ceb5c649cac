"""``imagescan db build``: one SQLite file from local feed files, each recognised by its content.

Inputs are files or directories (walked recursively in name order, hidden entries skipped). In a directory, files
that are not feeds are listed in :attr:`BuildReport.ignored_files`; single-record OSV files of one directory form
one source. A damaged or refused file is listed in :attr:`BuildReport.errors` and contributes nothing, while all
other files are still built. The database is written to a temporary file beside ``out`` and renamed into place,
so ``out`` is never half-written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from imagescan.vulndb.errors import FeedError, VulnDBError
from imagescan.vulndb.feeds.detect import Detected, UnknownFormat, detect_file
from imagescan.vulndb.groups import compute_groups
from imagescan.vulndb.models import BuildReport, FileProblem, SourceSpec
from imagescan.vulndb.schema import SCHEMA_VERSION, TABLES, create_schema
from imagescan.vulndb.store import read_sources
from imagescan.vulndb.writer import SourceStats, Writer


def _walk(root: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(Path(dirpath) / f for f in sorted(filenames) if not f.startswith("."))
    return found


def _sha256(path: Path) -> tuple[str | None, int | None]:
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    except OSError:
        return None, None
    return digest.hexdigest(), size


class _Build:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.writer = Writer(conn)
        self.conn = conn
        self.names: set[str] = set()
        self.ignored: list[FileProblem] = []
        self.errors: list[FileProblem] = []
        self.loaded = 0

    def unique(self, name: str) -> str:
        candidate, n = name, 1
        while candidate in self.names:
            n += 1
            candidate = f"{name}#{n}"
        self.names.add(candidate)
        return candidate

    def source(self, spec: SourceSpec) -> None:
        path = spec.path
        if path.is_dir():
            self.directory(spec)
            return
        try:
            detected = detect_file(path)
        except FeedError as exc:
            self.errors.append(FileProblem(path=str(path), reason=str(exc)))
            return
        self.load(detected, path, spec.name or path.name, spec)

    def load(self, detected: Detected, path: Path, name: str, spec: SourceSpec | None) -> None:
        sha, size = _sha256(path)
        stats = self.writer.open_source(
            self.unique(name), detected.format, str(path), url=spec.url if spec else None,
            etag=spec.etag if spec else None, last_modified=spec.last_modified if spec else None,
            sha256=sha, size=size,
        )
        try:
            self.writer.write(stats, detected.items)
        except FeedError as exc:
            self.errors.append(FileProblem(path=str(path), reason=str(exc)))
            self.conn.execute("DELETE FROM source WHERE id = ?", (stats.id,))
            return
        self.writer.close_source(stats)
        self.loaded += 1

    def directory(self, spec: SourceSpec) -> None:
        root = spec.path
        prefix = f"{spec.name}/" if spec.name else ""
        record_dirs: dict[Path, SourceStats] = {}
        for path in _walk(root):
            rel = path.relative_to(root).as_posix()
            try:
                detected = detect_file(path, hint=rel)
            except UnknownFormat as exc:
                self.ignored.append(FileProblem(path=str(path), reason=f"not a feed: {exc.found}"))
                continue
            except FeedError as exc:
                self.errors.append(FileProblem(path=str(path), reason=str(exc)))
                continue
            if not detected.single_record:
                self.load(detected, path, f"{prefix}{rel}", None)
                continue
            stats = record_dirs.get(path.parent)
            if stats is None:
                dir_rel = path.parent.relative_to(root).as_posix()
                name = f"{prefix}{dir_rel}" if dir_rel != "." else (spec.name or root.name)
                stats = self.writer.open_source(self.unique(name), detected.format, str(path.parent))
                record_dirs[path.parent] = stats
            try:
                self.writer.write(stats, detected.items)
            except FeedError as exc:
                self.errors.append(FileProblem(path=str(path), reason=str(exc)))
        for stats in record_dirs.values():
            self.writer.close_source(stats)
            self.loaded += 1


def build_database(
    sources: Sequence[Path | SourceSpec], out: Path, *, built_at: dt.datetime | None = None
) -> BuildReport:
    """Build the database at ``out`` from local feed files and directories.

    Raises :class:`VulnDBError` when an input does not exist, or when no input yielded any data; damaged files are
    reported in :attr:`BuildReport.errors` while the rest is built.
    """
    started = time.monotonic()
    specs = [s if isinstance(s, SourceSpec) else SourceSpec(path=Path(s)) for s in sources]
    if not specs:
        raise VulnDBError("no feed files given")
    for spec in specs:
        if not spec.path.exists():
            raise VulnDBError(f"{spec.path}: no such file or directory")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    when = (built_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = MEMORY")
            conn.execute("PRAGMA synchronous = OFF")
            create_schema(conn)
            conn.execute("BEGIN")
            build = _Build(conn)
            for spec in specs:
                build.source(spec)
            if build.loaded == 0:
                problems = "; ".join(p.reason for p in build.errors[:3])
                raise VulnDBError("no feed data could be read" + (f": {problems}" if problems else ""))
            compute_groups(conn)
            conn.execute("INSERT INTO meta (key, value) VALUES ('built_at', ?)",
                         (when.strftime("%Y-%m-%dT%H:%M:%SZ"),))
            conn.execute("COMMIT")
            conn.execute("VACUUM")
            counts = {
                table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in TABLES if table not in ("meta", "source")
            }
            infos = read_sources(conn)
        finally:
            conn.close()
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return BuildReport(
        out=out, schema_version=SCHEMA_VERSION, built_at=when, duration_seconds=round(time.monotonic() - started, 3),
        sources=infos, counts=counts, ignored_files=build.ignored, errors=build.errors,
    )
