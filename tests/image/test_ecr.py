"""ECR credentials with moto (never AWS): account and Region from the host, caching, refresh, client reuse."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, NoCredentialsError
from moto import mock_aws

from imagescan.errors import RegistryError
from imagescan.image.auth import Credentials
from imagescan.image.ecr import REFRESH_MARGIN, EcrCredentials, EcrTokenProvider, default_provider, ecr_account_region
from imagescan.image.reference import parse_reference
from imagescan.image.registry import RegistryClient, RetryPolicy
from tests.registry_fixture import RegistryServer, image_config, sha256_digest, tar_layer

HOST = "123456789012.dkr.ecr.eu-west-3.amazonaws.com"
OTHER = "210987654321.dkr.ecr.us-east-2.amazonaws.com"
MOTO_EXPIRY = datetime(2015, 1, 1, tzinfo=UTC).timestamp()
"""moto's GetAuthorizationToken always answers expiresAt 2015-01-01: test clocks run before it."""


@pytest.fixture(autouse=True)
def _aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    with mock_aws():
        yield


class Recorder:
    """A client factory that counts clients and GetAuthorizationToken calls (with their parameters)."""

    def __init__(self) -> None:
        self.regions: list[str] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, region: str) -> Any:
        self.regions.append(region)
        client = boto3.client("ecr", region_name=region)

        def record(params: dict[str, Any], **_: Any) -> None:
            self.calls.append((region, dict(params)))

        client.meta.events.register("provide-client-params.ecr.GetAuthorizationToken", record)
        return client


def test_account_and_region_come_from_the_host() -> None:
    recorder = Recorder()
    provider = EcrTokenProvider(client_factory=recorder, clock=lambda: MOTO_EXPIRY - 12 * 3600)
    creds = provider.credentials(HOST)
    assert creds == Credentials("AWS", "123456789012-auth-token")
    assert recorder.regions == ["eu-west-3"]
    assert recorder.calls == [("eu-west-3", {"registryIds": ["123456789012"]})]
    assert ecr_account_region(OTHER) == ("210987654321", "us-east-2")
    assert ecr_account_region("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com") == (
        "123456789012",
        "us-gov-west-1",
    )


def test_token_is_cached_and_refreshed_before_expiry() -> None:
    recorder = Recorder()
    now = [MOTO_EXPIRY - 12 * 3600]
    provider = EcrTokenProvider(client_factory=recorder, clock=lambda: now[0])
    provider.credentials(HOST)
    now[0] = MOTO_EXPIRY - REFRESH_MARGIN - 1  # still more than 30 minutes left
    provider.credentials(HOST)
    assert len(recorder.calls) == 1
    now[0] = MOTO_EXPIRY - REFRESH_MARGIN + 1  # less than 30 minutes left: fetch a new one
    provider.credentials(HOST)
    assert len(recorder.calls) == 2
    assert recorder.regions == ["eu-west-3"]  # the client is reused


def test_registries_are_cached_separately_and_clients_per_region() -> None:
    recorder = Recorder()
    provider = EcrTokenProvider(client_factory=recorder, clock=lambda: MOTO_EXPIRY - 3600 * 5)
    assert provider.credentials(OTHER).password == "210987654321-auth-token"
    assert provider.credentials(HOST).password == "123456789012-auth-token"
    same_region = "111122223333.dkr.ecr.us-east-2.amazonaws.com"
    assert provider.credentials(same_region).password == "111122223333-auth-token"
    provider.credentials(OTHER)
    assert recorder.regions == ["us-east-2", "eu-west-3"]
    assert [c[1]["registryIds"] for c in recorder.calls] == [["210987654321"], ["123456789012"], ["111122223333"]]


def test_token_shared_by_two_clients_of_the_same_registry() -> None:
    recorder = Recorder()
    provider = EcrTokenProvider(client_factory=recorder, clock=lambda: MOTO_EXPIRY - 3600)
    for image in (f"{HOST}/team/app:1", f"{HOST}/team/other@sha256:" + "a" * 64):
        client = RegistryClient(parse_reference(image), ecr_provider=provider)
        assert client.base_url == f"https://{HOST}"
        assert client.auth.header() == Credentials("AWS", "123456789012-auth-token").basic_header()
        client.close()
    assert len(recorder.calls) == 1 and recorder.regions == ["eu-west-3"]


def test_invalidate_forces_a_new_token() -> None:
    recorder = Recorder()
    provider = EcrTokenProvider(client_factory=recorder, clock=lambda: MOTO_EXPIRY - 3600)
    source = EcrCredentials(HOST, provider)
    source.get()
    source.invalidate()
    source.get()
    assert len(recorder.calls) == 2


def test_default_provider_is_one_per_process() -> None:
    assert default_provider() is default_provider()


class FakeEcr:
    def __init__(self, *responses: object) -> None:
        self.responses = list(responses)

    def get_authorization_token(self, **_: object) -> object:
        response = self.responses.pop(0)
        if isinstance(response, Exception):
            raise response
        return response


def _data(token: object, expires: object = datetime(2100, 1, 1, tzinfo=UTC)) -> dict[str, object]:
    return {"authorizationData": [{"authorizationToken": token, "expiresAt": expires}]}


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (
            ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetAuthorizationToken"),
            "AccessDenied",
        ),
        (NoCredentialsError(), "Unable to locate credentials"),
        ({"authorizationData": []}, "no authorization data"),
        ({}, "no authorization data"),
        (_data(None), "no token"),
        (_data("%%%"), "malformed token"),
        (_data(base64.b64encode(b"nocolon").decode()), "malformed token"),
        (_data(base64.b64encode(b"\xff\xfe:x").decode()), "malformed token"),
    ],
)
def test_errors_are_registry_errors(response: object, message: str) -> None:
    provider = EcrTokenProvider(client_factory=lambda region: FakeEcr(response))
    with pytest.raises(RegistryError, match=message) as err:
        provider.credentials(HOST)
    assert HOST in str(err.value)


def test_missing_expiry_is_not_cached_forever() -> None:
    now = [0.0]
    client = FakeEcr(_data(base64.b64encode(b"AWS:one").decode(), None), _data(base64.b64encode(b"AWS:two").decode()))
    provider = EcrTokenProvider(client_factory=lambda region: client, clock=lambda: now[0])
    assert provider.credentials(HOST).password == "one"
    assert provider.credentials(HOST).password == "one"
    now[0] = 120.0
    assert provider.credentials(HOST).password == "two"


def test_not_an_ecr_host() -> None:
    with pytest.raises(RegistryError, match="not an ECR registry"):
        EcrTokenProvider().credentials("registry.example.com")


# ------------------------------------------------------------------------------------------ end to end


SMALL = tar_layer({"etc/ecr": b"ecr\n"})


def test_ecr_pull_against_a_local_registry(auth_registry: RegistryServer) -> None:
    """ECR's Basic auth with moto's token (user AWS) against the htpasswd registry, via an endpoint override."""
    digest = auth_registry.push_image("team/app", "v1", [SMALL], image_config([SMALL]))
    recorder = Recorder()
    provider = EcrTokenProvider(client_factory=recorder, clock=lambda: MOTO_EXPIRY - 3600)
    ref = parse_reference(f"{HOST}/team/app:v1")
    with RegistryClient(ref, ecr_provider=provider, endpoint=auth_registry.url) as client:
        body, _ = client.fetch_manifest("v1")
        assert sha256_digest(body) == digest
        with client.open_blob(sha256_digest(SMALL)) as blob:
            assert blob.read() == SMALL
    assert len(recorder.calls) == 1


def test_ecr_rejected_token_is_fetched_again_once(auth_registry: RegistryServer) -> None:
    auth_registry.push_image("team/app", "v2", [SMALL], image_config([SMALL]))
    good = base64.b64encode(b"AWS:123456789012-auth-token").decode()
    stale = base64.b64encode(b"AWS:expired").decode()
    client = FakeEcr(_data(stale), _data(good))
    provider = EcrTokenProvider(client_factory=lambda region: client)
    ref = parse_reference(f"{HOST}/team/app:v2")
    with RegistryClient(ref, ecr_provider=provider, endpoint=auth_registry.url) as registry:
        assert registry.fetch_manifest("v2")[0]
    assert client.responses == []


def test_ecr_token_rejected_twice_is_unauthorized(auth_registry: RegistryServer) -> None:
    stale = base64.b64encode(b"AWS:expired").decode()
    client = FakeEcr(_data(stale), _data(stale))
    provider = EcrTokenProvider(client_factory=lambda region: client)
    ref = parse_reference(f"{HOST}/team/app:v2")
    fast = RetryPolicy(backoff_base=0.001)
    registry = RegistryClient(ref, ecr_provider=provider, endpoint=auth_registry.url, retry=fast)
    with registry, pytest.raises(RegistryError) as err:
        registry.fetch_manifest("v2")
    assert err.value.status == 401 and f"registry {HOST} returned 401 Unauthorized" in str(err.value)


def test_an_account_client_factory_gets_one_client_per_account_and_region() -> None:
    """``account_client_factory``: each registry's token is asked for with a client made for its account (another
    account's credentials, in the pipeline), once per account and Region."""
    recorder = Recorder()
    made: list[tuple[str, str]] = []

    def per_account(account: str, region: str) -> Any:
        made.append((account, region))
        return recorder(region)

    provider = EcrTokenProvider(account_client_factory=per_account, clock=lambda: MOTO_EXPIRY - 12 * 3600)
    for host in (HOST, OTHER, HOST, "210987654321.dkr.ecr.eu-west-3.amazonaws.com"):
        provider.invalidate(host)
        provider.credentials(host)
    assert made == [("123456789012", "eu-west-3"), ("210987654321", "us-east-2"), ("210987654321", "eu-west-3")]
    assert [params["registryIds"] for _, params in recorder.calls] == [
        ["123456789012"], ["210987654321"], ["123456789012"], ["210987654321"]]
