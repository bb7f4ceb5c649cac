"""``imagescan db build|update|info`` end to end through the command line (in process). ``db update`` talks only to
the local feed server of tests/vulndb/feedserver.py."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from imagescan.cli import run
from imagescan.vulndb.builder import build_database
from imagescan.vulndb.sources import mirror_url
from tests.vulndb.conftest import DATA, SAMPLES, need_shared
from tests.vulndb.feedserver import FeedServer, feed_files, loopback_only, serve, served_feeds  # noqa: F401


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    need_shared()
    return feed_files(DATA)


@pytest.fixture
def server(files: dict[str, bytes]) -> Iterator[FeedServer]:
    yield from serve(files)


@pytest.fixture
def feeds_file(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.json"
    path.write_text(json.dumps([{"name": f.name, "kind": f.kind, "url": f.url, "suffix": f.suffix}
                                for f in served_feeds()]))
    return path


def _update(server: FeedServer, feeds: Path, *extra: str) -> int:
    return run(["db", "update", "--mirror", server.base, "--feeds", str(feeds), *extra])


def test_build_prints_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "db.sqlite"
    assert run(["db", "build", "--from", str(SAMPLES), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert f"built {out}" in captured.out and "sources: 3" in captured.out and "errors: 0" in captured.out
    assert "debian-tracker.json" in captured.out and "records: vulnerability" in captured.out
    assert captured.err == ""


def test_build_with_a_damaged_file_exits_2_with_one_line_per_error(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "feeds"
    bad.mkdir()
    (bad / "truncated.json").write_text('{"vulnerabilities": [')
    (bad / "broken.json.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    code = run(["db", "build", "--from", str(SAMPLES), "--from", str(bad), "--out", str(tmp_path / "x.db")])
    captured = capsys.readouterr()
    assert code == 2 and "errors: 2" in captured.out
    lines = captured.err.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("imagescan: db build: ") for line in lines)
    assert (tmp_path / "x.db").is_file()  # the rest is built


def test_build_of_nothing_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["db", "build", "--from", str(tmp_path / "nope"), "--out", str(tmp_path / "x.db")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err


def test_update_then_update_again(server: FeedServer, feeds_file: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "imagescan.db"
    assert _update(server, feeds_file, "--out", str(out)) == 0
    first = capsys.readouterr()
    assert f"updated {out}: {len(served_feeds())} feeds ({len(served_feeds())} downloaded)" in first.out
    assert first.err == ""  # no progress lines when stderr is not a terminal
    server.clear()
    assert _update(server, feeds_file, "--out", str(out)) == 0
    second = capsys.readouterr()
    assert f"({len(served_feeds())} unchanged)" in second.out and "0 B downloaded" in second.out
    assert all(r.status == 304 for r in server.requests)


def test_update_with_a_failing_feed_exits_1(server: FeedServer, feeds_file: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    server.always[mirror_url(next(f for f in served_feeds() if f.name == "epss").url, "")] = 500
    out = tmp_path / "imagescan.db"
    assert _update(server, feeds_file, "--out", str(out), "--retries", "0") == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("imagescan: db update: feed epss is missing") and "500" in lines[0]
    assert run(["db", "info", "--db", str(out)]) == 0
    info = capsys.readouterr()
    assert "epss" in info.out and "missing" in info.out
    assert "warning: feed epss is missing" in info.err


def test_update_with_nothing_reachable_exits_2(server: FeedServer, feeds_file: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    for feed in served_feeds():
        server.always[mirror_url(feed.url, "")] = 404
    assert _update(server, feeds_file, "--out", str(tmp_path / "x.db"), "--retries", "0") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no feed could be downloaded" in err
    assert not (tmp_path / "x.db").exists()


def test_update_default_out_is_imagescan_db(server: FeedServer, feeds_file: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("IMAGESCAN_DB", str(tmp_path / "env.db"))
    assert _update(server, feeds_file) == 0
    assert (tmp_path / "env.db").is_file() and (tmp_path / "env.db.feeds" / "state.json").is_file()
    capsys.readouterr()
    assert run(["db", "info", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["path"] == str(tmp_path / "env.db") and not doc["outdated"]
    assert {f["name"] for f in doc["feeds"]} == {f.name for f in served_feeds()}
    assert {s["name"] for s in doc["sources"]} == {f.name for f in served_feeds()}
    assert doc["counts"]["kev"] == 1404 and doc["age"] in ("just now", "1 minute ago")


def test_list_feeds(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["db", "update", "--list-feeds"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert ["kev", "download", "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"] \
        in rows
    assert any(r[0] == "alas/al2023" and r[1] == "yum" for r in rows)


def test_info_warns_about_an_old_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "old.db"
    build_database([SAMPLES], out, built_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=9, hours=2))
    assert run(["db", "info", "--db", str(out)]) == 0
    captured = capsys.readouterr()
    assert "(9 days ago)" in captured.out and "debian-tracker.json" in captured.out
    assert "Debian:12" in captured.out and "records:    vulnerability" in captured.out
    assert captured.err.strip() == ("imagescan: warning: the database was built 9 days ago (over 7 days): run "
                                    "`imagescan db update`")
    assert run(["db", "info", "--db", str(out), "--max-age", "30"]) == 0
    assert capsys.readouterr().err == ""


def test_info_of_a_missing_database_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["db", "info", "--db", str(tmp_path / "none.db")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no vulnerability database" in err
