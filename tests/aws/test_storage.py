"""The layer-result cache, the database cache in /tmp, the database refresh, and the analyze step's own cache
check, against moto S3."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import boto3
import pytest

from imagescan.aws import keys
from imagescan.aws.dbcache import DatabaseCache
from imagescan.aws.dbrefresh import FINGERPRINT, refresh_database
from imagescan.aws.events import ImageTarget, LayerItem, LayerTask
from imagescan.aws.layercache import LayerCache
from imagescan.aws.pipeline import Pipeline
from imagescan.aws.settings import Settings
from imagescan.models import LayerResult, ScanWarning
from imagescan.vulndb.builder import build_database
from tests.needs import missing

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("IMAGESCAN_SHARED", REPO_ROOT.parent / "shared"))
BUCKET = "imagescan-test"
DIFF_ID = "sha256:" + "1" * 64


@pytest.fixture
def s3(moto_aws: None) -> object:
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def _result(complete: bool = True, cache_key: str = "sha256:" + "c" * 64) -> LayerResult:
    return LayerResult(digest="sha256:" + "d" * 64, diff_id=DIFF_ID, cache_key=cache_key, analyzers={"walker": 1},
                       entries=[["etc/os-release", "f", 0o644, 0, 0, 10, None]], complete=complete,
                       warnings=[] if complete else [ScanWarning(code="layer-unreadable", message="truncated")])


def test_layer_cache_round_trip_and_partial_results(s3: object) -> None:
    cache = LayerCache(s3, BUCKET)  # type: ignore[arg-type]
    result = _result()
    assert not cache.has(result.cache_key) and cache.get(result.cache_key) is None
    key = cache.put(result)
    assert key == f"layers/{result.cache_key}.json" and cache.has(result.cache_key)
    stored = s3.get_object(Bucket=BUCKET, Key=key)  # type: ignore[attr-defined]
    assert stored["ContentEncoding"] == "gzip" and stored["Metadata"]["diff-id"] == DIFF_ID
    assert cache.get(result.cache_key) == result
    partial = _result(complete=False)
    with pytest.raises(ValueError, match="never enters the shared cache"):
        cache.put(partial)
    cache.put_partial("scan-1", partial)
    assert cache.get_partial("scan-1", partial.cache_key) == partial
    assert cache.get_partial("scan-2", partial.cache_key) is None


@pytest.mark.parametrize(
    "body",
    [b"not json", gzip.compress(b"{\"schema_version\": 1}", mtime=0), b"\x1f\x8b broken"],
    ids=["not-json", "incomplete-result", "broken-gzip"],
)
def test_damaged_cache_objects_are_misses(s3: object, body: bytes) -> None:
    cache_key = "sha256:" + "e" * 64
    s3.put_object(Bucket=BUCKET, Key=keys.layer_key(cache_key), Body=body)  # type: ignore[attr-defined]
    assert LayerCache(s3, BUCKET).get(cache_key) is None  # type: ignore[arg-type]


def test_a_result_under_another_key_is_a_miss(s3: object) -> None:
    result = _result(cache_key="sha256:" + "a" * 64)
    s3.put_object(Bucket=BUCKET, Key=keys.layer_key("sha256:" + "b" * 64),  # type: ignore[attr-defined]
                  Body=result.model_dump_json().encode())
    assert LayerCache(s3, BUCKET).get("sha256:" + "b" * 64) is None  # type: ignore[arg-type]


def test_database_downloaded_only_when_its_etag_changes(s3: object, tmp_path: Path) -> None:
    cache = DatabaseCache(s3, BUCKET, "db/imagescan.db", tmp_path / "db")  # type: ignore[arg-type]
    assert cache.path() is None and cache.downloads == 0
    s3.put_object(Bucket=BUCKET, Key="db/imagescan.db", Body=b"first database")  # type: ignore[attr-defined]
    first = cache.path()
    assert first is not None and first.read_bytes() == b"first database" and cache.downloads == 1
    assert cache.path() == first and cache.downloads == 1
    s3.put_object(Bucket=BUCKET, Key="db/imagescan.db", Body=b"second database!")  # type: ignore[attr-defined]
    second = cache.path()
    assert second is not None and second != first and second.read_bytes() == b"second database!"
    assert cache.downloads == 2 and not first.exists()  # the old copy is removed: /tmp is small
    s3.delete_object(Bucket=BUCKET, Key="db/imagescan.db")  # type: ignore[attr-defined]
    assert cache.path() is None and not second.exists()


def test_refresh_publishes_only_a_changed_database(s3: object, tmp_path: Path) -> None:
    kev = SHARED / "data" / "kev" / "known_exploited_vulnerabilities.json.gz"
    if not kev.is_file():
        missing(f"shared data not found at {kev} (set IMAGESCAN_SHARED)")
    inputs = [kev]

    def updater(path: Path) -> None:  # stands in for `db update`: the same build from local feed files
        build_database(inputs, path)

    first = refresh_database(s3, BUCKET, "db/imagescan.db", updater, tmp_path / "work")  # type: ignore[arg-type]
    assert first.published and first.sources and first.size > 0
    head = s3.head_object(Bucket=BUCKET, Key="db/imagescan.db")  # type: ignore[attr-defined]
    assert head["Metadata"][FINGERPRINT] == first.fingerprint
    again = refresh_database(s3, BUCKET, "db/imagescan.db", updater, tmp_path / "work")  # type: ignore[arg-type]
    assert not again.published and again.fingerprint == first.fingerprint  # rebuilt at another time: same content
    assert s3.head_object(Bucket=BUCKET, Key="db/imagescan.db")["ETag"] == head["ETag"]  # type: ignore[attr-defined]
    inputs.append(SHARED / "data" / "eol")
    changed = refresh_database(s3, BUCKET, "db/imagescan.db", updater, tmp_path / "work")  # type: ignore[arg-type]
    assert changed.published and changed.fingerprint != first.fingerprint


def test_analyze_checks_the_cache_before_reading_the_registry(s3: object) -> None:
    """Another scan analysed the layer after this one was resolved: no registry access, a cache hit."""
    from imagescan.catalog.registry import default_catalogers
    from imagescan.layer.walker import cache_key_for

    def no_registry(ref: object) -> object:
        raise AssertionError("the registry must not be read for a cached layer")

    pipeline = Pipeline(settings=Settings(bucket=BUCKET), s3=s3, dynamodb=None,  # type: ignore[arg-type]
                        open_source=no_registry)  # type: ignore[arg-type]
    pipeline.layer_cache.put(_result(cache_key=cache_key_for(DIFF_ID, default_catalogers())))
    task = LayerTask(scan_id="scan-1", expires_at="1797213275",
                     image=ImageTarget(registry="123456789012.dkr.ecr.us-east-1.amazonaws.com", repository="r",
                                       digest="sha256:" + "f" * 64),
                     layer=LayerItem(digest="sha256:" + "d" * 64, diff_id=DIFF_ID, size=10, cached=False))
    assert pipeline.analyze(task).cached is True
