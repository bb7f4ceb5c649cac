"""Writing normalised records into a new database file, merging records that share an id.

Merge rule (docs/database.md): when an id is already stored, the incoming record *wins* unless both carry a
``modified`` time and the stored one is newer. The winner's record-level fields are kept. Affected entries are
merged per (ecosystem, package): the winner's entry replaces the other's for the same package; entries for other
packages are kept from both. Aliases, related and upstream ids are the union.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from imagescan.vulndb.errors import FeedError
from imagescan.vulndb.records import (
    Affected,
    EolAliasRow,
    EolCycleRow,
    EpssRow,
    FeedVersion,
    Item,
    KevRow,
    Skip,
    Vuln,
)

MAX_NOTES = 20


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))


def _clean(*params: Any) -> tuple[Any, ...]:
    """SQLite stores UTF-8: lone surrogates (valid in JSON text, not in UTF-8) become U+FFFD."""
    out = []
    for value in params:
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                value = value.encode("utf-8", "replace").decode("utf-8")
        out.append(value)
    return tuple(out)


@dataclass
class SourceStats:
    id: int
    name: str
    records: int = 0
    withdrawn: int = 0
    skipped: int = 0
    merged: int = 0
    newest_modified: str | None = None
    version: str | None = None
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.notes) < MAX_NOTES:
            self.notes.append(text)


class Writer:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def open_source(self, name: str, fmt: str, location: str, *, url: str | None = None, etag: str | None = None,
                    last_modified: str | None = None, sha256: str | None = None, size: int | None = None
                    ) -> SourceStats:
        cur = self.conn.execute(
            "INSERT INTO source (name, format, location, url, etag, last_modified, sha256, size)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (name, fmt, location, url, etag, last_modified, sha256, size),
        )
        assert cur.lastrowid is not None
        return SourceStats(id=cur.lastrowid, name=name)

    def close_source(self, stats: SourceStats) -> None:
        self.conn.execute(
            "UPDATE source SET records = ?, withdrawn = ?, skipped = ?, merged = ?, newest_modified = ?,"
            " version = ?, notes = ? WHERE id = ?",
            (stats.records, stats.withdrawn, stats.skipped, stats.merged, stats.newest_modified, stats.version,
             _json(stats.notes), stats.id),
        )

    def write(self, stats: SourceStats, items: Iterable[Item]) -> None:
        """Store all items of one file, or none of them: a :class:`FeedError` raised while reading the file rolls
        back what it had written (the stats too) and is raised again."""
        saved = (stats.records, stats.withdrawn, stats.skipped, stats.merged, stats.newest_modified,
                 stats.version, list(stats.notes))
        self.conn.execute("SAVEPOINT feed_file")
        try:
            for item in items:
                self._item(stats, item)
        except FeedError:
            self.conn.execute("ROLLBACK TO feed_file")
            self.conn.execute("RELEASE feed_file")
            (stats.records, stats.withdrawn, stats.skipped, stats.merged, stats.newest_modified, stats.version,
             stats.notes) = saved
            raise
        self.conn.execute("RELEASE feed_file")

    def _item(self, stats: SourceStats, item: Item) -> None:
        if isinstance(item, Vuln):
            self._vuln(stats, item)
        elif isinstance(item, Skip):
            stats.skipped += 1
            stats.note(item.reason)
        elif isinstance(item, FeedVersion):
            stats.version = item.version
        elif isinstance(item, KevRow):
            self.conn.execute(
                "INSERT OR REPLACE INTO kev VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                _clean(item.cve, item.date_added, item.due_date, int(item.ransomware), item.vendor_project,
                       item.product, item.name, stats.id),
            )
            stats.records += 1
        elif isinstance(item, EpssRow):
            self.conn.execute(
                "INSERT OR REPLACE INTO epss VALUES (?, ?, ?, ?, ?, ?)",
                _clean(item.cve, item.score, item.percentile, item.score_date, item.model_version, stats.id),
            )
            stats.records += 1
        elif isinstance(item, EolCycleRow):
            self.conn.execute(
                "INSERT OR REPLACE INTO eol_cycle VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _clean(item.product, item.cycle, item.position, item.codename, item.release_date, item.eol, item.lts,
                       item.support, item.extended_support, item.latest, item.latest_release_date,
                       _json(item.extra), stats.id),
            )
            stats.records += 1
        elif isinstance(item, EolAliasRow):
            self.conn.execute("INSERT OR REPLACE INTO eol_alias VALUES (?, ?)", _clean(item.alias, item.product))

    def _vuln(self, stats: SourceStats, vuln: Vuln) -> None:
        stats.records += 1
        if vuln.withdrawn:
            stats.withdrawn += 1
        if vuln.modified and (stats.newest_modified is None or vuln.modified > stats.newest_modified):
            stats.newest_modified = vuln.modified
        vuln.id = _clean(vuln.id)[0]
        row = self.conn.execute("SELECT modified FROM vulnerability WHERE id = ?", (vuln.id,)).fetchone()
        wins = True
        if row is not None:
            stats.merged += 1
            stored: str | None = row[0]
            wins = not (stored and vuln.modified and stored > vuln.modified)
        if wins:
            self.conn.execute(
                "INSERT OR REPLACE INTO vulnerability VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _clean(vuln.id, stats.id, vuln.summary, vuln.details, vuln.severity, vuln.severity_source,
                 _json(vuln.cvss), vuln.published, vuln.modified, vuln.withdrawn, _json(vuln.references),
                 _json(vuln.database_specific)),
            )
        for kind, ids in (("alias", vuln.aliases), ("related", vuln.related), ("upstream", vuln.upstream)):
            self.conn.executemany(
                "INSERT OR IGNORE INTO alias VALUES (?, ?, ?)", [_clean(vuln.id, kind, other) for other in ids]
            )
        stored_keys: set[tuple[str, str]] = set()
        if row is not None:
            stored_keys = {
                (eco, key) for eco, key in self.conn.execute(
                    "SELECT ecosystem, name_key FROM affected WHERE vuln_id = ?", (vuln.id,))
            }
        for entry in vuln.affected:
            key = (entry.ecosystem, entry.name_key)
            if key in stored_keys:
                if not wins:
                    continue
                self.conn.execute(
                    "DELETE FROM affected WHERE vuln_id = ? AND ecosystem = ? AND name_key = ?", (vuln.id, *key)
                )
                stored_keys.discard(key)
            self._affected(stats, vuln.id, entry)

    def _affected(self, stats: SourceStats, vuln_id: str, entry: Affected) -> None:
        self.conn.execute(
            "INSERT INTO affected (vuln_id, source_id, ecosystem, package, name_key, purl, status, status_reason,"
            " severity, severity_source, ranges, versions, fixed, last_affected, ecosystem_specific,"
            " database_specific) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _clean(vuln_id, stats.id, entry.ecosystem, entry.package, entry.name_key, entry.purl, entry.status,
             entry.status_reason, entry.severity, entry.severity_source, _json(entry.ranges), _json(entry.versions),
             _json(entry.fixed_versions()), _json(entry.last_affected()), _json(entry.ecosystem_specific),
             _json(entry.database_specific)),
        )
