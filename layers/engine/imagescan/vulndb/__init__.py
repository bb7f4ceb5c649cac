"""The vulnerability database: an SQLite file built offline from feed files (OSV, Debian tracker, Alpine secdb,
Amazon Linux ALAS, CISA KEV, EPSS, end-of-life), and the read API that matching uses. Schema: docs/database.md."""

from imagescan.vulndb.builder import build_database
from imagescan.vulndb.errors import FeedError, VulnDBError
from imagescan.vulndb.models import (
    Advisory,
    BuildReport,
    Cycle,
    DbInfo,
    EpssScore,
    KevEntry,
    SourceInfo,
    SourceSpec,
)
from imagescan.vulndb.names import ecosystem_for_os, normalize_ecosystem, normalize_package
from imagescan.vulndb.schema import SCHEMA_VERSION
from imagescan.vulndb.store import VulnDB, database_info

__all__ = [
    "SCHEMA_VERSION",
    "Advisory",
    "BuildReport",
    "Cycle",
    "DbInfo",
    "EpssScore",
    "FeedError",
    "KevEntry",
    "SourceInfo",
    "SourceSpec",
    "VulnDB",
    "VulnDBError",
    "build_database",
    "database_info",
    "ecosystem_for_os",
    "normalize_ecosystem",
    "normalize_package",
]
