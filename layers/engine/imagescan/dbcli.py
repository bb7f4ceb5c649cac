"""``imagescan db build|update|info``: the vulnerability database commands (SPEC), called from :mod:`imagescan.cli`.

Exit codes: ``db build`` 0, or 2 when a feed file could not be read (one line per file on stderr; the database
still holds everything else) or nothing could be built. ``db update`` 0; 1 when the database was built but a feed
is stale, missing or damaged (one line per feed on stderr); 2 when no database could be written. ``db info`` 0, or
2 when the file is missing or not a database; a database older than ``--max-age`` days gets a warning on stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imagescan.vulndb.errors import VulnDBError

if TYPE_CHECKING:  # the builder and the feed code are imported by the command that runs: `scan` starts faster
    from imagescan.vulndb.models import BuildReport, DbInfo
    from imagescan.vulndb.update import FeedStatus, UpdateReport

EXIT_OK, EXIT_PROBLEMS, EXIT_ERROR = 0, 1, 2
MAX_AGE_DAYS = 7
_COUNT_ORDER = ("vulnerability", "affected", "alias", "alias_group", "kev", "epss", "eol_cycle", "eol_alias")


def add_db_parser(commands: Any) -> None:
    """Add ``db`` and its subcommands to the top-level subparsers ``commands``."""
    db = commands.add_parser("db", help="build, update or describe the vulnerability database")
    sub = db.add_subparsers(dest="db_command", required=True, metavar="{build,update,info}")
    build = sub.add_parser("build", help="offline: build the database from local feed files")
    build.add_argument("--from", dest="sources", action="append", required=True, type=Path, metavar="PATH",
                       help="a feed file or a directory of them (repeatable)")
    build.add_argument("--out", required=True, type=Path, metavar="FILE")
    update = sub.add_parser("update", help="online: download the feeds (incrementally) and build the database",
                            description="Exit 0 when every feed is current, 1 when the database was built but "
                            "some feed is stale, missing or damaged, 2 when no database could be written.")
    update.add_argument("--out", type=Path, metavar="FILE", help="default: $IMAGESCAN_DB, else "
                        "~/.cache/imagescan/imagescan.db")
    update.add_argument("--mirror", metavar="BASE", help="fetch every URL https://HOST/PATH as BASE/HOST/PATH")
    update.add_argument("--feeds", type=Path, metavar="FILE",
                        help='JSON list of {"name", "kind": "download"|"yum"|"eol", "url"} replacing the built-in '
                        "feeds")
    update.add_argument("--cache-dir", type=Path, metavar="DIR", help="where downloads are kept (default: beside "
                        "the database, FILE.feeds)")
    update.add_argument("--retries", type=int, default=3, metavar="N", help="retries per request (default 3)")
    update.add_argument("--list-feeds", action="store_true", help="print the feeds and their URLs, and exit")
    info = sub.add_parser("info", help="sources, record counts, build time and age of the database")
    info.add_argument("--db", type=Path, metavar="FILE", help="default: $IMAGESCAN_DB, else "
                      "~/.cache/imagescan/imagescan.db")
    info.add_argument("--format", choices=("table", "json"), default="table")
    info.add_argument("--max-age", type=float, default=MAX_AGE_DAYS, metavar="DAYS",
                      help=f"warn when the database is older than this (default {MAX_AGE_DAYS})")


def _err(message: str) -> None:
    print(f"imagescan: {message}", file=sys.stderr)


def human_age(age: dt.timedelta) -> str:
    seconds = int(age.total_seconds())
    if seconds < 0:
        return "in the future"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def _counts(counts: dict[str, int]) -> str:
    keys = [k for k in _COUNT_ORDER if k in counts] + sorted(k for k in counts if k not in _COUNT_ORDER)
    return ", ".join(f"{k} {counts[k]}" for k in keys)


def _build_summary(report: BuildReport) -> list[str]:
    lines = [f"built {report.out} in {report.duration_seconds:.1f} s (schema {report.schema_version}, "
             f"{report.built_at.strftime('%Y-%m-%dT%H:%M:%SZ')})",
             f"sources: {len(report.sources)}"]
    width = max((len(s.name) for s in report.sources), default=0)
    for s in report.sources:
        extra = "".join(f", {label} {value}" for label, value in
                        (("withdrawn", s.withdrawn), ("skipped", s.skipped), ("merged", s.merged)) if value)
        version = f" [{s.version}]" if s.version else ""
        lines.append(f"  {s.name:<{width}}  {s.format:<14} records {s.records}{extra}{version}")
    lines.append(f"records: {_counts(report.counts)}")
    if report.ignored_files:
        lines.append(f"ignored: {len(report.ignored_files)} file(s) that are not feeds")
    lines.append(f"errors: {len(report.errors)}")
    return lines


def run_build(args: argparse.Namespace) -> int:
    from imagescan.vulndb.builder import build_database

    try:
        report = build_database(args.sources, args.out)
    except VulnDBError as exc:
        _err(f"db build: {exc}")
        return EXIT_ERROR
    except OSError as exc:
        _err(f"db build: {exc.strerror or exc}: {exc.filename or args.out}")
        return EXIT_ERROR
    print("\n".join(_build_summary(report)))
    for problem in report.errors:
        _err(f"db build: {problem.path}: {problem.reason}")
    return EXIT_OK if report.ok else EXIT_ERROR


def _update_summary(report: UpdateReport) -> list[str]:
    tally: dict[str, int] = {}
    for feed in report.feeds:
        tally[feed.status] = tally.get(feed.status, 0) + 1
    states = ", ".join(f"{n} {state}" for state, n in sorted(tally.items()))
    return [f"updated {report.out}: {len(report.feeds)} feeds ({states}); {report.requests} requests, "
            f"{_size(report.downloaded_bytes)} downloaded", *_build_summary(report.build)]


def _feed_problem(feed: FeedStatus) -> str:
    if feed.status == "stale":
        return f"feed {feed.name} is stale (copy of {feed.fetched_at} used): {feed.error}"
    if feed.status == "missing":
        return f"feed {feed.name} is missing from the database: {feed.error}"
    return f"feed {feed.name} is damaged and contributed nothing: {feed.error}"


def run_update(args: argparse.Namespace) -> int:
    from imagescan.vulndb.sources import default_feeds, load_feeds_file
    from imagescan.vulndb.update import UpdateOptions, default_db_path, update_database

    try:
        feeds = load_feeds_file(args.feeds) if args.feeds else default_feeds()
    except VulnDBError as exc:
        _err(f"db update: {exc}")
        return EXIT_ERROR
    if args.list_feeds:
        for feed in feeds:
            print(f"{feed.name}\t{feed.kind}\t{feed.url}")
        return EXIT_OK
    options = UpdateOptions(out=args.out or default_db_path(), feeds=feeds, cache_dir=args.cache_dir,
                            mirror=args.mirror, retries=max(0, args.retries))
    progress = sys.stderr.isatty()

    def log(message: str) -> None:
        if progress:
            print(message, file=sys.stderr)

    try:
        report = update_database(options, log=log)
    except (VulnDBError, OSError) as exc:
        _err(f"db update: {exc}")
        return EXIT_ERROR
    print("\n".join(_update_summary(report)))
    for problem in report.problems:
        _err(f"db update: {_feed_problem(problem)}")
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def info_document(info: DbInfo, feeds: list[FeedStatus], max_age_days: float) -> dict[str, Any]:
    return {
        "path": str(info.path),
        "schema_version": info.schema_version,
        "built_at": info.built_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "age_seconds": int(info.age.total_seconds()),
        "age": human_age(info.age),
        "outdated": info.age > dt.timedelta(days=max_age_days),
        "counts": info.counts,
        "ecosystems": info.ecosystems,
        "sources": [s.model_dump(mode="json", exclude={"notes"}) for s in info.sources],
        "feeds": [f.model_dump(mode="json") for f in feeds],
    }


def _info_table(doc: dict[str, Any]) -> list[str]:
    lines = [f"database:   {doc['path']} (schema {doc['schema_version']})",
             f"built:      {doc['built_at']} ({doc['age']})",
             f"records:    {_counts(doc['counts'])}",
             "ecosystems: " + (", ".join(f"{k} {v}" for k, v in doc["ecosystems"].items()) or "none")]
    sources = doc["sources"]
    lines.append(f"sources:    {len(sources)}")
    width = max((len(s["name"]) for s in sources), default=0)
    for s in sources:
        where = s["url"] or s["location"]
        lines.append(f"  {s['name']:<{width}}  {s['format']:<14} {s['records']:>8} records  {where}")
    if doc["feeds"]:
        lines.append("feeds (last db update):")
        width = max(len(f["name"]) for f in doc["feeds"])
        for f in doc["feeds"]:
            when = f"fetched {f['fetched_at']}" if f["fetched_at"] else "never fetched"
            error = f"  ({f['error']})" if f["error"] else ""
            lines.append(f"  {f['name']:<{width}}  {f['status']:<10} {when}{error}")
    return lines


def run_info(args: argparse.Namespace) -> int:
    from imagescan.vulndb.store import VulnDB
    from imagescan.vulndb.update import default_db_path, feed_statuses

    path = args.db or default_db_path()
    try:
        with VulnDB(path) as db:
            info = db.info()
            feeds = feed_statuses(db)
    except (VulnDBError, OSError) as exc:
        _err(f"db info: {exc}")
        return EXIT_ERROR
    doc = info_document(info, feeds, args.max_age)
    if args.format == "json":
        print(json.dumps(doc, indent=2))
    else:
        print("\n".join(_info_table(doc)))
    if doc["outdated"]:
        _err(f"warning: the database was built {doc['age']} (over {args.max_age:g} days): run `imagescan db "
             "update`")
    for feed in feeds:
        if feed.problem:
            _err(f"warning: {_feed_problem(feed)}")
    return EXIT_OK


def run_db(args: argparse.Namespace) -> int:
    if args.db_command == "build":
        return run_build(args)
    if args.db_command == "update":
        return run_update(args)
    return run_info(args)
