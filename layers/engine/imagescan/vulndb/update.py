"""``imagescan db update``: download the live feeds incrementally, then build the database from them.

Downloads are kept in a cache directory beside the database (``<db>.feeds/``, one file per feed, plus
``state.json`` with each URL's ETag / Last-Modified). Every GET is conditional when a copy is cached, so an
unchanged feed costs one 304. A feed that cannot be fetched keeps its previous copy (status ``stale``) or, with no
copy, is left out (``missing``); a feed whose file the builder cannot read is ``damaged`` and its validators are
dropped so that the next update downloads it again. The database is then built from every usable file, with the
feed statuses in ``meta.feeds``, and renamed over the old one: readers never see a half-written file, and a
failed update leaves the old database in place.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from pydantic import BaseModel, ConfigDict

from imagescan.vulndb.builder import build_database
from imagescan.vulndb.eolapi import convert as convert_eol
from imagescan.vulndb.errors import FeedError, VulnDBError
from imagescan.vulndb.fetch import Fetched, Fetcher, FetchError, Validators
from imagescan.vulndb.models import BuildReport, SourceSpec
from imagescan.vulndb.sources import Feed, check_feeds, default_feeds, mirror_url
from imagescan.vulndb.store import VulnDB

STATE_FILE = "state.json"
STATE_VERSION = 1
META_FEEDS = "feeds"
"""``meta`` key holding the JSON list of :class:`FeedStatus` of the update that built the file."""
FeedState = Literal["downloaded", "unchanged", "stale", "missing", "damaged"]
PROBLEMS: frozenset[str] = frozenset({"stale", "missing", "damaged"})
Log = Callable[[str], None]


def default_db_path() -> Path:
    """SPEC: ``$IMAGESCAN_DB``, else ``~/.cache/imagescan/imagescan.db``."""
    env = os.environ.get("IMAGESCAN_DB")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "imagescan" / "imagescan.db"


def default_cache_dir(out: Path) -> Path:
    return out.with_name(out.name + ".feeds")


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FeedStatus(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    kind: str
    url: str
    """Where the feed file came from (for ``yum`` feeds, the updateinfo URL the mirror list led to)."""
    status: FeedState
    """``downloaded`` (new content), ``unchanged`` (304 or same bytes), ``stale`` (this update failed; the previous
    copy was used), ``missing`` (failed, no copy: nothing from this feed), ``damaged`` (obtained but unreadable)."""
    error: str | None = None
    checked_at: str | None = None
    fetched_at: str | None = None
    """When the content in use was last confirmed current (downloaded or answered 304)."""

    @property
    def problem(self) -> bool:
        return self.status in PROBLEMS


class UpdateReport(BaseModel):
    out: Path
    cache_dir: Path
    feeds: list[FeedStatus]
    build: BuildReport
    requests: int
    downloaded_bytes: int

    @property
    def problems(self) -> list[FeedStatus]:
        return [f for f in self.feeds if f.problem]

    @property
    def ok(self) -> bool:
        return not self.problems and self.build.ok


@dataclass
class UpdateOptions:
    out: Path = field(default_factory=default_db_path)
    feeds: Sequence[Feed] = field(default_factory=default_feeds)
    cache_dir: Path | None = None
    mirror: str | None = None
    """Serve every URL, and the mirrors that mirror lists name, from ``MIRROR/HOST/PATH``."""
    retries: int = 3
    backoff: float = 1.0
    timeout: float = 60.0
    built_at: dt.datetime | None = None


@dataclass
class _Got:
    """One feed's usable file after the fetch phase."""

    path: Path
    url: str
    etag: str | None
    last_modified: str | None
    urls: list[str]


class _Cache:
    """The cache directory: files, and ``state.json`` (validators per URL, last good copy per feed)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state: dict[str, Any] = {"version": STATE_VERSION, "urls": {}, "feeds": {}}
        try:
            loaded = json.loads((root / STATE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError, RecursionError):
            return
        if (isinstance(loaded, dict) and loaded.get("version") == STATE_VERSION
                and isinstance(loaded.get("urls"), dict) and isinstance(loaded.get("feeds"), dict)):
            self.state = loaded

    @property
    def urls(self) -> dict[str, Any]:
        return self.state["urls"]  # type: ignore[no-any-return]

    @property
    def feeds(self) -> dict[str, Any]:
        return self.state["feeds"]  # type: ignore[no-any-return]

    def validators(self, url: str, rel: str) -> Validators | None:
        entry = self.urls.get(url)
        if not isinstance(entry, dict) or entry.get("file") != rel:
            return None
        return Validators(entry.get("etag"), entry.get("last_modified"))

    def forget(self, urls: Sequence[str]) -> None:
        for url in urls:
            self.urls.pop(url, None)

    def prune(self) -> None:
        """Drop validators no feed's copy came from (a yum mirror that moved, a feed URL that changed)."""
        wanted = {url for entry in self.feeds.values() if isinstance(entry, dict)
                  for url in entry.get("urls") or []}
        for url in [u for u in self.urls if u not in wanted]:
            del self.urls[url]

    def save(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".state.", suffix=".tmp", dir=self.root)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(self.state, f, indent=1, sort_keys=True)
        os.replace(tmp, self.root / STATE_FILE)


def _repomd_updateinfo(path: Path) -> str:
    """The ``location/@href`` of the ``updateinfo`` data in a yum ``repomd.xml``."""
    try:
        root = fromstring(path.read_bytes())
    except (DefusedXmlException, ParseError, OSError) as exc:
        raise FeedError(f"repomd.xml: unreadable: {exc}") from exc
    for data in root.iter():
        if data.tag.rsplit("}", 1)[-1] == "data" and data.get("type") == "updateinfo":
            for child in data:
                if child.tag.rsplit("}", 1)[-1] == "location" and child.get("href"):
                    return str(child.get("href"))
    raise FeedError("repomd.xml names no updateinfo")


def _mirrors(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise FeedError(f"mirror list unreadable: {exc}") from exc
    mirrors = [line.strip() for line in text.splitlines()
               if line.strip().startswith(("http://", "https://")) and not line.strip().startswith("#")]
    if not mirrors:
        raise FeedError("mirror list names no http(s) mirror")
    return mirrors


def _join(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


class _Updater:
    def __init__(self, options: UpdateOptions, cache: _Cache, fetcher: Fetcher, log: Log) -> None:
        self.options = options
        self.cache = cache
        self.fetcher = fetcher
        self.log = log
        self.now = _now()

    def _get(self, url: str, rel: str, used: list[str]) -> Fetched:
        used.append(url)
        fetched = self.fetcher.get(url, self.cache.root / rel, self.cache.validators(url, rel))
        self.cache.urls[url] = {"file": rel, "etag": fetched.etag, "last_modified": fetched.last_modified}
        return fetched

    def _yum(self, feed: Feed, rel: str, used: list[str]) -> Fetched:
        stem = rel[: -len(feed.suffix)] if feed.suffix and rel.endswith(feed.suffix) else rel
        self._get(feed.url, f"{stem}.mirror.list", used)
        error: Exception | None = None
        for mirror in _mirrors(self.cache.root / f"{stem}.mirror.list"):
            base = mirror_url(mirror, self.options.mirror) if self.options.mirror else mirror
            try:
                repomd = f"{stem}.repomd.xml"
                self._get(_join(base, "repodata/repomd.xml"), repomd, used)
                href = _repomd_updateinfo(self.cache.root / repomd)
                return self._get(_join(base, href), rel, used)
            except (FetchError, FeedError) as exc:
                error = exc
        raise FetchError(f"{feed.url}: no mirror served updateinfo ({error})")

    def _eol(self, feed: Feed, rel: str, used: list[str]) -> Fetched:
        stem = rel[: -len(feed.suffix)] if feed.suffix and rel.endswith(feed.suffix) else rel
        api = f"{stem}.api.json"
        fetched = self._get(feed.url, api, used)
        target = self.cache.root / rel
        if fetched.status == "downloaded" or not target.is_file():
            try:
                doc = json.loads((self.cache.root / api).read_bytes())
            except (OSError, ValueError, RecursionError) as exc:
                raise FeedError(f"{feed.url}: not JSON: {exc}") from exc
            converted = convert_eol(doc, feed.name.rsplit("/", 1)[-1].lower(), feed.url)
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_text(json.dumps(converted, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(tmp, target)
        return fetched

    def fetch(self, feed: Feed) -> tuple[FeedStatus, _Got | None]:
        rel = feed.name + feed.suffix
        url = mirror_url(feed.url, self.options.mirror) if self.options.mirror else feed.url
        feed = Feed(feed.name, feed.kind, url, feed.suffix)
        previous = self.cache.feeds.get(feed.name) if isinstance(self.cache.feeds.get(feed.name), dict) else None
        used: list[str] = []
        try:
            if feed.kind == "yum":
                fetched = self._yum(feed, rel, used)
            elif feed.kind == "eol":
                fetched = self._eol(feed, rel, used)
            else:
                fetched = self._get(feed.url, rel, used)
        except FeedError as exc:
            self.cache.forget(used)  # the bytes came but are unusable: download them again next time
            return self._failed(feed, rel, previous, str(exc))
        except (FetchError, OSError) as exc:
            return self._failed(feed, rel, previous, str(exc))
        changed = fetched.status == "downloaded" and (previous or {}).get("sha256") != fetched.sha256
        sha = fetched.sha256 if fetched.status == "downloaded" else (previous or {}).get("sha256")
        self.cache.feeds[feed.name] = {"file": rel, "url": fetched.url, "etag": fetched.etag,
                                       "last_modified": fetched.last_modified, "sha256": sha,
                                       "fetched_at": self.now, "urls": used}
        status = FeedStatus(name=feed.name, kind=feed.kind, url=fetched.url,
                            status="downloaded" if changed else "unchanged", checked_at=self.now,
                            fetched_at=self.now)
        return status, _Got(self.cache.root / rel, fetched.url, fetched.etag, fetched.last_modified, used)

    def _failed(self, feed: Feed, rel: str, previous: dict[str, Any] | None, error: str
                ) -> tuple[FeedStatus, _Got | None]:
        error = " ".join(error.split())
        if previous and previous.get("file") == rel and (self.cache.root / rel).is_file():
            status = FeedStatus(name=feed.name, kind=feed.kind, url=str(previous.get("url") or feed.url),
                                status="stale", error=error, checked_at=self.now,
                                fetched_at=previous.get("fetched_at"))
            got = _Got(self.cache.root / rel, status.url, previous.get("etag"), previous.get("last_modified"),
                       list(previous.get("urls") or []))
            self.log(f"{feed.name}: {error}; using the copy of {status.fetched_at}")
            return status, got
        self.log(f"{feed.name}: {error}; no earlier copy, left out")
        return FeedStatus(name=feed.name, kind=feed.kind, url=feed.url, status="missing", error=error,
                          checked_at=self.now), None


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_meta(path: Path, statuses: list[FeedStatus], when: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        rows = [(META_FEEDS, json.dumps([s.model_dump(mode="json") for s in statuses], sort_keys=True)),
                ("updated_at", when)]
        conn.execute("BEGIN")
        conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", rows)
        conn.execute("COMMIT")
    finally:
        conn.close()


def update_database(options: UpdateOptions, log: Log | None = None) -> UpdateReport:
    """Download the feeds of ``options`` (conditionally) and build ``options.out`` from them.

    Raises :class:`VulnDBError` when no feed gave any usable file (the old database is then left as it was).
    """
    say: Log = log or (lambda message: None)
    feeds = check_feeds(options.feeds)
    out = Path(options.out).expanduser()
    cache_root = Path(options.cache_dir) if options.cache_dir else default_cache_dir(out)
    fetcher = Fetcher(retries=options.retries, backoff=options.backoff, timeout=options.timeout)
    with _locked(cache_root):
        cache = _Cache(cache_root)
        updater = _Updater(options, cache, fetcher, say)
        statuses: list[FeedStatus] = []
        got: dict[str, _Got] = {}
        try:
            for feed in feeds:
                status, usable = updater.fetch(feed)
                statuses.append(status)
                if usable is not None:
                    got[feed.name] = usable
                say(f"{feed.name}: {status.status}")
        finally:
            fetcher.close()
            cache.prune()
            cache.save()
        if not got:
            first = "; ".join(s.error or s.status for s in statuses[:3])
            raise VulnDBError(f"no feed could be downloaded ({first}); {out} left as it was")
        specs = [SourceSpec(path=g.path, name=name, url=g.url, etag=g.etag, last_modified=g.last_modified)
                 for name, g in got.items()]
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".update", dir=out.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            report = build_database(specs, tmp, built_at=options.built_at)
            damaged = {problem.path: problem.reason for problem in report.errors}
            for status in statuses:
                usable = got.get(status.name)
                if usable is not None and str(usable.path) in damaged:
                    status.status, status.error = "damaged", damaged[str(usable.path)]
                    cache.forget(usable.urls)
                    say(f"{status.name}: damaged: {status.error}")
            cache.save()
            _write_meta(tmp, statuses, updater.now)
            os.replace(tmp, out)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    report = report.model_copy(update={"out": out})
    return UpdateReport(out=out, cache_dir=cache_root, feeds=statuses, build=report, requests=fetcher.requests,
                        downloaded_bytes=fetcher.downloaded_bytes)


def feed_statuses(db: VulnDB) -> list[FeedStatus]:
    """The feed statuses recorded by the ``db update`` that built ``db`` (empty for ``db build`` files)."""
    raw = db.meta.get(META_FEEDS)
    if not raw:
        return []
    try:
        items = json.loads(raw)
    except ValueError:
        return []
    out: list[FeedStatus] = []
    for item in items if isinstance(items, list) else []:
        with contextlib.suppress(ValueError):
            out.append(FeedStatus.model_validate(item))
    return out
