"""Reading other accounts' registries: the assumed-role credential cache (refresh before expiry, one session per
role whose clients refresh themselves), which accounts may be read and as which role, and the settings."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from imagescan.aws.errors import ConfigurationError, RegistryAccessError, TransientError
from imagescan.aws.registry_access import RegistryAccess, account_refusal, ecr_account, partition_of
from imagescan.aws.roles import REFRESH_MARGIN, AssumedRoleCache
from imagescan.aws.settings import Settings
from imagescan.image.reference import ImageReference

OWN, LISTED, OTHER = "123456789012", "210987654321", "999999999999"
ROLE = f"arn:aws:iam::{LISTED}:role/imagescan-registry-read"
NOW = 1_800_000_000.0


class FakeSts:
    """STS answering AssumeRole with credentials valid ``lifetime`` seconds from the test clock, or raising."""

    def __init__(self, clock: Callable[[], float], lifetime: float = 3600.0) -> None:
        self.clock, self.lifetime = clock, lifetime
        self.calls: list[dict[str, Any]] = []
        self.fail: Exception | None = None
        self.response: Any = None

    def assume_role(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        if self.fail is not None:
            raise self.fail
        if self.response is not None:
            return self.response
        n = len(self.calls)
        expiration = dt.datetime.fromtimestamp(self.clock() + self.lifetime, dt.UTC)
        return {"Credentials": {"AccessKeyId": f"ASIA{n}", "SecretAccessKey": f"secret{n}",
                                "SessionToken": f"token{n}", "Expiration": expiration}}


def _client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} says no"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "AssumeRole")


@pytest.fixture
def clock() -> list[float]:
    return [NOW]


def test_credentials_are_cached_per_role_until_the_refresh_margin(clock: list[float]) -> None:
    sts = FakeSts(lambda: clock[0])
    cache = AssumedRoleCache(lambda: sts, clock=lambda: clock[0])
    first = cache.credentials(ROLE)
    assert first.access_key_id == "ASIA1" and first.expires_at == NOW + 3600
    assert sts.calls == [{"RoleArn": ROLE, "RoleSessionName": "imagescan", "DurationSeconds": 3600}]
    clock[0] = NOW + 3600 - REFRESH_MARGIN - 1  # still outside the margin: the same credentials
    assert cache.credentials(ROLE) is first and len(sts.calls) == 1
    clock[0] = NOW + 3600 - REFRESH_MARGIN  # inside it: assumed again, before they expire
    second = cache.credentials(ROLE)
    assert second.access_key_id == "ASIA2" and len(sts.calls) == 2 and cache.assumed == 2
    other = f"arn:aws:iam::{OTHER}:role/imagescan-registry-read"
    assert cache.credentials(other).access_key_id == "ASIA3" and cache.credentials(ROLE) is second
    metadata = second.metadata()
    assert metadata["token"] == "token2"
    assert dt.datetime.fromisoformat(metadata["expiry_time"]).timestamp() == second.expires_at


@pytest.mark.parametrize(("failure", "error", "text"), [
    (_client_error("AccessDenied", 403), RegistryAccessError, "cannot assume " + ROLE + ": AccessDenied"),
    (_client_error("ValidationError", 400), RegistryAccessError, "ValidationError says no"),
    (_client_error("Throttling", 400), TransientError, "Throttling"),
    (_client_error("InternalFailure", 500), TransientError, "STS AssumeRole"),
    (EndpointConnectionError(endpoint_url="https://sts.us-east-1.amazonaws.com"), TransientError, "STS AssumeRole"),
])
def test_sts_failures_are_clear_errors(clock: list[float], failure: Exception, error: type[Exception],
                                       text: str) -> None:
    sts = FakeSts(lambda: clock[0])
    sts.fail = failure
    cache = AssumedRoleCache(lambda: sts, clock=lambda: clock[0])
    with pytest.raises(error, match=text.replace("(", r"\(")):
        cache.credentials(ROLE)
    assert cache.assumed == 0


@pytest.mark.parametrize("response", [
    {}, {"Credentials": None}, {"Credentials": {"AccessKeyId": "A", "SecretAccessKey": "S", "SessionToken": ""}},
    {"Credentials": {"AccessKeyId": "A", "SecretAccessKey": "S", "SessionToken": "T", "Expiration": "soon"}},
])
def test_a_malformed_answer_is_a_registry_access_error(clock: list[float], response: Any) -> None:
    sts = FakeSts(lambda: clock[0])
    sts.response = response
    with pytest.raises(RegistryAccessError, match="AssumeRole"):
        AssumedRoleCache(lambda: sts, clock=lambda: clock[0]).credentials(ROLE)


def test_a_role_session_acts_in_the_role_account_and_refreshes_itself(moto_aws: None) -> None:
    offset = [0.0]

    def now() -> float:
        return time.time() + offset[0]

    real = boto3.client("sts", region_name="us-east-1")

    class Sts:  # moto's AssumeRole, its expiry on the test's clock
        def assume_role(self, **kwargs: Any) -> Any:
            response = real.assume_role(**kwargs)
            response["Credentials"]["Expiration"] = dt.datetime.fromtimestamp(now() + 3600, dt.UTC)
            return response

    cache = AssumedRoleCache(Sts, clock=now)
    session = cache.session(ROLE)
    assert cache.session(ROLE) is session and cache.assumed == 0  # nothing asked before the first request
    client = session.client("sts", region_name="us-east-1")
    assert client.get_caller_identity()["Account"] == LISTED  # moto: credentials of a role act in its account
    assert client.get_caller_identity()["Arn"].endswith(":assumed-role/imagescan-registry-read/imagescan")
    assert cache.assumed == 1
    offset[0] = 3600 - REFRESH_MARGIN + 5  # the same client, once the credentials are about to expire
    assert client.get_caller_identity()["Account"] == LISTED
    assert cache.assumed == 2
    assert client.get_caller_identity()["Account"] == LISTED and cache.assumed == 2


def _access(settings: Settings, clock: list[float]) -> tuple[RegistryAccess, FakeSts, list[tuple[str, Any]]]:
    sts = FakeSts(lambda: clock[0])
    made: list[tuple[str, Any]] = []

    class FakeEcr:
        def __init__(self, region: str, role: str | None) -> None:
            self.role = role
            made.append((region, role))

        def get_authorization_token(self, registryIds: list[str]) -> dict[str, Any]:
            import base64

            who = self.role or "own"
            token = base64.b64encode(f"AWS:{who}".encode()).decode()
            return {"authorizationData": [{"authorizationToken": token,
                                           "expiresAt": dt.datetime.now(dt.UTC) + dt.timedelta(hours=12)}]}

    access = RegistryAccess(settings, lambda: OWN, AssumedRoleCache(lambda: sts, clock=lambda: clock[0]), FakeEcr)
    return access, sts, made


def test_which_accounts_are_read_and_as_which_role(clock: list[float]) -> None:
    settings = Settings(bucket="b", region="us-east-1", registry_accounts=frozenset({LISTED}))
    access, sts, made = _access(settings, clock)
    assert access.role_for(OWN) is None
    assert access.role_for(LISTED) == ROLE
    with pytest.raises(RegistryAccessError, match=f"account {OTHER} is neither this scanner's account "
                                                  f"\\({OWN}\\) nor one of its registry accounts"):
        access.role_for(OTHER)
    # check(): a listed account's role is assumed at once (so a role that cannot be assumed fails there).
    access.check(ImageReference("docker", registry=f"{LISTED}.dkr.ecr.us-east-1.amazonaws.com", repository="r"))
    assert len(sts.calls) == 1
    access.check(ImageReference("docker", registry=f"{OWN}.dkr.ecr.eu-west-1.amazonaws.com", repository="r"))
    access.check(ImageReference("docker", registry="registry.example.com", repository="r"))  # not ECR: no account
    with pytest.raises(RegistryAccessError, match=f"{OTHER}.dkr.ecr.us-east-1.amazonaws.com/team/app: account"):
        access.check(ImageReference("docker", registry=f"{OTHER}.dkr.ecr.us-east-1.amazonaws.com",
                                    repository="team/app"))
    assert len(sts.calls) == 1
    # The tokens: another account's asked for with a client acting as its role, one client per account and Region.
    tokens = access.tokens
    assert tokens.credentials(f"{LISTED}.dkr.ecr.us-east-1.amazonaws.com").password == ROLE
    assert tokens.credentials(f"{OWN}.dkr.ecr.us-east-1.amazonaws.com").password == "own"
    assert tokens.credentials(f"{LISTED}.dkr.ecr.eu-west-1.amazonaws.com").password == ROLE
    assert made == [("us-east-1", ROLE), ("us-east-1", None), ("eu-west-1", ROLE)]
    with pytest.raises(RegistryAccessError, match=OTHER):
        tokens.credentials(f"{OTHER}.dkr.ecr.us-east-1.amazonaws.com")


def test_partitions_and_hosts() -> None:
    assert partition_of("cn-north-1") == "aws-cn" and partition_of("us-gov-west-1") == "aws-us-gov"
    assert partition_of("eu-west-1") == "aws"
    settings = Settings(bucket="b", region="cn-north-1", registry_accounts=frozenset({LISTED}),
                        registry_access_role="reader")
    access, _, _ = _access(settings, [NOW])
    assert access.role_arn(LISTED) == f"arn:aws-cn:iam::{LISTED}:role/reader"
    assert ecr_account(f"{LISTED}.dkr.ecr.cn-north-1.amazonaws.com.cn") == LISTED
    assert ecr_account("registry.example.com") is None and ecr_account(None) is None


def test_account_refusal_asks_for_the_own_account_only_when_needed() -> None:
    asked: list[str] = []

    def own() -> str:
        asked.append(OWN)
        return OWN

    settings = Settings(bucket="b", registry_accounts=frozenset({LISTED}))
    assert account_refusal(LISTED, settings, own) is None and asked == []
    assert account_refusal(OWN, settings, own) is None
    reason = account_refusal(OTHER, Settings(bucket="b"), own)
    assert reason is not None and "RegistryAccounts: none" in reason


def test_settings_read_the_registry_accounts() -> None:
    settings = Settings.from_env({"BUCKET": "b", "REGISTRY_ACCOUNTS": f" {LISTED}, {OTHER},,",
                                  "REGISTRY_ACCESS_ROLE_NAME": "reader"})
    assert settings.registry_accounts == {LISTED, OTHER} and settings.registry_access_role == "reader"
    plain = Settings.from_env({"BUCKET": "b", "REGISTRY_ACCOUNTS": ""})
    assert plain.registry_accounts == frozenset() and plain.registry_access_role == "imagescan-registry-read"
    with pytest.raises(ConfigurationError, match="REGISTRY_ACCOUNTS: '12345' is not a 12-digit"):
        Settings.from_env({"BUCKET": "b", "REGISTRY_ACCOUNTS": "12345"})
    with pytest.raises(ConfigurationError, match="REGISTRY_ACCESS_ROLE_NAME"):
        Settings.from_env({"BUCKET": "b", "REGISTRY_ACCESS_ROLE_NAME": "no/slashes"})
