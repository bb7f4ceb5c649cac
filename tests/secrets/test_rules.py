"""Every rule: a true positive reported at the right span with a masked preview and the secret's fingerprint, and
near misses it must not report."""

from __future__ import annotations

import hashlib
import random
import zlib

import pytest

from imagescan.secrets.rules import RULES, RULES_BY_ID
from imagescan.secrets.scanner import scan
from tests.secrets.cases import NEAR_MISSES, POSITIVES
from tests.secrets.fakes import B32, b62, jwt, pick

SEEDS = (1, 2, 3)


def test_every_rule_has_a_true_positive_case() -> None:
    assert set(POSITIVES) == set(RULES_BY_ID)
    assert set(NEAR_MISSES) <= set(RULES_BY_ID)


def test_rules_are_well_formed() -> None:
    for rule in RULES:
        assert rule.id == rule.id.lower() and " " not in rule.id
        assert rule.title and rule.severity
        assert all(k == k.lower() for k in rule.keywords), rule.id
        assert rule.keywords or rule.path is not None, f"{rule.id}: no keywords and no path scope"
        assert rule.group in rule.pattern.groupindex, rule.id


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("rule_id", sorted(POSITIVES))
def test_true_positive(rule_id: str, seed: int) -> None:
    rng = random.Random(zlib.crc32(rule_id.encode()) + seed)
    text, secret, path = POSITIVES[rule_id](rng)
    data = text.encode()
    found = scan(data, path)
    mine = [m for m in found if m.rule.id == rule_id]
    assert len(mine) == 1, f"{rule_id}: {[(m.rule.id, m.masked) for m in found]} in {text!r}"
    match = mine[0]
    assert data[match.start:match.end].decode().strip() == secret.strip()
    assert secret not in match.masked and match.masked.count("*****") >= 1
    assert match.line == text[:text.index(secret)].count("\n") + 1 or rule_id in ("private-key",
                                                                                 "encrypted-private-key")
    if RULES_BY_ID[rule_id].normalize is None:
        assert match.fingerprint == hashlib.sha256(secret.encode()).hexdigest()
    raw = match.raw()
    assert raw.rule == rule_id and raw.severity == RULES_BY_ID[rule_id].severity.value
    assert secret not in raw.model_dump_json()


@pytest.mark.parametrize("rule_id", sorted(NEAR_MISSES))
def test_near_misses(rule_id: str) -> None:
    rng = random.Random(zlib.crc32(rule_id.encode()))
    for text, path in NEAR_MISSES[rule_id](rng):
        hits = [m.rule.id for m in scan(text.encode(), path)]
        assert rule_id not in hits, f"{rule_id} fired on {text!r}"


@pytest.mark.parametrize("text", [
    "Nothing to see here.\n",
    "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    "password = changeme\napi_key = <your-api-key>\ntoken: ${TOKEN}\nsecret = xxxxxxxxxxxx\n",
    'DB_URL="postgres://postgres:password@localhost:5432/db"\n',
    "export PATH=/usr/local/bin:$PATH\nGPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D\n",
    "def login(user, password=None):\n    token = self.session.token\n    return api.auth(user, password)\n",
])
def test_ordinary_text_has_no_findings(text: str) -> None:
    assert scan(text.encode(), "app/x.py") == []


def test_documentation_samples_are_allowed() -> None:
    # jwt.io's sample token is in every JWT tutorial; it is known by fingerprint only.
    sample = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2"
              "MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
    assert scan(f"Authorization: {sample}\n".encode()) == []


def test_specific_rule_wins_over_generic() -> None:
    rng = random.Random(7)
    _, secret, _ = POSITIVES["github-pat"](rng)
    found = scan(f"GITHUB_TOKEN={secret}\napi_token: '{secret}'\n".encode())
    assert [m.rule.id for m in found] == ["github-pat", "github-pat"]
    assert found[0].fingerprint == found[1].fingerprint


def test_encrypted_openssh_key_is_its_own_rule() -> None:
    from tests.secrets.fakes import openssh_key

    rng = random.Random(3)
    assert [m.rule.id for m in scan(openssh_key(rng).encode())] == ["private-key"]
    assert [m.rule.id for m in scan(openssh_key(rng, "aes256-ctr").encode())] == ["encrypted-private-key"]


@pytest.mark.parametrize("kind", ["", "RSA ", "EC ", "DSA ", "OPENSSH ", "PGP "])
def test_private_key_kinds(kind: str) -> None:
    from tests.secrets.fakes import pem_key

    key = pem_key(random.Random(len(kind)), kind)
    if kind == "PGP ":
        key = key.replace("PRIVATE KEY-----", "PRIVATE KEY BLOCK-----")
    found = scan(key.encode(), "root/.ssh/id_x")
    assert [m.rule.id for m in found] == ["private-key"]
    assert found[0].line == 1 and found[0].masked.startswith(f"-----BEGIN {kind}PRIVATE KEY")


def test_same_key_same_fingerprint_in_pem_and_json() -> None:
    from tests.secrets.fakes import pem_key

    rng = random.Random(11)
    key = pem_key(rng, "")
    as_pem = scan(key.encode())
    as_gcp = scan(('{"type": "service_account", "private_key": "' + key.replace("\n", "\\n") + '"}').encode())
    assert [m.rule.id for m in as_gcp] == ["gcp-service-account-key"]
    assert as_pem[0].fingerprint == as_gcp[0].fingerprint


def test_path_scoped_rules_need_their_path() -> None:
    text = b"machine h login u password Zq8!x2LpW0rd9\n"
    assert [m.rule.id for m in scan(text, "root/.netrc")] == ["netrc-password"]
    assert "netrc-password" not in [m.rule.id for m in scan(text, "root/notes")]
    assert "netrc-password" not in [m.rule.id for m in scan(text)]


def test_token_variants() -> None:
    rng = random.Random(9)
    stateless = f"ghs_15368_{jwt(rng)}"
    assert [(m.rule.id, m.end - m.start) for m in scan(f"GITHUB_TOKEN={stateless}\n".encode())] == \
        [("github-app-token", len(stateless))]  # the embedded JWT is not reported again
    assert [m.rule.id for m in scan(("id A3T" + pick(rng, B32, 17) + "\n").encode())] == ["aws-access-key-id"]
    master = b"<settingsSecurity>\n<master>" + b62(rng, 16).encode() + b"</master>\n</settingsSecurity>\n"
    assert [(m.rule.id, m.line) for m in scan(master)] == [("maven-settings-security-master", 2)]
