from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from fixtures.imagebuilder import TarEntry
from imagescan.findings import Finding, IncompleteFinding, MisconfigurationFinding, Severity
from imagescan.hygiene.base_image import BaseImageCheck, point_releases_behind
from imagescan.hygiene.image_store import ImageRecord, SqliteImageStore, longest_prefix, parse_created
from imagescan.scan import ImageAnalysis
from imagescan.vulndb.models import Cycle
from imagescan.vulndb.store import VulnDB
from tests.hygiene.images import NOW, build_image, by_rule, context, misconfigs, run

CHECK = BaseImageCheck()
RECENT = (NOW - dt.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")



def _all(findings: list[Finding]) -> list[MisconfigurationFinding]:
    out = [f for f in findings if isinstance(f, MisconfigurationFinding)]
    assert len(out) == len(findings)
    return out


def _layers(n: int, tag: str = "") -> list[list[TarEntry]]:
    return [[TarEntry(f"layer{i}{tag}/file", data=f"{i}{tag}".encode())] for i in range(n)]


def test_point_releases_behind() -> None:
    debian = Cycle(product="debian", cycle="12", latest="12.15")
    assert point_releases_behind("12.5", debian) == 10
    assert point_releases_behind("12.15", debian) == 0 and point_releases_behind("12", debian) == 0
    assert point_releases_behind("12.16", debian) == 0 and point_releases_behind(None, debian) == 0
    alpine = Cycle(product="alpine-linux", cycle="3.18", latest="3.18.12")
    assert point_releases_behind("3.18.4", alpine) == 8
    assert point_releases_behind("2", Cycle(product="amazon-linux", cycle="2", latest="2.0.20260817.0")) == 0
    assert point_releases_behind("11.2", debian) == 0  # another release


def test_point_release_and_age_of_real_images(small_analysis: ImageAnalysis, debian_analysis: ImageAnalysis,
                                             eol_db: VulnDB) -> None:
    small = run(CHECK, small_analysis, context(eol_db))
    [point] = misconfigs(small, "os-point-release")
    assert point.title == "Debian 12.5 is 10 point releases behind 12.15" and point.severity == Severity.LOW
    assert point.path == "usr/lib/os-release" and "released 2026-07-11" in point.evidence
    [age] = misconfigs(small, "image-age")
    assert age.title == "Image was built 2 years ago (2024-01-01)" and age.config == "created"
    debian = run(CHECK, debian_analysis, context(eol_db))
    assert not by_rule(debian, "os-point-release")  # debootstrap installs the newest point release
    assert not by_rule(run(CHECK, small_analysis, context(None)), "os-point-release")  # no table, no claim


def test_recent_or_placeholder_creation_dates(tmp_path: Path) -> None:
    assert run(CHECK, build_image(tmp_path, _layers(1), created=RECENT)) == []
    assert run(CHECK, build_image(tmp_path, _layers(1), created="1970-01-01T00:00:00Z")) == []
    assert parse_created("2024-03-01T10:11:12.123456789Z") == dt.datetime(2024, 3, 1, 10, 11, 12, 123456,
                                                                          tzinfo=dt.UTC)
    assert parse_created("not a date") is None and parse_created(None) is None


def test_base_image_named_from_the_store(tmp_path: Path) -> None:
    store = tmp_path / "store" / "images.db"
    base = build_image(tmp_path, _layers(2), created="2025-01-15T00:00:00Z")
    app = build_image(tmp_path, [*_layers(2), [TarEntry("app/server", data=b"x")]], created=RECENT)
    other = build_image(tmp_path, _layers(3, "x"), created=RECENT)
    assert by_rule(run(CHECK, app, context(image_store=store)), "base-image") == []  # nothing known yet
    base_findings = _all(run(CHECK, base, context(image_store=store)))  # recorded; no base of its own
    assert [f.rule for f in base_findings] == ["image-age"]
    findings = run(CHECK, app, context(image_store=store))
    [named] = misconfigs(findings, "base-image")
    assert named.title == f"Base image: {base.reference}, built 1 year ago (2025-01-15)"
    assert named.evidence == f"layers 1-2 of 3 are {base.reference}@{base.digest}"
    assert named.severity == Severity.INFORMATIONAL and not by_rule(findings, "base-image-outdated")
    assert run(CHECK, other, context(image_store=store)) == []
    records = SqliteImageStore(store).with_bottom_layer(app.image.diff_ids[0])
    assert {r.digest for r in records} == {base.digest, app.digest}


def test_outdated_base_image(tmp_path: Path) -> None:
    store = SqliteImageStore(tmp_path / "images.db")
    app = build_image(tmp_path, [*_layers(2), [TarEntry("app/server", data=b"x")]], created=RECENT)
    ids = tuple(app.image.diff_ids)
    store.put(ImageRecord("sha256:old", "docker.io/library/debian:12", "2025-01-15T00:00:00Z", ids[:2]))
    store.put(ImageRecord("sha256:new", "docker.io/library/debian:12", "2025-06-20T00:00:00Z", ("sha256:other",)))
    findings = run(CHECK, app, context(image_store=store))
    [named] = misconfigs(findings, "base-image")
    assert named.title.startswith("Base image: docker.io/library/debian:12, built 1 year ago")
    [outdated] = misconfigs(findings, "base-image-outdated")
    assert outdated.severity == Severity.MEDIUM
    assert outdated.title == "Base image docker.io/library/debian:12 was rebuilt 5 months later (2025-06-20)"


def test_longest_prefix() -> None:
    ids = ("a", "b", "c", "d")
    one = ImageRecord("sha256:1", "one", "2024-01-01T00:00:00Z", ("a",))
    two = ImageRecord("sha256:2", "two", "2024-01-01T00:00:00Z", ("a", "b"))
    two_newer = ImageRecord("sha256:3", "two-newer", "2025-01-01T00:00:00Z", ("a", "b"))
    same = ImageRecord("sha256:4", "same", None, ids)
    itself = ImageRecord("sha256:me", "me", None, ("a", "b", "c"))
    diverging = ImageRecord("sha256:5", "x", None, ("a", "x", "c"))
    assert longest_prefix([one, two, same, itself, diverging], ids, "sha256:me") is two
    assert longest_prefix([one, two, two_newer], ids, "sha256:me") is two_newer
    assert longest_prefix([same, itself, diverging], ids, "sha256:me") is None
    assert longest_prefix([], ids, "sha256:me") is None


def test_store_failures_are_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    image = build_image(tmp_path, _layers(1), created=RECENT)
    [failure] = run(CHECK, image, context(image_store=blocker / "images.db"))
    assert isinstance(failure, IncompleteFinding) and failure.code == "image-store-unavailable"
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not sqlite" * 100)
    [again] = run(CHECK, image, context(image_store=broken))
    assert isinstance(again, IncompleteFinding) and str(broken) in (again.reason or "")


def test_store_skips_damaged_rows(tmp_path: Path) -> None:
    path = tmp_path / "images.db"
    store = SqliteImageStore(path)
    store.put(ImageRecord("sha256:1", "ref", None, ("a", "b")))
    store.put(ImageRecord("sha256:empty", "ref", None, ()))  # nothing to match on: not stored
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO image VALUES ('sha256:2', 'ref', NULL, NULL, 'a', 2, 'not json', 'now')")
    assert [r.digest for r in store.with_bottom_layer("a")] == ["sha256:1"]
    assert [r.diff_ids for r in store.with_reference("ref")] == [("a", "b")]
