"""Public models of the vulnerability database: what a build reports and what the store returns."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceSpec(_Model):
    """One ``--from`` input. ``url``/``etag``/``last_modified`` are recorded for ``db update``."""

    path: Path
    name: str | None = None
    url: str | None = None
    etag: str | None = None
    last_modified: str | None = None


class SourceInfo(_Model):
    name: str
    format: str
    location: str
    url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None
    size: int | None = None
    records: int = 0
    """Records stored from this source (vulnerabilities, KEV entries, EPSS rows or end-of-life cycles)."""
    withdrawn: int = 0
    skipped: int = 0
    """Records or members that could not be used; :attr:`notes` says why (the first few)."""
    merged: int = 0
    """Records whose id was already stored from an earlier source or file, and were merged into it."""
    newest_modified: str | None = None
    version: str | None = None
    notes: list[str] = Field(default_factory=list)


class FileProblem(_Model):
    path: str
    reason: str


class BuildReport(_Model):
    out: Path
    schema_version: int
    built_at: dt.datetime
    duration_seconds: float
    sources: list[SourceInfo]
    counts: dict[str, int]
    """Rows per table: vulnerability, affected, alias, alias_group, kev, epss, eol_cycle, eol_alias."""
    ignored_files: list[FileProblem] = Field(default_factory=list)
    """Files found while walking a directory that are not feeds (README, schemas, ...)."""
    errors: list[FileProblem] = Field(default_factory=list)
    """Feed files that could not be read (damaged, refused, or an explicitly named file of unknown format). The
    database holds everything else."""

    @property
    def ok(self) -> bool:
        return not self.errors


class DbInfo(_Model):
    path: Path
    schema_version: int
    built_at: dt.datetime
    age: dt.timedelta
    sources: list[SourceInfo]
    counts: dict[str, int]
    ecosystems: dict[str, int]
    """Affected-package rows per ecosystem: tells whether the database has advisories for a distribution."""


class Range(_Model):
    type: str
    """``ECOSYSTEM``, ``SEMVER`` or ``GIT`` (GIT ranges hold commits and cannot be matched against versions)."""
    events: list[dict[str, str]]
    """In the order given; each one of ``{"introduced": v}``, ``{"fixed": v}``, ``{"last_affected": v}``,
    ``{"limit": v}``."""
    repo: str | None = None


class Cvss(_Model):
    type: str
    vector: str
    score: float | None = None
    """Base score, computed for CVSS v3 vectors; None for other versions."""


class Reference(_Model):
    type: str | None = None
    url: str


class Advisory(_Model):
    """One vulnerability as it applies to one package in one ecosystem."""

    vuln_id: str
    group_id: str
    """The alias group (see :meth:`VulnDB.alias_group`): equal for all ids of one vulnerability."""
    aliases: list[str]
    related: list[str]
    upstream: list[str]
    """The vulnerabilities a distribution record derives from (e.g. the CVEs of a DSA or an ALAS)."""
    ecosystem: str
    package: str
    purl: str | None = None
    status: str
    """``affected`` (ranges/versions decide), ``not-affected``, ``unfixed``, ``fix-deferred``, ``wont-fix``,
    ``end-of-life`` or ``under-investigation``."""
    status_reason: str | None = None
    ranges: list[Range]
    versions: list[str]
    fixed_versions: list[str]
    last_affected: list[str]
    severity: str | None = None
    severity_source: str | None = None
    cvss: list[Cvss]
    title: str
    summary: str | None = None
    details: str | None = None
    published: str | None = None
    modified: str | None = None
    withdrawn: str | None = None
    references: list[Reference]
    data_source: str
    source_format: str
    ecosystem_specific: dict[str, Any] | None = None
    database_specific: dict[str, Any] | None = None


class KevEntry(_Model):
    cve: str
    date_added: dt.date
    due_date: dt.date | None = None
    ransomware: bool
    """CISA's knownRansomwareCampaignUse is ``Known``."""
    vendor_project: str | None = None
    product: str | None = None
    name: str | None = None


class EpssScore(_Model):
    cve: str
    score: float
    percentile: float | None = None
    date: dt.date | None = None
    model_version: str | None = None


class Cycle(_Model):
    product: str
    cycle: str
    codename: str | None = None
    release_date: dt.date | None = None
    eol: dt.date | bool | None = None
    """The end-of-life date; True: ended, date unknown; False: no end announced."""
    lts: dt.date | bool | None = None
    support: dt.date | bool | None = None
    """End of active support."""
    extended_support: dt.date | bool | None = None
    latest: str | None = None
    latest_release_date: dt.date | None = None
