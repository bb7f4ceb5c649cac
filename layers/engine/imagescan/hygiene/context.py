"""What the hygiene checks take from :class:`~imagescan.checks.base.CheckContext` ``extras``, and the defaults.

=============== ================================================================ ===================================
key             value                                                            when absent
=============== ================================================================ ===================================
``policy``      a :class:`Policy`, or the path of a policy file                  the default policy
``dockerfile``  a parsed :class:`Dockerfile`, or the path of one                 no Dockerfile checks
``image_store`` an :class:`ImageStore`, or the path of the SQLite store          no store: no base image lookup
                                                                                 (the CLI passes
                                                                                 :func:`default_image_store_path`)
``now``         an aware :class:`datetime.datetime` (tests)                      the current time
=============== ================================================================ ===================================

:func:`hygiene_extras` builds these for the CLI, reading the policy and the Dockerfile up front so that a bad file
is a usage error before any image is pulled. End-of-life data comes from ``CheckContext.vulndb``.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from imagescan.checks.base import CheckContext
from imagescan.hygiene.dockerfile_parser import Dockerfile, read_dockerfile
from imagescan.hygiene.image_store import ImageStore, ImageStoreError, SqliteImageStore
from imagescan.hygiene.policy import DEFAULT_POLICY, Policy, load_policy
from imagescan.vulndb.errors import VulnDBError
from imagescan.vulndb.models import Cycle
from imagescan.vulndb.store import VulnDB

POLICY, DOCKERFILE, IMAGE_STORE, NOW = "policy", "dockerfile", "image_store", "now"
IMAGES_DB_ENV = "IMAGESCAN_IMAGES_DB"


def cache_dir() -> Path:
    return Path.home() / ".cache" / "imagescan"


def default_image_store_path() -> Path:
    return Path(os.environ.get(IMAGES_DB_ENV) or cache_dir() / "images.db")


@dataclass(frozen=True)
class HygieneOptions:
    policy: Policy
    now: dt.datetime
    dockerfile: Dockerfile | None


def hygiene_options(context: CheckContext) -> HygieneOptions:
    extras = context.extras
    policy = extras.get(POLICY)
    if isinstance(policy, str | Path):
        policy = load_policy(policy)
    dockerfile = extras.get(DOCKERFILE)
    if isinstance(dockerfile, str | Path):
        dockerfile = read_dockerfile(dockerfile)
    now = extras.get(NOW)
    if not isinstance(now, dt.datetime):
        now = dt.datetime.now(dt.UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    return HygieneOptions(
        policy=policy if isinstance(policy, Policy) else DEFAULT_POLICY,
        now=now,
        dockerfile=dockerfile if isinstance(dockerfile, Dockerfile) else None,
    )


class EolSource:
    """End-of-life cycles by product (``VulnDB.eol``), or why there are none."""

    def __init__(self, db: VulnDB | None, reason: str = "") -> None:
        self.db = db
        self.reason = reason
        self._cache: dict[str, list[Cycle]] = {}

    @property
    def available(self) -> bool:
        return self.db is not None

    def cycles(self, product: str) -> list[Cycle]:
        if self.db is None:
            return []
        if product not in self._cache:
            try:
                self._cache[product] = self.db.eol(product)
            except VulnDBError:
                self._cache[product] = []
        return self._cache[product]


def eol_source(context: CheckContext) -> EolSource:
    """The end-of-life data of this scan: the table in the scan's vulnerability database
    (``CheckContext.vulndb``; the CLI opens ``--db``, ``$IMAGESCAN_DB`` or the default path)."""
    db = context.vulndb
    return EolSource(db) if db is not None else EolSource(None, "no vulnerability database is used by this scan, "
                                                             "and the end-of-life table is part of it")


def image_store(context: CheckContext) -> ImageStore | None:
    """The store of scanned images, or None when this scan keeps none. Raises :class:`ImageStoreError`."""
    value = context.extras.get(IMAGE_STORE)
    if value is None:
        return None
    if isinstance(value, str | Path):
        return SqliteImageStore(Path(value))
    if isinstance(value, ImageStore):
        return value
    raise ImageStoreError(f"image_store: unsupported value {type(value).__name__}")


def hygiene_extras(dockerfile: str | Path | None = None, policy: str | Path | None = None,
                   images_db: str | Path | None = None) -> dict[str, object]:
    """``CheckContext.extras`` for a CLI scan: the policy and Dockerfile parsed now (errors are
    :class:`~imagescan.errors.ScanError` subclasses), and the default image store."""
    extras: dict[str, object] = {IMAGE_STORE: Path(images_db) if images_db else default_image_store_path()}
    if policy:
        extras[POLICY] = load_policy(policy)
    if dockerfile:
        extras[DOCKERFILE] = read_dockerfile(dockerfile)
    return extras
