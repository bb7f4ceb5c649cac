"""RegistryClient against a real docker-registry, directly and through a fault-injecting proxy."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from imagescan.errors import RegistryError
from imagescan.image.auth import Credentials
from imagescan.image.reference import parse_reference
from imagescan.image.registry import (
    MANIFEST_ACCEPT,
    OCI_INDEX,
    OCI_MANIFEST,
    RegistryClient,
    RetryPolicy,
    retry_after_seconds,
)
from tests.image._faultproxy import FaultProxy
from tests.registry_fixture import RegistryServer, free_port, image_config, sha256_digest, tar_layer

FAST = RetryPolicy(max_attempts=5, backoff_base=0.001, backoff_cap=0.005, max_total_time=5.0)
REPO = "test/tiny"
SMALL = tar_layer({"etc/hello": b"hello\n"})
BIG = tar_layer({"data/random.bin": random.Random(7).randbytes(3 << 20)}, compress=False)
CONFIG = image_config([SMALL, BIG])


@pytest.fixture(autouse=True)
def _no_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read the developer's own ~/.docker/config.json."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))


@pytest.fixture(scope="module")
def pushed(registry: RegistryServer) -> dict[str, str]:
    digest = registry.push_image(REPO, "v1", [SMALL, BIG], CONFIG)
    docker_digest = registry.push_image(REPO, "docker", [SMALL], image_config([SMALL]), docker=True)
    index = registry.push_index(
        REPO,
        "multi",
        {
            "linux/amd64": ([SMALL], image_config([SMALL])),
            "linux/arm64/v8": ([BIG], image_config([BIG], arch="arm64")),
        },
    )
    return {"manifest": digest, "docker": docker_digest, "index": index.digest}


@pytest.fixture
def proxy(registry: RegistryServer) -> Iterator[FaultProxy]:
    with FaultProxy(registry.url) as p:
        yield p


def client(address: str, image: str = f"{REPO}:v1", **kw: object) -> RegistryClient:
    kw.setdefault("retry", FAST)
    return RegistryClient(parse_reference(f"{address}/{image}"), **kw)  # type: ignore[arg-type]


def read_all(stream: object, n: int = 65536) -> bytes:
    out = []
    while chunk := stream.read(n):  # type: ignore[attr-defined]
        out.append(chunk)
    return b"".join(out)


# ------------------------------------------------------------------------------------------ anonymous pulls


def test_manifest_by_tag_and_by_digest(registry: RegistryServer, pushed: dict[str, str]) -> None:
    with client(registry.address) as c:
        body, media_type = c.fetch_manifest("v1")
        assert media_type == OCI_MANIFEST
        assert sha256_digest(body) == pushed["manifest"]
        manifest = json.loads(body)
        assert [layer["size"] for layer in manifest["layers"]] == [len(SMALL), len(BIG)]
        again, media_type2 = c.fetch_manifest(pushed["manifest"])
        assert again == body and media_type2 == OCI_MANIFEST


def test_reference_with_digest_is_fetched_by_digest(registry: RegistryServer, pushed: dict[str, str]) -> None:
    ref = parse_reference(f"{registry.address}/{REPO}@{pushed['manifest']}")
    with RegistryClient(ref) as c:
        body, _ = c.fetch_manifest(ref.ref)
    assert sha256_digest(body) == pushed["manifest"]


def test_docker_schema2_media_type(registry: RegistryServer, pushed: dict[str, str]) -> None:
    with client(registry.address) as c:
        body, media_type = c.fetch_manifest("docker")
    assert media_type == "application/vnd.docker.distribution.manifest.v2+json"
    assert sha256_digest(body) == pushed["docker"]


def test_index_with_attestation(registry: RegistryServer, pushed: dict[str, str]) -> None:
    with client(registry.address) as c:
        body, media_type = c.fetch_manifest("multi")
        assert media_type == OCI_INDEX
        assert sha256_digest(body) == pushed["index"]
        entries = json.loads(body)["manifests"]
        platforms = [(e["platform"]["os"], e["platform"]["architecture"]) for e in entries]
        assert platforms == [("linux", "amd64"), ("unknown", "unknown"), ("linux", "arm64"), ("unknown", "unknown")]
        child, child_type = c.fetch_manifest(entries[2]["digest"])
        assert child_type == OCI_MANIFEST and sha256_digest(child) == entries[2]["digest"]


def test_blob_streams_in_chunks(registry: RegistryServer, pushed: dict[str, str]) -> None:
    with client(registry.address) as c:
        stream = c.open_blob(sha256_digest(BIG))
        h = hashlib.sha256()
        sizes = []
        while chunk := stream.read(100_000):
            sizes.append(len(chunk))
            h.update(chunk)
        stream.close()
        assert "sha256:" + h.hexdigest() == sha256_digest(BIG)
        assert max(sizes) <= 100_000 and sum(sizes) == len(BIG)
        with c.open_blob(sha256_digest(SMALL)) as small:
            assert small.read() == SMALL


def test_blob_is_returned_before_the_body_has_arrived(proxy: FaultProxy, pushed: dict[str, str]) -> None:
    proxy.stall_blobs = threading.Event()
    with client(proxy.address) as c:
        stream = c.open_blob(sha256_digest(BIG))  # the proxy holds back the second half until released
        assert stream.read(1000) == BIG[:1000]
        proxy.stall_blobs.set()
        assert BIG[:1000] + read_all(stream) == BIG
        stream.close()


def test_closing_a_partly_read_blob_keeps_the_client_usable(registry: RegistryServer, pushed: dict[str, str]) -> None:
    with client(registry.address) as c:
        for _ in range(3):
            stream = c.open_blob(sha256_digest(BIG))
            assert stream.read(10) == BIG[:10]
            stream.close()
        assert c.fetch_manifest("v1")[1] == OCI_MANIFEST


# ------------------------------------------------------------------------------------------ errors


def test_unknown_tag_is_a_clear_404_without_retries(proxy: FaultProxy, pushed: dict[str, str]) -> None:
    with client(proxy.address) as c, pytest.raises(RegistryError) as err:
        c.fetch_manifest("nope")
    assert err.value.status == 404
    message = str(err.value)
    assert f"registry {proxy.address} returned 404" in message
    assert f"manifest {REPO}:nope" in message and "MANIFEST_UNKNOWN" in message
    assert "\n" not in message
    assert len(proxy.requests_to("/manifests/nope")) == 1


def test_unknown_blob(registry: RegistryServer, pushed: dict[str, str]) -> None:
    missing = sha256_digest(b"never pushed")
    with client(registry.address) as c, pytest.raises(RegistryError) as err:
        c.open_blob(missing)
    assert err.value.status == 404
    assert f"blob {REPO}@{missing}" in str(err.value) and "BLOB_UNKNOWN" in str(err.value)


def test_403_is_not_retried(proxy: FaultProxy, pushed: dict[str, str]) -> None:
    body = json.dumps({"errors": [{"code": "DENIED", "message": "requested access to the resource is denied"}]})
    proxy.fail("/manifests/", 403, times=10, body=body.encode())
    with client(proxy.address) as c, pytest.raises(RegistryError) as err:
        c.fetch_manifest("v1")
    assert err.value.status == 403
    assert "403 Forbidden" in str(err.value) and "denied (DENIED)" in str(err.value)
    assert len(proxy.requests_to("/manifests/")) == 1


@pytest.mark.parametrize(
    ("status", "headers"), [(429, {"Retry-After": "0"}), (500, {}), (502, {}), (503, {}), (504, {})]
)
def test_transient_errors_are_retried(
    proxy: FaultProxy, pushed: dict[str, str], status: int, headers: dict[str, str]
) -> None:
    proxy.fail("/manifests/v1", status, times=2, headers=headers)
    proxy.fail("/blobs/", status, times=2, headers=headers)
    with client(proxy.address) as c:
        assert sha256_digest(c.fetch_manifest("v1")[0]) == pushed["manifest"]
        with c.open_blob(sha256_digest(SMALL)) as blob:
            assert blob.read() == SMALL
    assert len(proxy.requests_to("/manifests/v1")) == 3
    assert len(proxy.requests_to("/blobs/")) == 3


def test_dropped_connections_are_retried(proxy: FaultProxy, pushed: dict[str, str]) -> None:
    proxy.fail("/manifests/v1", 0, times=2)
    with client(proxy.address) as c:
        assert sha256_digest(c.fetch_manifest("v1")[0]) == pushed["manifest"]
    assert len(proxy.requests_to("/manifests/v1")) == 3


def test_persistent_500_gives_up_after_bounded_attempts(proxy: FaultProxy, pushed: dict[str, str]) -> None:
    proxy.fail("/manifests/v1", 500, times=100, body=b'{"errors":[{"code":"UNKNOWN","message":"boom"}]}')
    sleeps: list[float] = []
    policy = RetryPolicy(max_attempts=4, backoff_base=0.01, backoff_cap=0.02, max_total_time=60)
    with client(proxy.address, retry=policy, sleep=sleeps.append) as c, pytest.raises(RegistryError) as err:
        c.fetch_manifest("v1")
    assert err.value.status == 500
    assert "boom (UNKNOWN)" in str(err.value) and "after 4 attempts" in str(err.value)
    assert len(proxy.requests_to("/manifests/v1")) == 4
    assert len(sleeps) == 3 and all(0 <= s <= 0.02 for s in sleeps)


def test_persistent_connection_failure(pushed: dict[str, str]) -> None:
    sleeps: list[float] = []
    with client(f"127.0.0.1:{free_port()}", sleep=sleeps.append) as c, pytest.raises(RegistryError) as err:
        c.fetch_manifest("v1")
    assert err.value.status is None
    assert "cannot reach" in str(err.value) and "after 5 attempts" in str(err.value)
    assert len(sleeps) == 4


def test_retry_after_beyond_the_time_budget_gives_up_at_once(proxy: FaultProxy, pushed: dict[str, str]) -> None:
    proxy.fail("/manifests/v1", 429, times=5, headers={"Retry-After": "3600"})
    sleeps: list[float] = []
    with client(proxy.address, sleep=sleeps.append) as c, pytest.raises(RegistryError) as err:
        c.fetch_manifest("v1")
    assert err.value.status == 429 and sleeps == []


def test_retry_after_is_honoured(proxy: FaultProxy, pushed: dict[str, str]) -> None:
    proxy.fail("/manifests/v1", 503, times=1, headers={"Retry-After": "2"})
    sleeps: list[float] = []
    with client(proxy.address, sleep=sleeps.append) as c:
        c.fetch_manifest("v1")
    assert sleeps == [2.0]


def test_total_time_budget_bounds_the_retries(proxy: FaultProxy, pushed: dict[str, str]) -> None:
    proxy.fail("/manifests/v1", 500, times=100)
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    policy = RetryPolicy(max_attempts=100, backoff_base=1.0, backoff_cap=1.0, max_total_time=10.0)
    with client(proxy.address, retry=policy, sleep=sleep, clock=lambda: now[0]) as c, pytest.raises(RegistryError):
        c.fetch_manifest("v1")
    assert now[0] <= 10.0
    assert len(proxy.requests_to("/manifests/v1")) < 100


def test_backoff_grows_exponentially_with_jitter() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_cap=10.0)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (6, 10.0), (10, 10.0)]:
        values = [policy.backoff(attempt, rng) for _ in range(200)]
        assert all(0 <= v <= ceiling for v in values)
        assert max(values) > ceiling * 0.8  # jitter spreads over the whole range
        assert len(set(values)) > 100


def test_retry_after_parsing() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0


def test_truncated_blob_is_detected(proxy: FaultProxy, pushed: dict[str, str]) -> None:
    proxy.truncate_blobs = True
    with client(proxy.address) as c:
        stream = c.open_blob(sha256_digest(BIG))
        with pytest.raises(RegistryError, match="truncated after"):
            read_all(stream)
        stream.close()


def test_truncated_manifest_is_retried(proxy: FaultProxy, pushed: dict[str, str]) -> None:
    proxy.fail("/manifests/v1", -1, times=2)  # the body is cut short and the connection closed
    with client(proxy.address) as c:
        assert sha256_digest(c.fetch_manifest("v1")[0]) == pushed["manifest"]
    assert len(proxy.requests_to("/manifests/v1")) == 3


def test_oversized_manifest_is_refused(proxy: FaultProxy, pushed: dict[str, str]) -> None:
    with client(proxy.address, max_manifest_size=100) as c, pytest.raises(RegistryError, match="too large"):
        c.fetch_manifest("v1")


def test_invalid_references_never_reach_the_network(pushed: dict[str, str]) -> None:
    with client("127.0.0.1:9", retry=RetryPolicy(max_attempts=1)) as c:
        for bad in ("../../etc", "sha256:../x", "", "a b"):
            with pytest.raises(RegistryError, match="invalid"):
                c.open_blob(bad)
            with pytest.raises(RegistryError, match="invalid"):
                c.fetch_manifest(bad)


# ------------------------------------------------------------------------------------------ redirects


def test_cross_origin_blob_redirect_drops_authorization(proxy: FaultProxy, pushed: dict[str, str]) -> None:
    proxy.bearer, proxy.allow_anonymous_tokens, proxy.redirect_blobs = True, True, "cross"
    with client(proxy.address) as c:
        c.fetch_manifest("v1")
        with c.open_blob(sha256_digest(BIG)) as blob:
            assert read_all(blob) == BIG
    first_hop = proxy.requests_to(f"/blobs/{sha256_digest(BIG)}")
    assert [s.headers.get("Authorization", "").split(" ")[0] for s in first_hop] == ["Bearer"]
    assert len(proxy.blobstore.seen) == 1
    assert "Authorization" not in proxy.blobstore.seen[0].headers


def test_same_origin_blob_redirect_keeps_authorization(proxy: FaultProxy, pushed: dict[str, str]) -> None:
    proxy.bearer, proxy.allow_anonymous_tokens, proxy.redirect_blobs = True, True, "same"
    with client(proxy.address) as c, c.open_blob(sha256_digest(SMALL)) as blob:
        assert blob.read() == SMALL
    redirected = proxy.requests_to("/_blob/")
    assert len(redirected) == 1 and redirected[0].headers["Authorization"].startswith("Bearer ")


def test_redirect_loop_is_an_error(proxy: FaultProxy, pushed: dict[str, str]) -> None:
    proxy.fail("/blobs/", 302, times=100, headers={"Location": "/v2/test/tiny/blobs/sha256:" + "0" * 64})
    with client(proxy.address) as c, pytest.raises(RegistryError, match="too many redirects"):
        c.open_blob(sha256_digest(SMALL))


# ------------------------------------------------------------------------------------------ authentication


def test_basic_auth_with_docker_config(
    auth_registry: RegistryServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = auth_registry.push_image("private/app", "v1", [SMALL], image_config([SMALL]))
    auth = base64.b64encode(b"alice:wonderland").decode()
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.json").write_text(json.dumps({"auths": {auth_registry.address: {"auth": auth}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "cfg"))
    with client(auth_registry.address, "private/app:v1") as c:
        body, _ = c.fetch_manifest("v1")
        assert sha256_digest(body) == digest
        with c.open_blob(sha256_digest(SMALL)) as blob:
            assert blob.read() == SMALL


def test_basic_auth_with_explicit_config_path(auth_registry: RegistryServer, tmp_path: Path) -> None:
    auth_registry.push_image("private/app2", "v1", [SMALL], image_config([SMALL]))
    config = tmp_path / "docker.json"
    config.write_text(
        json.dumps({"auths": {f"http://{auth_registry.address}/v2/": {"username": "alice", "password": "wonderland"}}})
    )
    with client(auth_registry.address, "private/app2:v1", docker_config=config) as c:
        assert c.fetch_manifest("v1")[1] == OCI_MANIFEST


def test_basic_auth_bad_password(auth_registry: RegistryServer) -> None:
    auth_registry.push_image("private/app3", "v1", [SMALL], image_config([SMALL]))
    creds = Credentials("alice", "not-the-password")
    with client(auth_registry.address, "private/app3:v1", credentials=creds) as c, pytest.raises(RegistryError) as err:
        c.fetch_manifest("v1")
    assert err.value.status == 401 and "Unauthorized" in str(err.value)


def test_basic_auth_without_credentials(auth_registry: RegistryServer) -> None:
    with client(auth_registry.address, "private/app:v1") as c, pytest.raises(RegistryError) as err:
        c.fetch_manifest("v1")
    assert err.value.status == 401 and "no user name and password" in str(err.value)


@pytest.fixture
def bearer(proxy: FaultProxy, pushed: dict[str, str]) -> FaultProxy:
    proxy.bearer = True
    proxy.users = {"bob": "builder"}
    return proxy


def test_bearer_flow_caches_the_token(bearer: FaultProxy) -> None:
    with client(bearer.address, credentials=Credentials("bob", "builder")) as c:
        manifest = json.loads(c.fetch_manifest("v1")[0])
        for layer in manifest["layers"]:
            with c.open_blob(layer["digest"]) as blob:
                read_all(blob)
        assert c.fetch_manifest(sha256_digest(c.fetch_manifest("v1")[0]))[1] == OCI_MANIFEST
    assert len(bearer.token_requests) == 1
    request = bearer.token_requests[0]
    assert request["scope"] == [f"repository:{REPO}:pull"]
    assert request["service"] == ["fault-proxy"] and request["account"] == ["bob"]


def test_bearer_with_docker_config_credentials(
    bearer: FaultProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cfg").mkdir()
    auth = base64.b64encode(b"bob:builder").decode()
    (tmp_path / "cfg" / "config.json").write_text(json.dumps({"auths": {bearer.address: {"auth": auth}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "cfg"))
    with client(bearer.address) as c:
        assert c.fetch_manifest("v1")[1] == OCI_MANIFEST


def test_bearer_with_identity_token(bearer: FaultProxy, tmp_path: Path) -> None:
    bearer.identity_tokens = {"refresh-me"}
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {bearer.address: {"auth": "PHRva2VuPjo=", "identitytoken": "refresh-me"}}}))
    with client(bearer.address, docker_config=config) as c:
        assert c.fetch_manifest("v1")[1] == OCI_MANIFEST
    assert bearer.token_requests[0]["grant_type"] == ["refresh_token"]
    assert bearer.requests_to("/token")[0].method == "POST"


def test_bearer_anonymous_token(bearer: FaultProxy) -> None:
    bearer.allow_anonymous_tokens = True
    with client(bearer.address) as c:
        assert c.fetch_manifest("v1")[1] == OCI_MANIFEST
    assert "account" not in bearer.token_requests[0]


def test_bearer_bad_password(bearer: FaultProxy) -> None:
    with client(bearer.address, credentials=Credentials("bob", "wrong")) as c, pytest.raises(RegistryError) as err:
        c.fetch_manifest("v1")
    assert err.value.status == 401 and "unauthorized" in str(err.value)
    assert "rejected the credentials" in str(err.value)


def test_expired_token_is_renewed_once(bearer: FaultProxy) -> None:
    with client(bearer.address, credentials=Credentials("bob", "builder")) as c:
        c.fetch_manifest("v1")
        bearer.revoke_tokens()  # the registry no longer accepts the cached token
        c.fetch_manifest("v1")
    assert len(bearer.token_requests) == 2


def test_token_lifetime_triggers_a_new_token_before_the_request(bearer: FaultProxy) -> None:
    bearer.token_lifetime = 120
    now = [1000.0]
    with client(bearer.address, credentials=Credentials("bob", "builder"), clock=lambda: now[0]) as c:
        c.fetch_manifest("v1")
        now[0] += 100  # within the lifetime
        c.fetch_manifest("v1")
        assert len(bearer.token_requests) == 1
        now[0] += 15  # within the safety margin before expiry
        c.fetch_manifest("v1")
    assert len(bearer.token_requests) == 2
    assert len(bearer.requests_to("/manifests/v1")) == 4  # 401 challenge + three authorised fetches


def test_persistent_401_is_unauthorized_after_one_reauthentication(bearer: FaultProxy) -> None:
    unauthorized = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}).encode()
    challenge = f'Bearer realm="{bearer.url}/token",service="fault-proxy",scope="repository:{REPO}:pull"'
    bearer.fail("/manifests/", 401, times=100, headers={"WWW-Authenticate": challenge}, body=unauthorized)
    with client(bearer.address, credentials=Credentials("bob", "builder")) as c, pytest.raises(RegistryError) as err:
        c.fetch_manifest("v1")
    assert err.value.status == 401
    assert "401 Unauthorized" in str(err.value) and "authentication required (UNAUTHORIZED)" in str(err.value)
    assert len(bearer.requests_to("/manifests/")) == 2
    assert len(bearer.token_requests) == 1


def test_unsupported_challenge(proxy: FaultProxy, pushed: dict[str, str]) -> None:
    proxy.fail("/manifests/", 401, times=5, headers={"WWW-Authenticate": 'Negotiate realm="x"'})
    with client(proxy.address) as c, pytest.raises(RegistryError, match="unsupported authentication"):
        c.fetch_manifest("v1")


# ------------------------------------------------------------------------------------------ URLs (no network)


@pytest.mark.parametrize(
    ("image", "insecure", "base"),
    [
        ("registry.example.com/a/b:1", False, "https://registry.example.com"),
        ("registry.example.com:5000/a/b:1", True, "http://registry.example.com:5000"),
        ("localhost:5000/a/b", False, "http://localhost:5000"),
        ("127.0.0.1:5000/a/b", False, "http://127.0.0.1:5000"),
        ("127.1.2.3:5000/a/b", False, "http://127.1.2.3:5000"),
        ("alpine:3.19", False, "https://registry-1.docker.io"),
        ("docker.io/library/alpine", True, "http://registry-1.docker.io"),
        ("10.0.0.1:5000/a/b", False, "https://10.0.0.1:5000"),
    ],
)
def test_base_url(image: str, insecure: bool, base: str) -> None:
    c = RegistryClient(parse_reference(image), insecure)
    assert c.base_url == base
    assert c.manifest_url("1") == f"{base}/v2/{c.repository}/manifests/1"
    digest = "sha256:" + "a" * 64
    assert c.blob_url(digest) == f"{base}/v2/{c.repository}/blobs/{digest}"
    c.close()


def test_plain_http_endpoint_refused_for_remote_hosts() -> None:
    ref = parse_reference("registry.example.com/a/b:1")
    with pytest.raises(RegistryError, match="refusing plain HTTP"):
        RegistryClient(ref, endpoint="http://registry.example.com")
    assert RegistryClient(ref, True, endpoint="http://registry.example.com").base_url == "http://registry.example.com"
    assert (
        RegistryClient(ref, endpoint="https://mirror.example.com:8443/").base_url == "https://mirror.example.com:8443"
    )


def test_accept_header_lists_all_manifest_types(proxy: FaultProxy, pushed: dict[str, str]) -> None:
    with client(proxy.address) as c:
        c.fetch_manifest("v1")
    accept = proxy.requests_to("/manifests/v1")[0].headers["Accept"]
    assert accept == MANIFEST_ACCEPT
    for media_type in (
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
    ):
        assert media_type in accept


def test_not_a_registry_reference() -> None:
    with pytest.raises(RegistryError):
        RegistryClient(parse_reference("oci:/tmp/layout"))


class _ShortResponse:
    """A response whose body ends early without an exception (urllib3 1.26 with enforce_content_length off)."""

    status = 200

    def __init__(self, body: bytes, length: int) -> None:
        self.headers = {"Content-Length": str(length)}
        self._body = body
        self.released = self.closed = False

    def read(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        assert decode_content is False
        n = len(self._body) if amt is None else amt
        data, self._body = self._body[:n], self._body[n:]
        return data

    def release_conn(self) -> None:
        self.released = True

    def close(self) -> None:
        self.closed = True


def test_blob_reader_detects_short_and_long_bodies() -> None:
    import io

    from imagescan.image.registry import _BlobReader

    short = _ShortResponse(b"x" * 10, 25)
    stream = io.BufferedReader(_BlobReader(short, "blob r@d", "reg"))
    with pytest.raises(RegistryError, match=r"truncated after 10 of 25 bytes \(connection closed early\)"):
        stream.read()
    stream.close()
    assert short.released and short.closed

    exact = _ShortResponse(b"y" * 25, 25)
    with io.BufferedReader(_BlobReader(exact, "blob r@d", "reg")) as ok:
        assert ok.read(7) == b"y" * 7 and ok.read() == b"y" * 18 and ok.read() == b""
    assert exact.released and not exact.closed

    long = _ShortResponse(b"z" * 30, 25)
    raw = _BlobReader(long, "blob r@d", "reg")
    assert raw.read(100) == b"z" * 25
    raw.close()  # not read to EOF: the connection is closed, not reused
    assert long.closed and long.released
