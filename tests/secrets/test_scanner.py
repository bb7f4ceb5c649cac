"""The scanner's machinery: keyword prefilter (native and fallback agree), robustness, redaction, the cataloger."""

from __future__ import annotations

import io
import random
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagescan.secrets.cataloger import MAX_FILE_SIZE, SecretsCataloger, shape_only, wants_path
from imagescan.secrets.rules import RULES
from imagescan.secrets.scanner import SCANNER, Prefilter, Scanner, redact, scan
from tests.secrets.cases import POSITIVES

KEYWORDS = sorted({k for r in RULES for k in r.keywords})
FALLBACK = Scanner(native=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(KEYWORDS), st.binary(max_size=12)), max_size=30))
def test_prefilters_agree(pieces: list[bytes]) -> None:
    text = b"".join(pieces).lower()
    native = Prefilter(KEYWORDS).present(text)
    fallback = Prefilter(KEYWORDS, native=False).present(text)
    assert native == fallback
    assert native == {k for k in KEYWORDS if k in text}


@pytest.mark.parametrize("rule_id", sorted(POSITIVES))
def test_fallback_scanner_finds_the_same(rule_id: str) -> None:
    text, _, path = POSITIVES[rule_id](random.Random(zlib.crc32(rule_id.encode())))
    assert [(m.rule.id, m.start, m.fingerprint) for m in FALLBACK.scan(text.encode(), path)] == \
        [(m.rule.id, m.start, m.fingerprint) for m in SCANNER.scan(text.encode(), path)]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from([None, "root/.pgpass", "root/.netrc", "root/.kube/config"]))
def test_any_bytes_scan_without_error(data: bytes, path: str | None) -> None:
    for match in scan(data, path):
        assert 0 <= match.start < match.end <= len(data)
        assert len(match.fingerprint) == 64


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(POSITIVES)), st.integers(0, 2**32), st.binary(max_size=64), st.binary(max_size=64))
def test_secrets_in_mangled_surroundings(rule_id: str, seed: int, before: bytes, after: bytes) -> None:
    text, secret, path = POSITIVES[rule_id](random.Random(seed))
    for match in scan(before + text.encode() + after, path):
        assert secret not in match.masked


def test_redact_masks_what_scan_finds_and_nothing_else() -> None:
    rng = random.Random(5)
    _, token, _ = POSITIVES["npm-access-token"](rng)
    _, password, _ = POSITIVES["generic-password"](rng)
    line = f"RUN |2 NPM_TOKEN={token} DB_PASSWORD={password} /bin/sh -c npm ci"
    redacted = redact(line)
    assert token not in redacted and password not in redacted
    assert redacted.startswith("RUN |2 NPM_TOKEN=npm_*****") and redacted.endswith(" /bin/sh -c npm ci")
    plain = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    assert redact(plain) == plain


@pytest.mark.parametrize(("path", "wanted"), [
    ("app/.env", True), ("root/.aws/credentials", True), ("etc/nginx/conf.d/default.conf", True),
    ("usr/local/lib/python3.11/site-packages/app/settings.py", True), ("app/node_modules/lib/index.js", True),
    ("root/.docker/config.json", True), ("usr/share/nginx/html/config.js", True), ("usr/bin/entrypoint.sh", True),
    ("usr/share/doc/curl/copyright", False), ("usr/share/man/man1/ls.1.gz", False), ("var/lib/dpkg/status", False),
    ("usr/share/locale/de/LC_MESSAGES/x.mo", False), ("app/__pycache__/m.cpython-311.pyc", False),
    ("app/logo.png", False), ("app/dist.tar.gz", False), ("usr/lib/x86_64-linux-gnu/libssl.so.3", False),
    ("usr/lib/python3.11/ssl.py", False), ("usr/lib/python3/dist-packages/yaml/__init__.py", False),
    ("usr/local/lib/python3.11/os.py", False), ("app/package-lock.json", False),
    ("app/node_modules/lib/test/fixtures/key.pem", False), ("app/node_modules/lib/README.md", False),
    ("usr/local/lib/python3.11/site-packages/requests-2.0.dist-info/METADATA", False),
    ("usr/local/lib/python3.11/site-packages/pkg/tests/test_auth.py", False), ("app/tests/test_config.py", True),
])
def test_wants_path(path: str, wanted: bool) -> None:
    assert wants_path(path) is wanted
    assert SecretsCataloger().wants(path) is wanted


def _parse(data: bytes, path: str = "app/config.env") -> list[str]:
    record = SecretsCataloger().parse(path, io.BytesIO(data), len(data))
    return [] if record is None else [f.rule for f in record.findings]


def test_cataloger_reads_text_and_skips_binary() -> None:
    text, secret, _ = POSITIVES["github-pat"](random.Random(1))
    assert _parse(text.encode()) == ["github-pat"]
    assert _parse(b"\x7fELF\x02\x01\x01\x00" + text.encode()) == []
    assert _parse(b"x" * 9000 + b"\x00" + text.encode()) == ["github-pat"]  # a NUL past the sniffed head
    assert _parse(b"") == []
    record = SecretsCataloger().parse("app/config.env", io.BytesIO(text.encode()), len(text))
    assert record is not None and record.cataloger == "secrets" and record.path == "app/config.env"
    assert secret not in record.model_dump_json()


def test_cataloger_contract() -> None:
    c = SecretsCataloger()
    assert c.name == "secrets" and c.max_file_size == MAX_FILE_SIZE == 1 << 20 and c.warn_oversize is False


@pytest.mark.parametrize("path", ["app/node_modules/lib/index.js", "usr/local/lib/python3.11/site-packages/x/c.py",
                                  "app/.env.example", "app/config.sample.yml", "app/examples/settings.py"])
def test_libraries_and_samples_get_shape_rules_only(path: str) -> None:
    rng = random.Random(4)
    _, token, _ = POSITIVES["github-pat"](rng)
    text, _, _ = POSITIVES["generic-password"](rng)
    url, _, _ = POSITIVES["url-password"](rng)
    data = f"{text}{url}TOKEN={token}\n".encode()
    assert shape_only(path)
    assert [m.rule.id for m in scan(data, path, shape_only(path))] == ["github-pat"]
    assert [m.rule.id for m in scan(data, "app/settings.py", shape_only("app/settings.py"))] == \
        ["generic-password", "url-password", "github-pat"]
    assert not shape_only("app/settings.py") and not shape_only("root/.aws/credentials")


def test_type_annotations_and_dates_are_not_values() -> None:
    code = b"def sign(data: bytes,\n         private_key: PKCS7PrivateKeyTypes,\n) -> None: ...\n"
    assert scan(code, "app/sign.py") == []
    assert scan(b'{"PasswordLastUsed": "2014-10-10T14:37:51Z"}', "app/user.json") == []


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from(["app/.env", "root/.pgpass", "app/node_modules/x/i.js"]))
def test_cataloger_on_any_bytes(data: bytes, path: str) -> None:
    record = SecretsCataloger().parse(path, io.BytesIO(data), len(data))
    assert record is None or (record.findings and all(f.fingerprint and f.masked for f in record.findings))
