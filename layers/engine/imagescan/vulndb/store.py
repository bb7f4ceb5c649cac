"""The read API over a built database, used by matching. Opened read-only; safe to share between threads."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

from imagescan.vulndb.errors import VulnDBError
from imagescan.vulndb.models import Advisory, Cvss, Cycle, DbInfo, EpssScore, KevEntry, Range, Reference, SourceInfo
from imagescan.vulndb.names import normalize_ecosystem, normalize_package
from imagescan.vulndb.schema import SCHEMA_VERSION, TABLES

_ADVISORY_SQL = """
SELECT a.vuln_id, a.ecosystem, a.package, a.purl, a.status, a.status_reason, a.severity, a.severity_source,
       a.ranges, a.versions, a.fixed, a.last_affected, a.ecosystem_specific, a.database_specific,
       v.summary, v.details, v.severity, v.severity_source, v.cvss, v.published, v.modified, v.withdrawn, v.refs,
       s.name, s.format, COALESCE(g.group_id, a.vuln_id)
FROM affected a
JOIN vulnerability v ON v.id = a.vuln_id
JOIN source s ON s.id = a.source_id
LEFT JOIN alias_group g ON g.id = a.vuln_id
WHERE a.ecosystem = ? AND a.name_key = ?
ORDER BY a.vuln_id, a.id
"""


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _date_or_bool(text: str | None) -> dt.date | bool | None:
    if text in ("true", "false"):
        return text == "true"
    return _date(text)


def read_sources(conn: sqlite3.Connection) -> list[SourceInfo]:
    rows = conn.execute(
        "SELECT name, format, location, url, etag, last_modified, sha256, size, records, withdrawn, skipped, merged,"
        " newest_modified, version, notes FROM source ORDER BY id"
    ).fetchall()
    return [
        SourceInfo(
            name=r[0], format=r[1], location=r[2], url=r[3], etag=r[4], last_modified=r[5], sha256=r[6], size=r[7],
            records=r[8], withdrawn=r[9], skipped=r[10], merged=r[11], newest_modified=r[12], version=r[13],
            notes=json.loads(r[14]),
        )
        for r in rows
    ]


def _title(vuln_id: str, summary: str | None, details: str | None) -> str:
    if summary:
        return summary
    if details:
        line = details.strip().split("\n", 1)[0]
        return line if len(line) <= 120 else line[:119].rstrip() + "…"
    return vuln_id


class VulnDB:
    """A built vulnerability database, opened read-only.

    Raises :class:`VulnDBError` when the file is missing, is not an imagescan database, or has another schema
    version.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise VulnDBError(f"{self.path}: no vulnerability database (build one with `imagescan db build`)")
        try:
            self._conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                         check_same_thread=False)
            meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise VulnDBError(f"{self.path}: not an imagescan vulnerability database ({exc})") from exc
        version = meta.get("schema_version")
        if version != str(SCHEMA_VERSION):
            self._conn.close()
            raise VulnDBError(f"{self.path}: database schema version {version}, this imagescan reads version "
                              f"{SCHEMA_VERSION}; rebuild it with `imagescan db build`")
        self.meta = meta

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> VulnDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise VulnDBError(f"{self.path}: cannot read the database: {exc}") from exc

    def advisories(self, ecosystem: str, package: str, *, include_withdrawn: bool = False) -> list[Advisory]:
        """Every advisory for ``package`` in ``ecosystem`` (names normalised as at build time: PEP 503 for PyPI...).
        Withdrawn records are left out unless asked for."""
        eco = normalize_ecosystem(ecosystem)
        rows = self._query(_ADVISORY_SQL, (eco, normalize_package(eco, package)))
        if not include_withdrawn:
            rows = [r for r in rows if r[21] is None]
        ids = sorted({r[0] for r in rows})
        links = self._links(ids)
        out: list[Advisory] = []
        for r in rows:
            vid = r[0]
            own = r[6] is not None
            ids_of = links.get(vid, {})
            out.append(Advisory(
                vuln_id=vid, group_id=r[25], aliases=ids_of.get("alias", []), related=ids_of.get("related", []),
                upstream=ids_of.get("upstream", []), ecosystem=r[1], package=r[2], purl=r[3], status=r[4],
                status_reason=r[5], ranges=[Range.model_validate(x) for x in json.loads(r[8])],
                versions=json.loads(r[9]), fixed_versions=json.loads(r[10]), last_affected=json.loads(r[11]),
                severity=r[6] if own else r[16], severity_source=r[7] if own else r[17],
                cvss=[Cvss.model_validate(x) for x in json.loads(r[18])], title=_title(vid, r[14], r[15]),
                summary=r[14], details=r[15], published=r[19], modified=r[20], withdrawn=r[21],
                references=[Reference.model_validate(x) for x in json.loads(r[22])], data_source=r[23],
                source_format=r[24], ecosystem_specific=_loads(r[12]), database_specific=_loads(r[13]),
            ))
        return out

    def _links(self, ids: list[str]) -> dict[str, dict[str, list[str]]]:
        links: dict[str, dict[str, list[str]]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for vid, kind, other in self._query(
                f"SELECT vuln_id, kind, other_id FROM alias WHERE vuln_id IN ({marks})"
                " ORDER BY vuln_id, kind, other_id", tuple(chunk),
            ):
                links.setdefault(vid, {}).setdefault(kind, []).append(other)
        return links

    def group_id(self, ident: str) -> str:
        """The alias group of ``ident`` (see docs/database.md); an id the database does not know is its own group."""
        row = self._query("SELECT group_id FROM alias_group WHERE id = ?", (ident,))
        return str(row[0][0]) if row else ident

    def alias_group(self, ident: str) -> list[str]:
        """All ids of the vulnerability ``ident`` names (CVE, GHSA, PYSEC, GO-, DEBIAN-CVE-…), sorted, including
        ``ident`` itself."""
        rows = self._query("SELECT id FROM alias_group WHERE group_id = ? ORDER BY id", (self.group_id(ident),))
        return [r[0] for r in rows] or [ident]

    def kev(self, cve: str) -> KevEntry | None:
        rows = self._query("SELECT cve, date_added, due_date, ransomware, vendor_project, product, name FROM kev"
                           " WHERE cve = ?", (cve,))
        if not rows:
            return None
        r = rows[0]
        return KevEntry(cve=r[0], date_added=dt.date.fromisoformat(r[1]), due_date=_date(r[2]),
                        ransomware=bool(r[3]), vendor_project=r[4], product=r[5], name=r[6])

    def epss(self, cve: str) -> EpssScore | None:
        rows = self._query("SELECT cve, score, percentile, score_date, model_version FROM epss WHERE cve = ?",
                           (cve,))
        if not rows:
            return None
        r = rows[0]
        return EpssScore(cve=r[0], score=r[1], percentile=r[2], date=_date(r[3]), model_version=r[4])

    def eol(self, product: str) -> list[Cycle]:
        """The release cycles of ``product`` (or of the product it is an alias of: ``alpine`` → ``alpine-linux``),
        newest first as the feed lists them."""
        key = product.strip().lower()
        alias = self._query("SELECT product FROM eol_alias WHERE alias = ?", (key,))
        name = alias[0][0] if alias else key
        rows = self._query(
            "SELECT product, cycle, codename, release_date, eol, lts, support, extended_support, latest,"
            " latest_release_date FROM eol_cycle WHERE product = ? ORDER BY position, cycle", (name,))
        return [
            Cycle(product=r[0], cycle=r[1], codename=r[2], release_date=_date(r[3]), eol=_date_or_bool(r[4]),
                  lts=_date_or_bool(r[5]), support=_date_or_bool(r[6]), extended_support=_date_or_bool(r[7]),
                  latest=r[8], latest_release_date=_date(r[9]))
            for r in rows
        ]

    def ecosystems(self) -> dict[str, int]:
        """Affected-package rows per ecosystem."""
        return {r[0]: r[1] for r in self._query(
            "SELECT ecosystem, COUNT(*) FROM affected GROUP BY ecosystem ORDER BY ecosystem")}

    def has_ecosystem(self, ecosystem: str) -> bool:
        return bool(self._query("SELECT 1 FROM affected WHERE ecosystem = ? LIMIT 1",
                                (normalize_ecosystem(ecosystem),)))

    def info(self, now: dt.datetime | None = None) -> DbInfo:
        built = dt.datetime.fromisoformat(self.meta["built_at"])
        counts = {
            table: self._query(f"SELECT COUNT(*) FROM {table}")[0][0]
            for table in TABLES if table not in ("meta", "source")
        }
        return DbInfo(
            path=self.path, schema_version=int(self.meta["schema_version"]), built_at=built,
            age=(now or dt.datetime.now(dt.UTC)) - built, sources=read_sources(self._conn), counts=counts,
            ecosystems=self.ecosystems(),
        )


def database_info(path: Path | str) -> DbInfo:
    """``imagescan db info``: sources, record counts, build time and age of the database at ``path``."""
    with VulnDB(path) as db:
        return db.info()
