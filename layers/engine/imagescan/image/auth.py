"""Registry credentials and the distribution-spec authentication flows (anonymous, Basic, Bearer token).

Credentials come from the caller, from ECR (see :mod:`imagescan.image.ecr`), or from the Docker client's
``config.json`` (``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``): ``auths.<host>.auth`` (base64
``user:password``), ``auths.<host>.username``/``password``, and ``auths.<host>.identitytoken`` (an OAuth2 refresh
token, exchanged at the token server). ``credHelpers`` and ``credsStore`` name external programs; the engine is pure
Python and never runs them, so such entries are skipped with a logged warning.

Errors are :class:`imagescan.errors.RegistryError`.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol

from imagescan.errors import RegistryError

log = logging.getLogger(__name__)

DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_TOKEN_MARGIN = 10.0
"""Seconds before a bearer token's stated expiry at which it is no longer used."""
_MIN_TOKEN_LIFETIME = 60
_MAX_TOKEN_BODY = 1 << 20


@dataclass(frozen=True)
class Credentials:
    """A user name and password, or an identity (refresh) token, for one registry."""

    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)

    def basic_header(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


class CredentialSource(Protocol):
    """Where an :class:`Authenticator` gets credentials; ``invalidate`` is called when the registry rejects them."""

    def get(self) -> Credentials | None: ...

    def invalidate(self) -> None: ...


class StaticCredentials:
    """Fixed credentials (or none: anonymous)."""

    def __init__(self, credentials: Credentials | None) -> None:
        self._credentials = credentials

    def get(self) -> Credentials | None:
        return self._credentials

    def invalidate(self) -> None:
        return None


class HttpResult(NamedTuple):
    status: int
    headers: Mapping[str, str]
    body: bytes


Sender = Callable[[str, str, Mapping[str, str], "bytes | None"], HttpResult]
"""``send(method, url, headers, body)``: one HTTP exchange (with the caller's retries), body read whole."""


# ---------------------------------------------------------------------------------------------- WWW-Authenticate


@dataclass(frozen=True)
class Challenge:
    scheme: str
    """Lower case: ``bearer``, ``basic``, ..."""
    params: dict[str, str]
    """Auth-params with lower-case names (``realm``, ``service``, ``scope``, ``error``)."""


_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ/=:")


def _skip(text: str, i: int, chars: str) -> int:
    while i < len(text) and text[i] in chars:
        i += 1
    return i


def _read_token(text: str, i: int) -> tuple[str, int]:
    start = i
    while i < len(text) and text[i] in _TOKEN_CHARS and text[i] != "=":
        i += 1
    return text[start:i], i


def _read_value(text: str, i: int) -> tuple[str, int]:
    if i < len(text) and text[i] == '"':
        out: list[str] = []
        i += 1
        while i < len(text) and text[i] != '"':
            if text[i] == "\\" and i + 1 < len(text):
                i += 1
            out.append(text[i])
            i += 1
        return "".join(out), i + 1
    start = i
    while i < len(text) and text[i] not in ", \t":
        i += 1
    return text[start:i], i


def parse_www_authenticate(header: str) -> list[Challenge]:
    """Parse a ``WWW-Authenticate`` value into its challenges (RFC 9110 syntax, leniently). Never raises.

    ``Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push"`` gives one
    challenge; several challenges may share one header, separated by commas.
    """
    challenges: list[Challenge] = []
    current: Challenge | None = None
    i = 0
    n = len(header)
    while i < n:
        i = _skip(header, i, ", \t")
        if i >= n:
            break
        name, j = _read_token(header, i)
        if not name:
            i += 1  # a character that cannot start anything: skip it
            continue
        k = _skip(header, j, " \t")
        if k < n and header[k] == "=" and current is not None and not header.startswith("==", k):
            value, i = _read_value(header, _skip(header, k + 1, " \t"))
            current.params.setdefault(name.lower(), value)
            continue
        if k < n and header[k] == "=":  # token68 or a stray parameter before any scheme
            i = _skip(header, k, "=")
            continue
        current = Challenge(name.lower(), {})
        challenges.append(current)
        i = j
    return challenges


# ---------------------------------------------------------------------------------------------- docker config.json


def docker_config_path() -> Path | None:
    """``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json`` (None when no home directory is known)."""
    env = os.environ.get("DOCKER_CONFIG")
    if env:
        return Path(env) / "config.json"
    try:
        return Path.home() / ".docker" / "config.json"
    except RuntimeError:
        return None


def _normalize_host(key: str) -> str:
    host = key.strip().lower()
    for prefix in ("https://", "http://"):
        if host.startswith(prefix):
            host = host[len(prefix) :]
    host = host.split("/", 1)[0]
    return "docker.io" if host in DOCKER_HUB_ALIASES else host


def _entry_credentials(entry: Mapping[str, object], path: Path, key: str) -> Credentials | None:
    auth = entry.get("auth")
    token = entry.get("identitytoken")
    username = entry.get("username")
    password = entry.get("password")
    user, pw = "", ""
    if isinstance(auth, str) and auth:
        try:
            decoded = base64.b64decode(auth.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError) as exc:
            raise RegistryError(f"docker config {path}: auths.{key}.auth is not valid base64 user:password") from exc
        user, sep, pw = decoded.partition(":")
        if not sep:
            raise RegistryError(f"docker config {path}: auths.{key}.auth does not hold user:password")
    elif isinstance(username, str) and isinstance(password, str):
        user, pw = username, password
    if isinstance(token, str) and token:
        return Credentials(username=user, password=pw, identity_token=token)
    if user or pw:
        return Credentials(username=user, password=pw)
    return None


def load_docker_credentials(registry: str, config_path: Path | None = None) -> Credentials | None:
    """The credentials ``config.json`` holds for ``registry`` (``host[:port]``; ``docker.io`` for Docker Hub).

    ``config_path`` defaults to :func:`docker_config_path`. A missing file or host gives None; a file that cannot
    be parsed raises RegistryError. Entries served by ``credHelpers``/``credsStore`` are skipped with a warning.
    """
    path = config_path if config_path is not None else docker_config_path()
    if path is None:
        return None
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryError(f"cannot read docker config {path}: {exc}") from exc
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise RegistryError(f"docker config {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise RegistryError(f"docker config {path} is not a JSON object")
    wanted = _normalize_host(registry)
    auths = data.get("auths")
    if isinstance(auths, dict):
        for key, entry in auths.items():
            if isinstance(entry, dict) and _normalize_host(str(key)) == wanted:
                creds = _entry_credentials(entry, path, str(key))
                if creds is not None:
                    return creds
    helpers = data.get("credHelpers")
    helper = None
    if isinstance(helpers, dict):
        helper = next((v for k, v in helpers.items() if _normalize_host(str(k)) == wanted), None)
    store = data.get("credsStore")
    if helper or store:
        log.warning(
            "docker config %s delegates credentials for %s to the credential helper %r; credential helpers are "
            "not supported (no external programs are run), so the registry is accessed anonymously",
            path,
            registry,
            helper or store,
        )
    return None


# ---------------------------------------------------------------------------------------------- authenticator


def _is_loopback_host(host: str) -> bool:
    host = host.lower().strip("[]")
    return host in {"localhost", "::1"} or host.startswith("127.")


@dataclass
class _Token:
    value: str
    expires: float


class Authenticator:
    """The ``Authorization`` header for one repository on one registry, following the registry's challenges.

    Before any challenge nothing is sent, unless ``preemptive_basic`` (ECR, where Basic is known to be expected).
    A ``Bearer`` challenge is answered by a token request for ``repository:REPO:pull`` (plus any scope the
    challenge names) to the challenge's realm, with Basic credentials when there are any, or an OAuth2
    refresh-token POST for an identity token. Tokens are cached until shortly before ``expires_in``.
    """

    def __init__(
        self,
        registry: str,
        repository: str,
        credentials: CredentialSource,
        send: Sender,
        *,
        preemptive_basic: bool = False,
        allow_plain_http: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = registry
        self.scope = f"repository:{repository}:pull"
        self._credentials = credentials
        self._send = send
        self._preemptive_basic = preemptive_basic
        self._allow_plain_http = allow_plain_http
        self._clock = clock
        self._lock = threading.Lock()
        self._scheme: str | None = None
        self._challenge: dict[str, str] = {}
        self._token: _Token | None = None
        self.token_requests = 0
        """How many token requests were made (for diagnostics)."""

    def header(self) -> str | None:
        """The ``Authorization`` value for the next request, or None for anonymous."""
        with self._lock:
            if self._scheme == "bearer":
                if self._token is None or self._clock() >= self._token.expires:
                    self._token = self._fetch_token()
                return f"Bearer {self._token.value}"
            if self._scheme == "basic" or (self._scheme is None and self._preemptive_basic):
                creds = self._credentials.get()
                return creds.basic_header() if creds is not None and not creds.identity_token else None
            return None

    def challenge(self, www_authenticate: str | None) -> None:
        """React to a 401: learn the scheme and get fresh credentials or a fresh token; raise when impossible."""
        challenges = parse_www_authenticate(www_authenticate or "")
        chosen = next((c for c in challenges if c.scheme == "bearer"), None) or next(
            (c for c in challenges if c.scheme == "basic"), None
        )
        with self._lock:
            if chosen is None:
                if self._scheme is None and self._preemptive_basic:
                    chosen = Challenge("basic", {})
                else:
                    shown = (www_authenticate or "no WWW-Authenticate challenge").strip()[:200]
                    raise RegistryError(
                        f"registry {self.registry} asks for an unsupported authentication ({shown})", 401
                    )
            if self._scheme is not None or self._preemptive_basic:
                self._credentials.invalidate()  # what we sent was rejected (expired token or password)
            self._scheme = chosen.scheme
            self._challenge = chosen.params
            if chosen.scheme == "bearer":
                self._token = self._fetch_token()
                return
            creds = self._credentials.get()
            if creds is None or creds.identity_token:
                raise RegistryError(
                    f"registry {self.registry} requires authentication (Basic) and no user name and password "
                    f"were found for it (docker config: {docker_config_path()})",
                    401,
                )

    # -- token server

    def _scopes(self) -> list[str]:
        scopes = [self.scope]
        for extra in self._challenge.get("scope", "").split(" "):
            if extra and extra not in scopes:
                scopes.append(extra)
        return scopes

    def _realm(self) -> str:
        realm = self._challenge.get("realm", "")
        parts = urllib.parse.urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RegistryError(f"registry {self.registry} named an invalid token realm {realm[:200]!r}", 401)
        if parts.scheme == "http" and not self._allow_plain_http and not _is_loopback_host(parts.hostname):
            raise RegistryError(
                f"registry {self.registry} named a plain-HTTP token realm {realm[:200]}; refusing to send "
                "credentials without TLS (use --insecure to allow)",
                401,
            )
        return realm

    def _fetch_token(self) -> _Token:
        realm = self._realm()
        service = self._challenge.get("service")
        creds = self._credentials.get()
        headers = {"Accept": "application/json"}
        self.token_requests += 1
        if creds is not None and creds.identity_token:
            form: list[tuple[str, str]] = [
                ("grant_type", "refresh_token"),
                ("refresh_token", creds.identity_token),
                ("client_id", "imagescan"),
            ]
            if service:
                form.append(("service", service))
            form += [("scope", s) for s in self._scopes()]
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(form).encode()
            result = self._send("POST", realm, headers, body)
        else:
            query: list[tuple[str, str]] = []
            if service:
                query.append(("service", service))
            query += [("scope", s) for s in self._scopes()]
            if creds is not None:
                query.append(("account", creds.username))
                headers["Authorization"] = creds.basic_header()
            sep = "&" if urllib.parse.urlsplit(realm).query else "?"
            result = self._send("GET", realm + sep + urllib.parse.urlencode(query), headers, None)
        return self._parse_token(result, realm)

    def _parse_token(self, result: HttpResult, realm: str) -> _Token:
        where = f"token server {urllib.parse.urlsplit(realm).netloc} for registry {self.registry}"
        if result.status in (401, 403):
            raise RegistryError(f"unauthorized: {where} rejected the credentials ({result.status})", 401)
        if result.status != 200:
            raise RegistryError(f"{where} returned {result.status}", result.status)
        try:
            data = json.loads(result.body[:_MAX_TOKEN_BODY].decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise RegistryError(f"{where} sent a response that is not JSON") from exc
        if not isinstance(data, dict):
            raise RegistryError(f"{where} sent a response that is not a JSON object")
        token = data.get("token") or data.get("access_token")
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{where} sent no token")
        lifetime = data.get("expires_in")
        seconds = lifetime if isinstance(lifetime, int) and not isinstance(lifetime, bool) else 0
        seconds = max(seconds, _MIN_TOKEN_LIFETIME)
        return _Token(token, self._clock() + seconds - _TOKEN_MARGIN)
