"""The live feeds ``imagescan db update`` downloads, and how to point them elsewhere (a mirror, a feeds file).

Each :class:`Feed` is one source of the database. ``kind`` says how it is fetched:

- ``download``: one GET of ``url``; the body is the feed file (OSV ``all.zip``, tracker JSON, secdb, KEV, EPSS).
- ``yum``: ``url`` is a yum ``mirror.list``; its first working mirror's ``repodata/repomd.xml`` names the
  ``updateinfo`` file, which is the feed (Amazon Linux ALAS).
- ``eol``: ``url`` is an endoflife.date API v1 product (``/api/v1/products/NAME``), converted to the ``eol``
  format the builder reads (:mod:`imagescan.vulndb.eolapi`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from imagescan.vulndb.errors import VulnDBError

FeedKind = Literal["download", "yum", "eol"]
KINDS: tuple[FeedKind, ...] = ("download", "yum", "eol")
_SUFFIX_RE = re.compile(r"^[A-Za-z0-9._-]*$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*$")

OSV_BASE = "https://osv-vulnerabilities.storage.googleapis.com"
OSV_ECOSYSTEMS = ("PyPI", "npm", "Go", "Maven", "RubyGems", "Packagist", "NuGet", "crates.io", "Hex", "Pub",
                  "Debian", "Alpine", "Ubuntu")
DEBIAN_TRACKER = "https://security-tracker.debian.org/tracker/data/json"
ALPINE_SECDB = "https://secdb.alpinelinux.org"
ALPINE_RELEASES = tuple(f"v3.{minor}" for minor in range(12, 23))
ALAS_MIRROR_LISTS = {
    "amzn2": "https://cdn.amazonlinux.com/2/core/latest/x86_64/mirror.list",
    "al2023": "https://cdn.amazonlinux.com/al2023/core/mirrors/latest/x86_64/mirror.list",
}
"""The file names carry the release (``amzn2``, ``al2023``): ALAS ids say it too, the name is the fallback."""
KEV = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
EPSS = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"
EOL_API = "https://endoflife.date/api/v1/products"
EOL_PRODUCTS = ("almalinux", "alpine-linux", "amazon-corretto", "amazon-linux", "centos", "centos-stream", "debian",
                "dotnet", "eclipse-temurin", "go", "mysql", "nginx", "nodejs", "openssl", "oracle-jdk", "php",
                "postgresql", "python", "redis", "rhel", "rocky-linux", "ruby", "ubuntu")


@dataclass(frozen=True)
class Feed:
    name: str
    """Unique; the source name in the database and the stem of the cached file (``osv/PyPI``, ``kev``)."""
    kind: FeedKind
    url: str
    suffix: str = ""
    """Extension of the cached file (``.zip``, ``.json``, ``.xml.gz``): for people looking at the cache only, the
    builder recognises files by content."""


def default_feeds() -> list[Feed]:
    feeds = [Feed(f"osv/{eco}", "download", f"{OSV_BASE}/{eco}/all.zip", ".zip") for eco in OSV_ECOSYSTEMS]
    feeds.append(Feed("debian-tracker", "download", DEBIAN_TRACKER, ".json"))
    feeds += [
        Feed(f"alpine-secdb/{release}-{repo}", "download", f"{ALPINE_SECDB}/{release}/{repo}.json", ".json")
        for release in ALPINE_RELEASES for repo in ("main", "community")
    ]
    feeds += [Feed(f"alas/{name}", "yum", url, ".xml.gz") for name, url in ALAS_MIRROR_LISTS.items()]
    feeds.append(Feed("kev", "download", KEV, ".json"))
    feeds.append(Feed("epss", "download", EPSS, ".csv.gz"))
    feeds += [Feed(f"eol/{product}", "eol", f"{EOL_API}/{product}", ".json") for product in EOL_PRODUCTS]
    return feeds


def mirror_url(url: str, base: str) -> str:
    """``https://HOST/PATH?Q`` served by a mirror at ``BASE`` as ``BASE/HOST/PATH?Q``."""
    parts = urlsplit(url)
    if not parts.netloc:
        return url
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    return f"{base.rstrip('/')}/{parts.netloc}{tail}"


def with_mirror(feeds: Sequence[Feed], base: str) -> list[Feed]:
    return [replace(feed, url=mirror_url(feed.url, base)) for feed in feeds]


def check_feeds(feeds: Sequence[Feed]) -> list[Feed]:
    """``feeds`` as a list; :class:`VulnDBError` for a name or suffix that is not a safe relative file name, a
    name given twice, or a URL that is not http(s)."""
    seen: set[str] = set()
    for feed in feeds:
        if not _NAME_RE.match(feed.name) or ".." in feed.name.split("/"):
            raise VulnDBError(f"feed name {feed.name!r}: letters, digits, '.', '_', '-' and '/' only")
        if not _SUFFIX_RE.match(feed.suffix):
            raise VulnDBError(f"feed {feed.name}: suffix {feed.suffix!r}: letters, digits, '.', '_' and '-' only")
        if feed.name in seen:
            raise VulnDBError(f"feed name {feed.name!r} given twice")
        if urlsplit(feed.url).scheme not in ("http", "https"):
            raise VulnDBError(f"feed {feed.name}: {feed.url!r} is not an http(s) URL")
        seen.add(feed.name)
    return list(feeds)


def load_feeds_file(path: Path) -> list[Feed]:
    """A JSON list (or ``{"feeds": [...]}``) of ``{"name", "kind", "url", "suffix"?}`` replacing the defaults."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise VulnDBError(f"{path}: cannot read the feeds file: {exc}") from exc
    items = doc.get("feeds") if isinstance(doc, dict) else doc
    if not isinstance(items, list) or not items:
        raise VulnDBError(f"{path}: expected a non-empty JSON list of feeds (or {{\"feeds\": [...]}})")
    feeds: list[Feed] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise VulnDBError(f"{path}: feed #{index + 1} is not an object")
        name, kind, url, suffix = item.get("name"), item.get("kind", "download"), item.get("url"), item.get("suffix")
        if not isinstance(name, str) or not isinstance(url, str) or kind not in KINDS:
            raise VulnDBError(f"{path}: feed #{index + 1} needs a string name and url, and kind one of "
                              f"{', '.join(KINDS)}")
        feeds.append(Feed(name, kind, url, suffix if isinstance(suffix, str) else ""))
    return check_feeds(feeds)
