"""Evidence text without secrets. Hygiene findings quote history commands and Dockerfile lines; those may carry
credentials (``curl -u user:pass``, ``https://user:token@host``, ``ARG TOKEN=...``), and no clear secret may reach
a report. Everything that looks like a credential is replaced by ``***`` before it is quoted."""

from __future__ import annotations

import re

from imagescan.secrets.scanner import redact as secret_rules_redact

MAX_EVIDENCE = 300

SECRET_NAME = re.compile(
    r"(?:PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?|AUTH_?KEY"
    r"|CLIENT_?KEY|SIGNING_?KEY|ENCRYPTION_?KEY|SESSION_?KEY|_PASS$|^PASS$|_PWD$|^DB_?PWD$)",
    re.IGNORECASE,
)
"""A variable name that says it holds a credential (``DB_PASSWORD``, ``NPM_TOKEN``, ``AWS_SECRET_ACCESS_KEY``)."""

_NOT_SECRET_NAME = re.compile(r"(?:_FILE|_PATH|_DIR|_URL_?|_ENDPOINT|_HOST|_ID|_NAME|_USER(?:NAME)?|_TYPE)$"
                              r"|^(?:PWD|OLDPWD)$", re.IGNORECASE)

_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^\s/@:'\"]*):(?P<pw>[^\s/@'\"]+)@")
_ASSIGNMENT = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)(?P<sep>\s*[=:]\s*)"
                         r"(?P<value>\"[^\"]*\"|'[^']*'|[^\s&;|'\"]+)")
_QUERY = re.compile(r"(?P<key>[?&](?:[A-Za-z0-9_-]*(?:token|key|secret|signature|sig|password|pass|auth)"
                    r"[A-Za-z0-9_-]*)=)(?P<value>[^&\s'\"]+)", re.IGNORECASE)
_AUTH_HEADER = re.compile(r"(?P<head>(?:authorization|x-api-key|private-token|x-auth-token)\s*:\s*(?:bearer\s+|"
                          r"basic\s+|token\s+)?)(?P<value>[^\s'\"]+)", re.IGNORECASE)
_USER_FLAG = re.compile(r"(?P<flag>(?:\s|^)(?:-u|--user|--password|--passwd|-p(?=\s)|--token|--api-key)[\s=]+)"
                        r"(?P<value>[^\s'\"]+)")
_TOKEN = re.compile(r"(?<![A-Za-z0-9+=_-])(?=[A-Za-z0-9+=_-]*[0-9])(?=[A-Za-z0-9+=_-]*[A-Za-z])[A-Za-z0-9+=_-]{20,}")
"""A long run of letters and digits (an access key, a token, a hash): masked whatever its name."""


def secret_name(name: str) -> bool:
    """True when a variable name says it holds a credential and is not a pointer to one (``*_FILE``, ``*_URL``)."""
    return bool(SECRET_NAME.search(name)) and not _NOT_SECRET_NAME.search(name)


def redact(text: str, limit: int = MAX_EVIDENCE) -> str:
    """``text`` with anything credential-like masked, on one line, cut to ``limit`` characters: first every value
    a secret rule recognises (the report's own redaction), then, more broadly, anything that looks like one."""
    out = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{m.group('user')}:***@", secret_rules_redact(text))
    out = _AUTH_HEADER.sub(lambda m: f"{m.group('head')}***", out)
    out = _QUERY.sub(lambda m: f"{m.group('key')}***", out)
    out = _USER_FLAG.sub(lambda m: f"{m.group('flag')}***", out)
    out = _ASSIGNMENT.sub(
        lambda m: f"{m.group('name')}{m.group('sep')}***" if secret_name(m.group("name")) else m.group(0), out)
    out = _TOKEN.sub("***", out)
    out = " ".join(out.split())
    return out if len(out) <= limit else out[: limit - 1].rstrip() + "…"
