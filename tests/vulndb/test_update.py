"""``db update`` against a local HTTP server serving the feeds in their real formats (tests/vulndb/feedserver.py).

Nothing here may reach anything but 127.0.0.1: every URL goes through the mirror, and a guard on socket connect
fails the test otherwise.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagescan.vulndb.eolapi import convert as convert_eol
from imagescan.vulndb.errors import FeedError, VulnDBError
from imagescan.vulndb.sources import Feed, check_feeds, default_feeds, load_feeds_file, mirror_url
from imagescan.vulndb.store import VulnDB
from imagescan.vulndb.update import UpdateOptions, UpdateReport, feed_statuses, update_database
from tests.vulndb.conftest import DATA, need_shared
from tests.vulndb.feedserver import FeedServer, feed_files, loopback_only, serve, served_feeds  # noqa: F401

BUILT_AT = dt.datetime(2026, 11, 26, 12, 0, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    need_shared()
    return feed_files(DATA)


@pytest.fixture
def server(files: dict[str, bytes]) -> Iterator[FeedServer]:
    yield from serve(files)


def _path(feed_name: str) -> str:
    feed = next(f for f in served_feeds() if f.name == feed_name)
    return mirror_url(feed.url, "")


def _update(server: FeedServer, out: Path, feeds: list[Feed] | None = None, **kw: Any) -> UpdateReport:
    options = UpdateOptions(out=out, feeds=feeds or served_feeds(), mirror=server.base, retries=kw.pop("retries", 2),
                            backoff=0.01, timeout=5.0, built_at=kw.pop("built_at", BUILT_AT), **kw)
    return update_database(options)


def _status(report: UpdateReport) -> dict[str, str]:
    return {f.name: f.status for f in report.feeds}


def _dump(path: Path) -> list[str]:
    """Every row of every table except the update's own bookkeeping in meta."""
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        rows = []
        for table in tables:
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):
                if table == "meta" and row[0] in ("feeds", "updated_at"):
                    continue
                rows.append(f"{table}: {row!r}")
        return rows
    finally:
        conn.close()


def test_first_update_downloads_every_feed(server: FeedServer, tmp_path: Path) -> None:
    out = tmp_path / "db" / "imagescan.db"
    report = _update(server, out)
    assert report.ok, report.problems
    assert set(_status(report).values()) == {"downloaded"}
    assert {r.path for r in server.requests} == set(server.files)  # the whole yum chain included
    assert all(r.status == 200 for r in server.requests)
    assert not any("If-None-Match" in r.headers or "If-Modified-Since" in r.headers for r in server.requests)
    with VulnDB(out) as db:
        info = db.info()
        sources = {s.name: s for s in info.sources}
        assert set(sources) == {f.name for f in served_feeds()}
        assert sources["kev"].records == 1404 and sources["kev"].etag and sources["kev"].url
        assert sources["kev"].url == server.base + _path("kev")
        assert sources["alas/al2023"].url.endswith("-updateinfo.xml.gz")
        assert {s.name: s.format for s in info.sources}["alas/al2023"] == "alas"
        assert info.ecosystems["Amazon Linux:2023"] > 0 and info.ecosystems["Alpine:v3.18"] > 0
        assert info.ecosystems["Debian:12"] > 0 and info.ecosystems["PyPI"] > 0 and info.ecosystems["npm"] > 0
        assert db.kev("CVE-2021-44228") is not None and db.epss("CVE-2021-44228") is not None
        assert [c.cycle for c in db.eol("debian")][:2] == ["13", "12"]
        assert db.eol("alpine")  # alias from the API's aliases
        assert all(f.status == "downloaded" and f.fetched_at for f in feed_statuses(db))
    assert report.build.counts["vulnerability"] > 0
    assert (report.cache_dir / "state.json").is_file() and report.cache_dir == tmp_path / "db" / "imagescan.db.feeds"


def test_eol_from_the_api_equals_the_shared_table(server: FeedServer, tmp_path: Path) -> None:
    out = tmp_path / "api.db"
    _update(server, out, feeds=[f for f in served_feeds() if f.name.startswith("eol/")])
    table = json.loads((DATA / "eol" / "eol.json").read_text())
    with VulnDB(out) as db:
        for product in ("debian", "alpine-linux"):
            cycles = db.eol(product)
            assert [c.cycle for c in cycles] == [c["cycle"] for c in table[product]]
            for got, want in zip(cycles, table[product], strict=True):
                eol = want["eol"] if isinstance(want["eol"], bool) else dt.date.fromisoformat(want["eol"])
                assert got.eol == eol and got.latest == want.get("latest") and got.codename == want.get("codename")


def test_second_update_is_conditional_and_changes_nothing(server: FeedServer, tmp_path: Path) -> None:
    out = tmp_path / "imagescan.db"
    _update(server, out)
    first = _dump(out)
    server.no_etag.add(_path("kev"))  # this one validates with Last-Modified only
    server.clear()
    report = _update(server, out)
    assert report.ok and set(_status(report).values()) == {"unchanged"}
    assert report.downloaded_bytes == 0
    assert server.requests and all(r.status == 304 for r in server.requests)
    for request in server.requests:
        assert "If-None-Match" in request.headers or "If-Modified-Since" in request.headers, request.path
    assert "If-Modified-Since" in server.hits(_path("kev"))[0].headers
    assert _dump(out) == first


def test_changed_feed_is_downloaded_again(server: FeedServer, tmp_path: Path) -> None:
    out = tmp_path / "imagescan.db"
    _update(server, out)
    doc = json.loads(server.files[_path("kev")])
    doc["vulnerabilities"] = doc["vulnerabilities"][:100]
    doc["catalogVersion"] = "2026.11.26"
    server.set(_path("kev"), json.dumps(doc).encode())
    server.clear()
    report = _update(server, out)
    status = _status(report)
    assert status.pop("kev") == "downloaded" and set(status.values()) == {"unchanged"}
    assert [r.status for r in server.hits(_path("kev"))] == [200]
    with VulnDB(out) as db:
        kev = next(s for s in db.info().sources if s.name == "kev")
        assert kev.records == 100 and kev.version == "2026.11.26"


def test_server_errors_are_retried(server: FeedServer, tmp_path: Path) -> None:
    server.failures[_path("kev")] = [500, 503]
    server.failures[_path("epss")] = [0]  # body cut short once
    report = _update(server, tmp_path / "imagescan.db")
    assert report.ok
    assert [r.status for r in server.hits(_path("kev"))] == [500, 503, 200]
    assert [r.status for r in server.hits(_path("epss"))] == [0, 200]
    with VulnDB(tmp_path / "imagescan.db") as db:
        assert db.kev("CVE-2021-44228") is not None and db.epss("CVE-2021-44228") is not None


def test_a_failing_feed_does_not_lose_the_others(server: FeedServer, tmp_path: Path) -> None:
    out = tmp_path / "imagescan.db"
    server.always[_path("epss")] = 500
    report = _update(server, out, retries=1)
    status = _status(report)
    assert status.pop("epss") == "missing" and set(status.values()) == {"downloaded"}
    epss = next(f for f in report.feeds if f.name == "epss")
    assert epss.error and "HTTP 500" in epss.error and "\n" not in epss.error
    assert len(server.hits(_path("epss"))) == 2  # the request and its one retry
    with VulnDB(out) as db:
        assert db.kev("CVE-2021-44228") is not None and db.epss("CVE-2021-44228") is None
        assert {f.name: f.status for f in feed_statuses(db)}["epss"] == "missing"


def test_a_feed_failing_later_keeps_its_previous_copy(server: FeedServer, tmp_path: Path) -> None:
    out = tmp_path / "imagescan.db"
    first = next(f for f in _update(server, out).feeds if f.name == "kev")
    server.always[_path("kev")] = 404
    server.always[_path("alas/al2023")] = 503
    report = _update(server, out, retries=0)
    status = _status(report)
    assert status["kev"] == "stale" and status["alas/al2023"] == "stale"
    with VulnDB(out) as db:
        assert db.kev("CVE-2021-44228") is not None  # from the cached copy
        assert db.info().ecosystems["Amazon Linux:2023"] > 0
        recorded = {f.name: f for f in feed_statuses(db)}
        assert recorded["kev"].status == "stale" and "HTTP 404" in (recorded["kev"].error or "")
        assert recorded["kev"].fetched_at == first.fetched_at  # when the copy in use was downloaded
        kev_source = next(s for s in db.info().sources if s.name == "kev")
        assert kev_source.etag  # the validators of the copy in use


def test_damaged_download_is_reported_and_fetched_again(server: FeedServer, tmp_path: Path) -> None:
    out = tmp_path / "imagescan.db"
    good = server.files[_path("osv/npm")]
    server.set(_path("osv/npm"), good[: len(good) // 2])  # a truncated zip
    report = _update(server, out)
    npm = next(f for f in report.feeds if f.name == "osv/npm")
    assert npm.status == "damaged" and npm.error
    assert not report.ok and report.build.errors
    with VulnDB(out) as db:
        assert "npm" not in db.ecosystems() and db.has_ecosystem("PyPI")
    server.set(_path("osv/npm"), good)
    server.clear()
    report = _update(server, out)
    assert _status(report)["osv/npm"] == "downloaded" and report.ok
    assert "If-None-Match" not in server.hits(_path("osv/npm"))[0].headers  # its validators were dropped
    with VulnDB(out) as db:
        assert db.has_ecosystem("npm")


def test_yum_feed_tries_the_next_mirror(server: FeedServer, tmp_path: Path) -> None:
    mirror_list = _path("alas/al2023")
    good = server.files[mirror_list].decode().strip()
    broken = "https://cdn.amazonlinux.com/al2023/core/guids/gone/x86_64/"
    server.set(mirror_list, f"# mirrors\n{broken}\n{good}\n".encode())
    report = _update(server, tmp_path / "imagescan.db", feeds=[f for f in served_feeds() if f.name == "alas/al2023"])
    assert report.ok
    assert [r.status for r in server.hits(mirror_url(broken + "repodata/repomd.xml", ""))] == [404]


def test_nothing_downloaded_leaves_the_old_database(server: FeedServer, tmp_path: Path) -> None:
    out = tmp_path / "imagescan.db"
    out.write_bytes(b"the old database")
    for feed in served_feeds():
        server.always[_path(feed.name)] = 500
    with pytest.raises(VulnDBError, match="no feed could be downloaded"):
        _update(server, out, retries=0)
    assert out.read_bytes() == b"the old database"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".imagescan.db.")]


def test_connection_refused_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    feeds = [Feed("kev", "download", "https://www.cisa.gov/kev.json")]
    options = UpdateOptions(out=tmp_path / "x.db", feeds=feeds, mirror=f"http://127.0.0.1:{port}", retries=1,
                            backoff=0.01, timeout=2.0)
    with pytest.raises(VulnDBError) as info:
        update_database(options)
    assert "\n" not in str(info.value) and "kev.json" in str(info.value)


def test_cache_holds_plain_feed_files(server: FeedServer, tmp_path: Path) -> None:
    report = _update(server, tmp_path / "imagescan.db")
    cache = report.cache_dir
    assert gzip.decompress((cache / "epss.csv.gz").read_bytes()).startswith(b"#model_version:")
    assert (cache / "alas" / "al2023.xml.gz").is_file() and (cache / "alas" / "al2023.mirror.list").is_file()
    eol = json.loads((cache / "eol" / "debian.json").read_text())
    assert eol["debian"][0]["cycle"] == "13" and eol["_meta"]["products"]["debian"]["aliases"] == []
    state = json.loads((cache / "state.json").read_text())
    assert state["version"] == 1 and set(state["feeds"]) == {f.name for f in served_feeds()}


# --- feed configuration and the endoflife.date conversion ----------------------------------------------------------


def test_mirror_url_keeps_host_path_and_query() -> None:
    assert mirror_url("https://endoflife.date/api/v1/products/go", "http://127.0.0.1:8/m/") == (
        "http://127.0.0.1:8/m/endoflife.date/api/v1/products/go")
    assert mirror_url("https://h.example/a?b=c", "http://x") == "http://x/h.example/a?b=c"


def test_default_feeds_cover_every_source() -> None:
    feeds = {f.name: f for f in check_feeds(default_feeds())}
    for eco in ("PyPI", "npm", "Go", "Maven", "RubyGems", "Packagist", "NuGet", "crates.io", "Debian", "Alpine"):
        assert feeds[f"osv/{eco}"].url.endswith(f"/{eco}/all.zip")
    assert feeds["alas/amzn2"].kind == feeds["alas/al2023"].kind == "yum"
    assert {"debian-tracker", "kev", "epss", "eol/debian", "alpine-secdb/v3.18-main",
            "alpine-secdb/v3.18-community"} <= set(feeds)


@pytest.mark.parametrize(("doc", "message"), [
    ("not json", "cannot read"),
    ("[]", "non-empty"),
    ('[{"name": "a"}]', "needs a string name and url"),
    ('[{"name": "../x", "url": "http://h/x"}]', "letters, digits"),
    ('[{"name": "a", "url": "file:///etc/passwd"}]', "not an http"),
    ('[{"name": "a", "url": "http://h/a"}, {"name": "a", "url": "http://h/b"}]', "twice"),
    ('{"feeds": [{"name": "a", "url": "http://h/a", "suffix": "/../../x"}]}', "suffix"),
])
def test_feeds_file_errors(tmp_path: Path, doc: str, message: str) -> None:
    path = tmp_path / "feeds.json"
    path.write_text(doc)
    with pytest.raises(VulnDBError, match=message):
        load_feeds_file(path)


def test_feeds_file(tmp_path: Path) -> None:
    path = tmp_path / "feeds.json"
    path.write_text(json.dumps({"feeds": [{"name": "kev", "url": "https://h/kev.json", "suffix": ".json"},
                                          {"name": "eol/go", "kind": "eol", "url": "https://h/go"}]}))
    assert load_feeds_file(path) == [Feed("kev", "download", "https://h/kev.json", ".json"),
                                     Feed("eol/go", "eol", "https://h/go")]


def test_eol_v1_conversion() -> None:
    doc = {"result": {"name": "go", "aliases": ["golang", "Golang"], "label": "Go", "releases": [
        {"name": "1.25", "releaseDate": "2025-08-12", "isLts": False, "ltsFrom": None, "isEol": False,
         "eolFrom": None, "isMaintained": True, "latest": {"name": "1.25.0", "date": "2025-08-12"}},
        {"name": "1.23", "releaseDate": "2024-08-13", "isEol": True, "eolFrom": "2025-08-12", "isLts": False,
         "isEoas": True, "eoasFrom": None, "latest": {"name": "1.23.12", "date": "2025-08-06"}},
        {"name": "1.0", "isEol": True, "eolFrom": None},
    ]}}
    out = convert_eol(doc, "ignored", "test")
    assert out["_meta"]["products"] == {"go": {"aliases": ["golang"], "title": "Go"}}
    first, second, third = out["go"]
    assert (first["cycle"], first["eol"], first["lts"], first["latest"]) == ("1.25", False, False, "1.25.0")
    assert (second["eol"], second["eoas"], second["latestReleaseDate"]) == ("2025-08-12", True, "2025-08-06")
    assert third["eol"] is True and "eoas" not in third


def test_eol_v0_list_conversion() -> None:
    out = convert_eol([{"cycle": "3.12", "eol": "2028-10-31", "latest": "3.12.7"}, {"cycle": 2}], "python", "t")
    assert [c["cycle"] for c in out["python"]] == ["3.12", "2"] and out["python"][1]["eol"] is None


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["result", "name", "releases", "aliases", "eolFrom", "isEol", "latest", "cycle", "x"]),
        inner, max_size=5),
    max_leaves=20,
)


@given(_json)
@settings(max_examples=300, deadline=None)
def test_eol_conversion_never_crashes(doc: object) -> None:
    try:
        out = convert_eol(doc, "p", "fuzz")
    except FeedError:
        return
    assert isinstance(out, dict) and out["_meta"]["products"]
    json.dumps(out)
