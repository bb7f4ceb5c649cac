"""The SQLite schema of the vulnerability database (documented in docs/database.md; keep both in step).

Bump :data:`SCHEMA_VERSION` on any change that an older reader would misread; readers refuse other versions.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 1

DDL = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE source (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    format          TEXT NOT NULL,
    location        TEXT NOT NULL,
    url             TEXT,
    etag            TEXT,
    last_modified   TEXT,
    sha256          TEXT,
    size            INTEGER,
    records         INTEGER NOT NULL DEFAULT 0,
    withdrawn       INTEGER NOT NULL DEFAULT 0,
    skipped         INTEGER NOT NULL DEFAULT 0,
    merged          INTEGER NOT NULL DEFAULT 0,
    newest_modified TEXT,
    version         TEXT,
    notes           TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE vulnerability (
    id                TEXT PRIMARY KEY,
    source_id         INTEGER NOT NULL REFERENCES source(id),
    summary           TEXT,
    details           TEXT,
    severity          TEXT,
    severity_source   TEXT,
    cvss              TEXT NOT NULL DEFAULT '[]',
    published         TEXT,
    modified          TEXT,
    withdrawn         TEXT,
    refs              TEXT NOT NULL DEFAULT '[]',
    database_specific TEXT
);

CREATE TABLE alias (
    vuln_id  TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('alias', 'related', 'upstream')),
    other_id TEXT NOT NULL,
    PRIMARY KEY (vuln_id, kind, other_id)
) WITHOUT ROWID;
CREATE INDEX alias_by_other ON alias (other_id);

CREATE TABLE alias_group (
    id       TEXT PRIMARY KEY,
    group_id TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX alias_group_by_group ON alias_group (group_id);

CREATE TABLE affected (
    id                 INTEGER PRIMARY KEY,
    vuln_id            TEXT NOT NULL REFERENCES vulnerability(id),
    source_id          INTEGER NOT NULL REFERENCES source(id),
    ecosystem          TEXT NOT NULL,
    package            TEXT NOT NULL,
    name_key           TEXT NOT NULL,
    purl               TEXT,
    status             TEXT NOT NULL CHECK (status IN ('affected', 'not-affected', 'unfixed', 'fix-deferred',
                                                       'wont-fix', 'end-of-life', 'under-investigation')),
    status_reason      TEXT,
    severity           TEXT,
    severity_source    TEXT,
    ranges             TEXT NOT NULL DEFAULT '[]',
    versions           TEXT NOT NULL DEFAULT '[]',
    fixed              TEXT NOT NULL DEFAULT '[]',
    last_affected      TEXT NOT NULL DEFAULT '[]',
    ecosystem_specific TEXT,
    database_specific  TEXT
);
CREATE INDEX affected_by_package ON affected (ecosystem, name_key);
CREATE INDEX affected_by_vuln ON affected (vuln_id);

CREATE TABLE kev (
    cve            TEXT PRIMARY KEY,
    date_added     TEXT NOT NULL,
    due_date       TEXT,
    ransomware     INTEGER NOT NULL,
    vendor_project TEXT,
    product        TEXT,
    name           TEXT,
    source_id      INTEGER NOT NULL REFERENCES source(id)
) WITHOUT ROWID;

CREATE TABLE epss (
    cve           TEXT PRIMARY KEY,
    score         REAL NOT NULL,
    percentile    REAL,
    score_date    TEXT,
    model_version TEXT,
    source_id     INTEGER NOT NULL REFERENCES source(id)
) WITHOUT ROWID;

CREATE TABLE eol_cycle (
    product             TEXT NOT NULL,
    cycle               TEXT NOT NULL,
    position            INTEGER NOT NULL,
    codename            TEXT,
    release_date        TEXT,
    eol                 TEXT,
    lts                 TEXT,
    support             TEXT,
    extended_support    TEXT,
    latest              TEXT,
    latest_release_date TEXT,
    extra               TEXT NOT NULL DEFAULT '{}',
    source_id           INTEGER NOT NULL REFERENCES source(id),
    PRIMARY KEY (product, cycle)
) WITHOUT ROWID;

CREATE TABLE eol_alias (
    alias   TEXT PRIMARY KEY,
    product TEXT NOT NULL
) WITHOUT ROWID;
"""

TABLES = ("meta", "source", "vulnerability", "alias", "alias_group", "affected", "kev", "epss", "eol_cycle",
          "eol_alias")


def create_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(DDL)
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
