from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagescan.findings import Severity
from imagescan.hygiene.policy import DEFAULT_POLICY, PolicyError, load_policy, policy_from_mapping
from imagescan.hygiene.rules import RULES, rule

POLICY_YAML = """\
# production policy
rules:
  "tool-*":
    severity: high
  tool-shell: false
  tool-package-manager:
    severity: MEDIUM
    ignore: [dpkg, "pkg:deb/*/apt@*"]
  config-no-healthcheck: {enabled: false}
"""


def test_default_policy_keeps_the_catalogue() -> None:
    for r in RULES:
        assert DEFAULT_POLICY.enabled(r) and DEFAULT_POLICY.severity(r) == r.severity
        assert DEFAULT_POLICY.decide(r, ["anything"]) == r.severity


def test_yaml_policy(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY_YAML)
    policy = load_policy(path)
    assert policy.decide(rule("tool-network")) == Severity.HIGH  # from the glob
    assert policy.decide(rule("tool-package-manager"), ["apt"]) == Severity.MEDIUM  # exact ID beats the glob
    assert policy.decide(rule("tool-package-manager"), ["dpkg"]) is None  # ignored subject
    assert policy.decide(rule("tool-package-manager"), ["pkg:deb/debian/apt@2.6.1?arch=amd64"]) is None
    assert policy.decide(rule("tool-shell")) is None and not policy.enabled(rule("tool-shell"))
    assert policy.decide(rule("config-no-healthcheck")) is None
    assert policy.decide(rule("config-root-user")) == Severity.MEDIUM  # untouched


def test_json_policy_and_later_globs_win(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"rules": {"eol-*": {"severity": "LOW"}, "eol-os*": {"severity": "CRITICAL"},
                                          "eol-approaching": {"enabled": True}}}))
    policy = load_policy(path)
    assert policy.severity(rule("eol-os")) == Severity.CRITICAL
    assert policy.severity(rule("eol-runtime")) == Severity.LOW
    assert policy.decide(rule("eol-approaching")) == Severity.LOW
    assert load_policy(_write(tmp_path, "empty.yaml", "")) .settings == {}


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "message"), [
    ("rules:\n  tool-shel: false\n", "no such rule"),
    ("rules:\n  'nothing-*': false\n", "no such rule"),
    ("rules:\n  tool-shell: {severity: URGENT}\n", "is not one of"),
    ("rules:\n  tool-shell: {enabled: 'no'}\n", "true or false"),
    ("rules:\n  tool-shell: {ignore: [1, 2]}\n", "list of glob patterns"),
    ("rules:\n  tool-shell: {disabled: true}\n", "unknown setting disabled"),
    ("rules:\n  tool-shell: [1]\n", "must be a mapping"),
    ("rule:\n  tool-shell: false\n", "unknown key rule"),
    ("rules: [tool-shell]\n", "must map rule IDs"),
    ("- just\n- a list\n", "must be a mapping"),
    ("rules: {tool-shell: false\n", "cannot parse"),
    ("rules:\n  1: false\n", "rule keys must be"),
])
def test_invalid_policies(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        load_policy(_write(tmp_path, "p.yaml", text))


def test_unreadable_policies(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="No such file"):
        load_policy(tmp_path / "missing.yaml")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_policy(_write(tmp_path, "bin.yaml", b"\xff\xfe\x00rules"))
    with pytest.raises(PolicyError, match="larger than"):
        load_policy(_write(tmp_path, "big.yaml", "#" * (1024 * 1024 + 10)))
    with pytest.raises(PolicyError, match="cannot parse"):
        load_policy(_write(tmp_path, "bad.json", "{rules: }"))
    with pytest.raises(PolicyError, match="cannot parse"):
        load_policy(_write(tmp_path, "tag.yaml", "rules: !!python/object:os.system {}\n"))


_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.sampled_from(["HIGH", "tool-shell", "*"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["rules", "enabled", "severity", "ignore", "tool-*", "tool-shell", "x"]) | st.text(max_size=6),
        children, max_size=4),
    max_leaves=20,
)


@given(_values)
def test_any_document_gives_a_policy_or_a_policy_error(document: object) -> None:
    try:
        policy = policy_from_mapping(document)
    except PolicyError:
        return
    for r in RULES:
        policy.decide(r, ["usr/bin/x"])
