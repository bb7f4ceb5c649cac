"""Secrets end to end: an image built here holds generated credentials in a file a later layer deletes, in a file a
later layer replaces, in a live file, in ``Env``, ``Labels`` and history (``ARG``, BuildKit's ``RUN |1 ...``), and
in a binary file (not reported). Reports give layer and ``deleted`` right and never contain a clear secret."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fixtures import build as fixture_build
from fixtures.imagebuilder import HistoryEntry, ImageSpec, TarEntry, build_layer, whiteout, write_oci_layout
from fixtures.ocilayout import DEFAULT_PATH
from fixtures.recipes.small import AWS_EXAMPLE_CREDENTIALS
from imagescan.checks.base import CheckContext
from imagescan.cli import run
from imagescan.findings import IncompleteFinding, SecretFinding
from imagescan.scan import ImageAnalysis, analyze_image
from imagescan.secrets.cataloger import wants_path
from imagescan.secrets.check import SecretsCheck
from imagescan.secrets.scanner import scan
from tests.secrets.fakes import B32, aws_secret_key, b62, password, pick


@dataclass(frozen=True)
class SecretImage:
    ref: str
    diff_ids: list[str]
    key: str
    github: str
    stripe: str
    db_password: str
    access_key_id: str
    secret_key: str
    npm: str
    webhook: str

    def clear_values(self) -> list[str]:
        body = [line for line in self.key.splitlines() if line and not line.startswith("-----")]
        return [self.github, self.stripe, self.db_password, self.secret_key, self.npm, self.webhook, *body]


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> SecretImage:
    work = tmp_path_factory.mktemp("secrets-image")
    rng = random.Random(20240101)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption(),
    ).decode()
    github, stripe, npm = "ghp_" + b62(rng, 36), "sk_live_" + b62(rng, 24), "npm_" + b62(rng, 36)
    db_password, secret_key, access_key_id = password(rng), aws_secret_key(rng), "AKIA" + pick(rng, B32, 16)
    webhook = f"https://hooks.slack.com/services/T{b62(rng, 8)}/B{b62(rng, 10)}/{b62(rng, 24)}"
    binary = b"SQLite format 3\x00" + bytes(84) + key.encode() + b"\x00" + github.encode() + bytes(64)
    layer1 = build_layer([
        TarEntry("root/.ssh/id_rsa", data=key.encode(), mode=0o600),
        TarEntry("app/config/github.env", data=f"# CI\nGITHUB_TOKEN={github}\n".encode()),
        TarEntry("app/.env", data=f"STRIPE_KEY={stripe}\n".encode()),
        TarEntry("var/lib/app/state", data=binary),
        TarEntry("var/log/app/big.log", data=b"log line without secrets\n" * 50_000),
    ], "gzip", work)
    layer2 = build_layer([
        whiteout("root/.ssh/id_rsa"),
        whiteout("app/config/github.env"),
        TarEntry("app/.env", data=b"STRIPE_KEY=${STRIPE_KEY}\n"),
        TarEntry("app/settings.py", data=f'DEBUG = False\nDATABASE_URL = "postgres://app:{db_password}'
                                         f'@db.internal:5432/app"\n'.encode()),
    ], "zstd", work)
    spec = ImageSpec(
        [layer1, layer2],
        env=[DEFAULT_PATH, f"AWS_ACCESS_KEY_ID={access_key_id}", f"AWS_SECRET_ACCESS_KEY={secret_key}"],
        labels={"org.opencontainers.image.title": "secrets fixture", "deploy.webhook": webhook},
        history=[
            HistoryEntry("/bin/sh -c #(nop) ADD file:0b1d6a1c in / "),
            HistoryEntry(f"ARG NPM_TOKEN={npm}", empty_layer=True),
            HistoryEntry(f"RUN |1 NPM_TOKEN={npm} /bin/sh -c rm -rf /root/.ssh /app/config/github.env # buildkit"),
            HistoryEntry(f"ENV AWS_ACCESS_KEY_ID={access_key_id} AWS_SECRET_ACCESS_KEY={secret_key}",
                         empty_layer=True),
        ],
    )
    written = write_oci_layout(work / "oci", spec, tag="latest")
    return SecretImage(written.ref, spec.diff_ids, key, github, stripe, db_password, access_key_id, secret_key,
                       npm, webhook)


@pytest.fixture(scope="module")
def analysis(image: SecretImage) -> ImageAnalysis:
    return analyze_image(image.ref)


@pytest.fixture(autouse=True)
def no_default_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("IMAGESCAN_DB", raising=False)


def _secrets(analysis: ImageAnalysis) -> dict[tuple[str, str], SecretFinding]:
    found = [f for f in SecretsCheck().run(analysis, CheckContext()) if isinstance(f, SecretFinding)]
    by_key = {(f.path, f.rule): f for f in found}
    assert len(by_key) == len(found), "one finding per secret, path and layer"
    return by_key


def test_deleted_and_replaced_files_still_report_their_layer(image: SecretImage, analysis: ImageAnalysis) -> None:
    found = _secrets(analysis)
    key = found[("root/.ssh/id_rsa", "private-key")]
    assert (key.layer_diff_id, key.deleted, key.line, key.severity.value) == (image.diff_ids[0], True, 1, "HIGH")
    token = found[("app/config/github.env", "github-pat")]
    assert (token.layer_diff_id, token.deleted, token.line, token.severity.value) == \
        (image.diff_ids[0], True, 2, "CRITICAL")
    stripe = found[("app/.env", "stripe-secret-key")]
    assert (stripe.layer_diff_id, stripe.deleted) == (image.diff_ids[0], True)  # replaced by a placeholder
    url = found[("app/settings.py", "url-password")]
    assert (url.layer_diff_id, url.deleted, url.line) == (image.diff_ids[1], False, 2)
    assert url.masked.startswith('DATABASE_URL = "postgres://app:') and "*****@db.internal" in url.masked
    assert not [p for p, _ in found if p in ("var/lib/app/state", "var/log/app/big.log")]


def test_config_and_history_secrets(image: SecretImage, analysis: ImageAnalysis) -> None:
    found = _secrets(analysis)
    env = found[("config:Env", "aws-secret-access-key")]
    assert (env.layer_diff_id, env.deleted, env.line, env.severity.value) == (None, False, 3, "CRITICAL")
    assert found[("config:Env", "aws-access-key-id")].line == 2
    assert found[("config:Labels", "slack-webhook")].masked.startswith("deploy.webhook=https://hooks.slack.com/")
    arg = found[("history:1", "npm-access-token")]
    assert (arg.layer_diff_id, arg.masked) == (None, "ARG NPM_TOKEN=npm_*****")
    run_line = found[("history:2", "npm-access-token")]
    assert run_line.layer_diff_id == image.diff_ids[1] and run_line.fingerprint == arg.fingerprint
    assert {r for p, r in found if p == "history:3"} == {"aws-access-key-id", "aws-secret-access-key"}


def test_ids_are_stable_and_distinct(analysis: ImageAnalysis) -> None:
    first = sorted(f.id for f in SecretsCheck().run(analysis, CheckContext()))
    again = sorted(f.id for f in SecretsCheck().run(analysis, CheckContext()))
    assert first == again and len(set(first)) == len(first)


def test_oversize_files_are_reported_as_not_checked(image: SecretImage, analysis: ImageAnalysis) -> None:
    incomplete = [f for f in SecretsCheck().run(analysis, CheckContext()) if isinstance(f, IncompleteFinding)]
    assert [(f.code, f.layer_diff_id) for f in incomplete] == [("secrets-file-too-large", image.diff_ids[0])]
    assert incomplete[0].title.startswith("1 file over 1 MiB")


@pytest.mark.parametrize("fmt", ["json", "table", "sarif"])
def test_reports_hold_no_clear_secret(image: SecretImage, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    assert run(["scan", image.ref, "--format", fmt, "-o", str(out)]) == 0
    text = out.read_text()
    for value in image.clear_values():
        assert value not in text
    if fmt == "json":
        report = json.loads(text)
        secrets = [f for f in report["findings"] if f["kind"] == "secret"]
        assert {f["rule"] for f in secrets} >= {"private-key", "github-pat", "npm-access-token", "url-password",
                                                "aws-secret-access-key", "slack-webhook", "stripe-secret-key"}
        assert all(f["masked"] and len(f["fingerprint"]) == 64 for f in secrets)
        assert any("npm_*****" in (layer["created_by"] or "") for layer in report["image"]["layers"])
        assert f"AWS_ACCESS_KEY_ID={image.access_key_id[:4]}*****" in report["image"]["config"]["env"]


def test_fail_on_critical(image: SecretImage, tmp_path: Path) -> None:
    assert run(["scan", image.ref, "--format", "json", "-o", str(tmp_path / "r.json"), "--fail-on", "critical"]) == 1


def test_documented_example_key_is_not_reported() -> None:
    """The ``small`` image ships AWS's documented example key pair in ``root/.aws/credentials`` (deleted by layer 2):
    the scanner reads the file, recognises the example values, and reports nothing."""
    analysis = analyze_image(f"oci:{fixture_build.build('small')}")
    assert "root/.aws/credentials" not in analysis.merged.files
    assert wants_path("root/.aws/credentials")
    assert SecretsCheck().run(analysis, CheckContext()) == []
    rng = random.Random(3)
    real = AWS_EXAMPLE_CREDENTIALS.replace(b"AKIAIOSFODNN7EXAMPLE", ("AKIA" + pick(rng, B32, 16)).encode()).replace(
        b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", aws_secret_key(rng).encode())
    assert [m.rule.id for m in scan(real, "root/.aws/credentials")] == ["aws-access-key-id", "aws-secret-access-key"]


def test_same_secret_reported_once_per_file_and_layer(tmp_path: Path) -> None:
    rng = random.Random(5)
    token = "glpat-" + b62(rng, 20)
    text = f"GITLAB_TOKEN={token}\n# again\nurl: https://oauth2:{token}@gitlab.internal/g/r.git\nT={token}\n"
    layers = [build_layer([TarEntry("app/ci.env", data=text.encode())], "gzip", tmp_path),
              build_layer([TarEntry("app/ci.env", data=text.encode()), TarEntry("app/VERSION", data=b"2\n")], "gzip",
                          tmp_path)]
    spec = ImageSpec(layers, env=[DEFAULT_PATH, f"GITLAB_TOKEN={token}", f"CI_TOKEN={token}"])
    analysis = analyze_image(write_oci_layout(tmp_path / "oci", spec, tag="latest").ref)
    found = [f for f in SecretsCheck().run(analysis, CheckContext()) if isinstance(f, SecretFinding)]
    got = [(f.path, f.layer_diff_id, f.line, f.deleted, f.rule) for f in found]
    assert sorted(got, key=str) == sorted([("app/ci.env", spec.diff_ids[0], 1, True, "gitlab-pat"),
                                           ("app/ci.env", spec.diff_ids[1], 1, False, "gitlab-pat"),
                                           ("config:Env", None, 2, False, "gitlab-pat")], key=str)
    assert len({f.fingerprint for f in found}) == 1 and len({f.id for f in found}) == 3
