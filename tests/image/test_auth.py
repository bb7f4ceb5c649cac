"""Credentials from docker config.json, WWW-Authenticate parsing, and the Authenticator's token handling."""

from __future__ import annotations

import base64
import json
import logging
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagescan.errors import RegistryError
from imagescan.image.auth import (
    Authenticator,
    Challenge,
    Credentials,
    HttpResult,
    StaticCredentials,
    docker_config_path,
    load_docker_credentials,
    parse_www_authenticate,
)

# ------------------------------------------------------------------------------------------ WWW-Authenticate


def test_parse_bearer_challenge() -> None:
    header = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push"'
    assert parse_www_authenticate(header) == [
        Challenge(
            "bearer",
            {
                "realm": "https://auth.docker.io/token",
                "service": "registry.docker.io",
                "scope": "repository:a/b:pull,push",
            },
        )
    ]


def test_parse_several_challenges_tokens_and_escapes() -> None:
    header = 'Basic realm="x\\"y", charset=UTF-8, BEARER Realm=https://t/token ,  error="invalid_token"'
    assert parse_www_authenticate(header) == [
        Challenge("basic", {"realm": 'x"y', "charset": "UTF-8"}),
        Challenge("bearer", {"realm": "https://t/token", "error": "invalid_token"}),
    ]


def test_parse_degenerate_headers() -> None:
    assert parse_www_authenticate("") == []
    assert parse_www_authenticate("Basic") == [Challenge("basic", {})]
    assert parse_www_authenticate("Negotiate abc==") == [Challenge("negotiate", {})]
    assert parse_www_authenticate('Bearer realm="unterminated') == [Challenge("bearer", {"realm": "unterminated"})]


@given(st.text(max_size=300))
@settings(max_examples=500)
def test_parse_never_raises(header: str) -> None:
    for challenge in parse_www_authenticate(header):
        assert challenge.scheme and challenge.scheme == challenge.scheme.lower()
        assert all(k == k.lower() for k in challenge.params)


_name = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-", min_size=1, max_size=10)


@given(st.dictionaries(_name, st.text(st.characters(blacklist_categories=["Cs"]), max_size=30), max_size=5))
def test_parse_round_trips_quoted_params(params: dict[str, str]) -> None:
    quoted = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"' for k, v in params.items()
    )
    assert parse_www_authenticate(f"Bearer {quoted}") == [Challenge("bearer", params)]


# ------------------------------------------------------------------------------------------ docker config


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("key", "registry"),
    [
        ("registry.example.com", "registry.example.com"),
        ("https://registry.example.com", "registry.example.com"),
        ("https://registry.example.com/v1/", "registry.example.com"),
        ("http://localhost:5000/v2/", "localhost:5000"),
        ("https://index.docker.io/v1/", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
        ("docker.io", "index.docker.io"),
        ("Registry.Example.COM", "registry.example.com"),
    ],
)
def test_config_keys_match_registries(tmp_path: Path, key: str, registry: str) -> None:
    config = _write(tmp_path / "config.json", {"auths": {key: {"auth": _b64("user:pa:ss")}}})
    assert load_docker_credentials(registry, config) == Credentials("user", "pa:ss")


def test_config_other_host_and_port_do_not_match(tmp_path: Path) -> None:
    config = _write(
        tmp_path / "c.json", {"auths": {"localhost:5000": {"auth": _b64("u:p")}, "other.io": {"auth": _b64("u:p")}}}
    )
    assert load_docker_credentials("localhost:5001", config) is None
    assert load_docker_credentials("localhost", config) is None
    assert load_docker_credentials("docker.io", config) is None


def test_config_username_password_and_identity_token(tmp_path: Path) -> None:
    config = _write(
        tmp_path / "c.json",
        {
            "auths": {
                "a.io": {"username": "ann", "password": "pw"},
                "b.io": {"auth": _b64("<token>:"), "identitytoken": "refresh"},
                "c.io": {},
            }
        },
    )
    assert load_docker_credentials("a.io", config) == Credentials("ann", "pw")
    assert load_docker_credentials("b.io", config) == Credentials("<token>", "", "refresh")
    assert load_docker_credentials("c.io", config) is None


def test_config_credential_helpers_are_skipped_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = _write(tmp_path / "c.json", {"credHelpers": {"a.io": "ecr-login"}, "auths": {"a.io": {}}})
    with caplog.at_level(logging.WARNING):
        assert load_docker_credentials("a.io", config) is None
    assert "ecr-login" in caplog.text and "not supported" in caplog.text
    store = _write(tmp_path / "s.json", {"credsStore": "desktop"})
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert load_docker_credentials("b.io", store) is None
    assert "desktop" in caplog.text


def test_config_missing_file_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_docker_credentials("a.io", tmp_path / "absent.json") is None
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert docker_config_path() == tmp_path / "config.json"
    _write(tmp_path / "config.json", {"auths": {"a.io": {"auth": _b64("x:y")}}})
    assert load_docker_credentials("a.io") == Credentials("x", "y")
    monkeypatch.delenv("DOCKER_CONFIG")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert docker_config_path() == tmp_path / "home" / ".docker" / "config.json"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "not a JSON object"),
        (json.dumps({"auths": {"a.io": {"auth": "!!!"}}}), "not valid base64"),
        (json.dumps({"auths": {"a.io": {"auth": _b64("nocolon")}}}), "user:password"),
        (json.dumps({"auths": {"a.io": {"auth": base64.b64encode(b"\xff\xfe:x").decode()}}}), "base64"),
    ],
)
def test_config_errors(tmp_path: Path, content: str, message: str) -> None:
    config = _write(tmp_path / "config.json", content)
    with pytest.raises(RegistryError, match=message):
        load_docker_credentials("a.io", config)


def test_config_unreadable(tmp_path: Path) -> None:
    (tmp_path / "config.json").mkdir()
    with pytest.raises(RegistryError, match="cannot read docker config"):
        load_docker_credentials("a.io", tmp_path / "config.json")


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["auths", "a.io", "auth", "identitytoken", "username", "password", "credsStore", "credHelpers", "x"]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@given(st.one_of(_json.map(json.dumps), st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
@settings(max_examples=300)
def test_config_fuzz(tmp_path_factory: pytest.TempPathFactory, content: str) -> None:
    path = tmp_path_factory.mktemp("cfg") / "config.json"
    path.write_text(content, encoding="utf-8")
    try:
        result = load_docker_credentials("a.io", path)
    except RegistryError as exc:
        assert "\n" not in str(exc).strip()
    else:
        assert result is None or isinstance(result, Credentials)


# ------------------------------------------------------------------------------------------ Authenticator


class FakeTokenServer:
    def __init__(self, responses: list[HttpResult] | None = None) -> None:
        self.calls: list[tuple[str, str, dict[str, str], bytes | None]] = []
        self.responses = responses

    def __call__(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> HttpResult:
        self.calls.append((method, url, dict(headers), body))
        if self.responses:
            return self.responses.pop(0)
        token = f"t{len(self.calls)}"
        return HttpResult(200, {}, json.dumps({"token": token, "expires_in": 300}).encode())


class CountingSource(StaticCredentials):
    def __init__(self, credentials: Credentials | None) -> None:
        super().__init__(credentials)
        self.invalidated = 0

    def invalidate(self) -> None:
        self.invalidated += 1


CHALLENGE = 'Bearer realm="https://auth.example/token",service="reg",scope="repository:team/app:pull"'


def test_bearer_token_is_requested_once_and_cached() -> None:
    server = FakeTokenServer()
    now = [0.0]
    auth = Authenticator(
        "reg.example", "team/app", StaticCredentials(Credentials("u", "p")), server, clock=lambda: now[0]
    )
    assert auth.header() is None
    auth.challenge(CHALLENGE)
    assert auth.header() == "Bearer t1"
    now[0] = 289.0
    assert auth.header() == "Bearer t1"
    assert len(server.calls) == 1
    method, url, headers, _ = server.calls[0]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert method == "GET" and url.startswith("https://auth.example/token?")
    assert query == {"service": ["reg"], "scope": ["repository:team/app:pull"], "account": ["u"]}
    assert headers["Authorization"] == Credentials("u", "p").basic_header()
    now[0] = 291.0  # within the safety margin of expires_in
    assert auth.header() == "Bearer t2"


def test_extra_scopes_from_the_challenge_are_added() -> None:
    server = FakeTokenServer()
    auth = Authenticator("reg", "team/app", StaticCredentials(None), server)
    auth.challenge('Bearer realm="https://a/t?x=1",scope="repository:team/base:pull repository:team/app:pull"')
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(server.calls[0][1]).query)
    assert query == {"x": ["1"], "scope": ["repository:team/app:pull", "repository:team/base:pull"]}
    assert "Authorization" not in server.calls[0][2]


def test_identity_token_uses_the_oauth2_refresh_grant() -> None:
    server = FakeTokenServer([HttpResult(200, {}, b'{"access_token": "acc", "expires_in": 5}')])
    auth = Authenticator("reg", "team/app", StaticCredentials(Credentials("<token>", "", "refresh")), server)
    auth.challenge(CHALLENGE)
    assert auth.header() == "Bearer acc"
    method, url, headers, body = server.calls[0]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = urllib.parse.parse_qs((body or b"").decode())
    assert method == "POST" and url == "https://auth.example/token"
    assert form["grant_type"] == ["refresh_token"] and form["refresh_token"] == ["refresh"]
    assert form["scope"] == ["repository:team/app:pull"] and form["service"] == ["reg"]


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (HttpResult(401, {}, b""), "rejected the credentials"),
        (HttpResult(503, {}, b""), "returned 503"),
        (HttpResult(200, {}, b"<html>"), "not JSON"),
        (HttpResult(200, {}, b"[1]"), "not a JSON object"),
        (HttpResult(200, {}, b'{"token": 5}'), "no token"),
        (HttpResult(200, {}, b"\xff\xfe"), "not JSON"),
    ],
)
def test_token_server_errors(response: HttpResult, message: str) -> None:
    auth = Authenticator("reg", "team/app", StaticCredentials(None), FakeTokenServer([response]))
    with pytest.raises(RegistryError, match=message):
        auth.challenge(CHALLENGE)


def test_token_without_lifetime_lives_the_minimum_60_seconds() -> None:
    now = [0.0]
    server = FakeTokenServer(
        [HttpResult(200, {}, b'{"token": "a", "expires_in": "x"}'), HttpResult(200, {}, b'{"token": "b"}')]
    )
    auth = Authenticator("reg", "team/app", StaticCredentials(None), server, clock=lambda: now[0])
    auth.challenge(CHALLENGE)
    now[0] = 49.0
    assert auth.header() == "Bearer a"
    now[0] = 51.0
    assert auth.header() == "Bearer b"


@pytest.mark.parametrize("realm", ["http://auth.example/token", "ftp://auth.example/t", "token", ""])
def test_bad_or_plain_http_realms_are_refused(realm: str) -> None:
    server = FakeTokenServer()
    auth = Authenticator("reg", "r", StaticCredentials(Credentials("u", "p")), server)
    with pytest.raises(RegistryError, match="realm"):
        auth.challenge(f'Bearer realm="{realm}"')
    assert server.calls == []


def test_plain_http_realm_allowed_for_loopback_or_insecure() -> None:
    for realm, insecure in [("http://127.0.0.1:1/token", False), ("http://auth.example/token", True)]:
        server = FakeTokenServer()
        auth = Authenticator("reg", "r", StaticCredentials(None), server, allow_plain_http=insecure)
        auth.challenge(f'Bearer realm="{realm}"')
        assert auth.header() == "Bearer t1"


def test_basic_challenge() -> None:
    source = CountingSource(Credentials("u", "p"))
    auth = Authenticator("reg", "r", source, FakeTokenServer())
    assert auth.header() is None  # nothing is sent before the registry asks
    auth.challenge('Basic realm="reg"')
    assert auth.header() == "Basic " + _b64("u:p")
    assert source.invalidated == 0
    auth.challenge('Basic realm="reg"')  # the credentials were rejected
    assert source.invalidated == 1


def test_basic_challenge_without_credentials() -> None:
    auth = Authenticator("reg", "r", StaticCredentials(None), FakeTokenServer())
    with pytest.raises(RegistryError, match="no user name and password") as err:
        auth.challenge('Basic realm="reg"')
    assert err.value.status == 401


def test_preemptive_basic_and_invalidation() -> None:
    source = CountingSource(Credentials("AWS", "tok"))
    auth = Authenticator("reg", "r", source, FakeTokenServer(), preemptive_basic=True)
    assert auth.header() == "Basic " + _b64("AWS:tok")
    auth.challenge(None)  # a 401 without a challenge: the preemptive credentials were rejected
    assert source.invalidated == 1
    assert auth.header() == "Basic " + _b64("AWS:tok")


def test_unsupported_challenge() -> None:
    auth = Authenticator("reg", "r", StaticCredentials(None), FakeTokenServer())
    with pytest.raises(RegistryError, match="unsupported authentication"):
        auth.challenge('Digest realm="x", nonce="y"')
    with pytest.raises(RegistryError, match="no WWW-Authenticate"):
        auth.challenge(None)


def test_credentials_repr_hides_secrets() -> None:
    text = repr(Credentials("user", "secret-password", "secret-token"))
    assert "user" in text and "secret" not in text
