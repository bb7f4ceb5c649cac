"""A fault-injecting HTTP proxy in front of a real (anonymous) registry, for the registry client's tests.

It can demand Bearer tokens (serving its own token endpoint at ``/token`` that checks Basic credentials, identity
tokens and the requested scope), answer scripted faults (429, 500, 401..., or drop the connection), redirect blob
GETs (to a second server on another port, or to its own ``/_blob`` path), truncate or stall blob bodies, and records
every request it sees. Only ever listens on and talks to 127.0.0.1.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import secrets
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

_REPO_RE = re.compile(r"^/v2/(.+?)/(manifests|blobs|tags)/")
_FORWARDED = ("Accept", "Range", "Accept-Encoding")
_RETURNED = ("Content-Type", "Docker-Content-Digest", "Content-Range", "Location", "Docker-Distribution-Api-Version")


@dataclass
class Fault:
    path_contains: str
    status: int
    """0: close the connection without answering; -1: forward, but cut the body short."""
    times: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    method: str | None = None


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        return None

    def do_GET(self) -> None:
        self.server.owner.handle(self)

    do_HEAD = do_GET
    do_POST = do_GET


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: _Base) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner


class _Base:
    def __init__(self, upstream: str) -> None:
        self.upstream = urllib.parse.urlsplit(upstream).netloc
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def __enter__(self) -> _Base:
        self._thread.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()

    def record(self, h: _Handler) -> None:
        with self.lock:
            self.seen.append(Seen(h.command, h.path, {k: v for k, v in h.headers.items()}))

    def handle(self, h: _Handler) -> None:
        raise NotImplementedError

    @staticmethod
    def reply(h: _Handler, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def forward(self, h: _Handler, path: str, *, truncate: bool = False, stall: threading.Event | None = None) -> None:
        conn = http.client.HTTPConnection(self.upstream, timeout=30)
        try:
            headers = {k: h.headers[k] for k in _FORWARDED if h.headers.get(k)}
            conn.request(h.command, path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            h.send_response(resp.status)
            for k in _RETURNED:
                if resp.getheader(k):
                    h.send_header(k, resp.getheader(k) or "")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            if h.command == "HEAD":
                return
            if truncate:
                h.wfile.write(body[: len(body) // 2])
                h.wfile.flush()
                h.close_connection = True
                return
            if stall is not None:
                h.wfile.write(body[: len(body) // 2])
                h.wfile.flush()
                stall.wait(10)
                h.wfile.write(body[len(body) // 2 :])
                return
            h.wfile.write(body)
        finally:
            conn.close()


class BlobStore(_Base):
    """Another origin (its own port) serving ``/v2/...`` blob paths from the upstream; records request headers."""

    def handle(self, h: _Handler) -> None:
        self.record(h)
        self.forward(h, h.path)


class FaultProxy(_Base):
    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.faults: list[Fault] = []
        self.bearer = False
        self.users: dict[str, str] = {}
        self.identity_tokens: set[str] = set()
        self.allow_anonymous_tokens = False
        self.token_lifetime = 300
        self.tokens: dict[str, list[str]] = {}
        """Valid token → the scopes it was issued for."""
        self.token_requests: list[dict[str, list[str]]] = []
        self.redirect_blobs: str | None = None
        """``"cross"``: to :attr:`blobstore`; ``"same"``: to this proxy's ``/_blob`` path."""
        self.truncate_blobs = False
        self.stall_blobs: threading.Event | None = None
        self.blobstore = BlobStore(f"http://{self.upstream}")

    def __enter__(self) -> FaultProxy:
        super().__enter__()
        self.blobstore.__enter__()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.blobstore.__exit__(t, e, tb)
        super().__exit__(t, e, tb)

    # -- scripting

    def fail(
        self,
        path_contains: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        method: str | None = None,
    ) -> None:
        with self.lock:
            self.faults.append(Fault(path_contains, status, times, dict(headers or {}), body, method))

    def revoke_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def requests_to(self, part: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if part in s.path]

    # -- serving

    def handle(self, h: _Handler) -> None:
        self.record(h)
        path = h.path
        if path.startswith("/token"):
            self._token(h)
            return
        fault = self._take_fault(h)
        if fault is not None:
            if fault.status == 0:
                h.close_connection = True
                return
            if fault.status == -1:
                self.forward(h, h.path, truncate=True)
                return
            self.reply(h, fault.status, fault.body, fault.headers)
            return
        match = _REPO_RE.match(path.removeprefix("/_blob"))
        repo = match.group(1) if match else None
        if self.bearer and not self._authorized(h, repo):
            scope = f',scope="repository:{repo}:pull"' if repo else ""
            challenge = f'Bearer realm="{self.url}/token",service="fault-proxy"{scope}'
            body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}).encode()
            self.reply(h, 401, body, {"WWW-Authenticate": challenge, "Content-Type": "application/json"})
            return
        is_blob = match is not None and match.group(2) == "blobs" and h.command == "GET"
        if is_blob and self.redirect_blobs and not path.startswith("/_blob"):
            target = f"{self.blobstore.url}{path}" if self.redirect_blobs == "cross" else f"/_blob{path}"
            self.reply(h, 307, b"", {"Location": target})
            return
        self.forward(
            h,
            path.removeprefix("/_blob"),
            truncate=is_blob and self.truncate_blobs,
            stall=self.stall_blobs if is_blob else None,
        )

    def _take_fault(self, h: _Handler) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.path_contains in h.path and fault.method in (None, h.command):
                    fault.times -= 1
                    return fault
        return None

    def _authorized(self, h: _Handler, repo: str | None) -> bool:
        value = h.headers.get("Authorization", "")
        if not value.startswith("Bearer "):
            return False
        with self.lock:
            scopes = self.tokens.get(value[len("Bearer ") :])
        if scopes is None:
            return False
        return repo is None or f"repository:{repo}:pull" in scopes

    def _token(self, h: _Handler) -> None:
        if h.command == "POST":
            length = int(h.headers.get("Content-Length") or 0)
            params = urllib.parse.parse_qs(h.rfile.read(length).decode())
            ok = params.get("grant_type") == ["refresh_token"] and bool(
                set(params.get("refresh_token", [])) & self.identity_tokens
            )
        else:
            params = urllib.parse.parse_qs(urllib.parse.urlsplit(h.path).query)
            ok = self._basic_ok(h.headers.get("Authorization"))
        with self.lock:
            self.token_requests.append(params)
        scopes = params.get("scope", [])
        if not ok or params.get("service") != ["fault-proxy"]:
            self.reply(h, 401, b'{"details":"incorrect username or password"}', {"Content-Type": "application/json"})
            return
        token = secrets.token_hex(16)
        with self.lock:
            self.tokens[token] = scopes
        body = json.dumps({"token": token, "access_token": token, "expires_in": self.token_lifetime}).encode()
        self.reply(h, 200, body, {"Content-Type": "application/json"})

    def _basic_ok(self, value: str | None) -> bool:
        if not value:
            return self.allow_anonymous_tokens
        if not value.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(value[len("Basic ") :]).decode().partition(":")
        return user in self.users and self.users[user] == password
