"""What feed readers produce and the builder stores: one normalised shape per kind of row.

Every feed reader turns its format into these; the writer never sees a feed format. A reader that cannot use
one record yields :class:`Skip` with the reason and goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from imagescan.vulndb.names import normalize_ecosystem, normalize_package

JSON = dict[str, Any]

STATUSES = ("affected", "not-affected", "unfixed", "fix-deferred", "wont-fix", "end-of-life", "under-investigation")
"""Per-package status. ``affected``: the ranges/versions decide (a fixed version may exist). The others hold for
every version of the package in that ecosystem. See docs/database.md for the mapping to a finding's fix_state."""

EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
MAX_DETAILS = 4000
CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,}$")


@dataclass(slots=True)
class Affected:
    ecosystem: str
    package: str
    name_key: str = ""
    purl: str | None = None
    status: str = "affected"
    status_reason: str | None = None
    severity: str | None = None
    severity_source: str | None = None
    ranges: list[JSON] = field(default_factory=list)
    """``[{"type": "ECOSYSTEM", "repo"?: url, "events": [{"introduced": "0"}, {"fixed": "1.2"}]}]``, events in
    the order given."""
    versions: list[str] = field(default_factory=list)
    ecosystem_specific: JSON | None = None
    database_specific: JSON | None = None

    def __post_init__(self) -> None:
        self.ecosystem = normalize_ecosystem(self.ecosystem)
        self.package = self.package.strip()
        self.name_key = normalize_package(self.ecosystem, self.package)

    def fixed_versions(self) -> list[str]:
        """The ``fixed`` events of the non-GIT ranges, in order, without repeats."""
        return _events_of(self.ranges, "fixed")

    def last_affected(self) -> list[str]:
        return _events_of(self.ranges, "last_affected")


def _events_of(ranges: list[JSON], kind: str) -> list[str]:
    out: list[str] = []
    for rng in ranges:
        if rng.get("type") == "GIT":
            continue
        for event in rng.get("events", []):
            value = event.get(kind)
            if isinstance(value, str) and value not in out:
                out.append(value)
    return out


@dataclass(slots=True)
class Vuln:
    id: str
    affected: list[Affected] = field(default_factory=list)
    summary: str | None = None
    details: str | None = None
    severity: str | None = None
    severity_source: str | None = None
    cvss: list[JSON] = field(default_factory=list)
    """``[{"type": "CVSS_V3", "vector": "CVSS:3.1/…", "score": 9.8 | None}]``"""
    published: str | None = None
    modified: str | None = None
    withdrawn: str | None = None
    references: list[JSON] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    upstream: list[str] = field(default_factory=list)
    database_specific: JSON | None = None


@dataclass(slots=True)
class KevRow:
    cve: str
    date_added: str
    due_date: str | None
    ransomware: bool
    vendor_project: str | None = None
    product: str | None = None
    name: str | None = None


@dataclass(slots=True)
class EpssRow:
    cve: str
    score: float
    percentile: float | None
    score_date: str | None
    model_version: str | None


@dataclass(slots=True)
class EolCycleRow:
    product: str
    cycle: str
    position: int = 0
    """Index in the feed's list for the product (newest first in endoflife.date)."""
    release_date: str | None = None
    eol: str | None = None
    """ISO date, or ``true``/``false`` as endoflife.date gives it (true: ended, date unknown; false: no end set)."""
    lts: str | None = None
    support: str | None = None
    extended_support: str | None = None
    latest: str | None = None
    latest_release_date: str | None = None
    codename: str | None = None
    extra: JSON = field(default_factory=dict)


@dataclass(slots=True)
class EolAliasRow:
    alias: str
    product: str


@dataclass(slots=True)
class Skip:
    """A record the reader could not use; ``reason`` says which and why."""

    reason: str


@dataclass(slots=True)
class FeedVersion:
    """The feed's own version or date, when it states one (KEV catalogVersion, EPSS model and score date)."""

    version: str


Item = Vuln | KevRow | EpssRow | EolCycleRow | EolAliasRow | Skip | FeedVersion


def timestamp(value: object) -> str | None:
    """An RFC 3339 timestamp normalised to UTC ``YYYY-MM-DDTHH:MM:SSZ``; a date alone stays ``YYYY-MM-DD``-based
    midnight UTC. Text that does not parse is kept as given (so that e.g. a withdrawn flag is never lost)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"timestamp is a {type(value).__name__}, not a string")
    text = value.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        return text
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        utc = parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return text
    return f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"


def truncate(text: str | None, limit: int = MAX_DETAILS) -> str | None:
    """``text`` cut to at most ``limit`` characters at a word boundary, ending in ``…`` when cut."""
    if text is None:
        return None
    text = text.strip()
    if len(text) <= limit:
        return text or None
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"
