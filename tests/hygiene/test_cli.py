"""``imagescan scan --dockerfile FILE --policy FILE`` end to end, on an image made for the occasion."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from fixtures.imagebuilder import HistoryEntry, TarEntry
from imagescan.cli import run as cli
from imagescan.hygiene.rules import RULES_BY_ID
from imagescan.scan import ImageAnalysis
from imagescan.vulndb.store import VulnDB
from tests.hygiene.images import DEBIAN_10_OS_RELEASE, build_image, deb, debian_base

SECRET = "ghp_R8sK2mQ7vX4nB9cT1wZ5yL3hJ6fD0gA2pE7u"
DOCKERFILE = """\
FROM debian:10
RUN apt-get update && apt-get install -y curl
ADD https://example.com/agent.tgz /opt/
RUN curl -fsSL https://example.com/install.sh | sh
ENV DB_PASSWORD=changeme
CMD ["/opt/agent/run"]
"""


@pytest.fixture(scope="module")
def unseen(tmp_path_factory: pytest.TempPathFactory) -> ImageAnalysis:
    root = tmp_path_factory.mktemp("unseen")
    base = debian_base(DEBIAN_10_OS_RELEASE, "10.4", packages=[
        deb("apt", files={"/usr/bin/apt-get": b"apt"}), deb("dpkg", files={"/usr/bin/dpkg": b"dpkg"}),
        deb("passwd", files={"/usr/bin/passwd": b"passwd"})], modes={"usr/bin/passwd": 0o4755})
    curl = [TarEntry("usr/bin/curl", data=b"curl", mode=0o755),
            TarEntry("var/lib/dpkg/info/curl.list", data=b"/.\n/usr\n/usr/bin\n/usr/bin/curl\n"),
            TarEntry("var/lib/dpkg/status", data=_status_with_curl(base))]
    agent = [TarEntry("opt/agent/run", data=b"\x7fELF", mode=0o755)]
    planted = [TarEntry("usr/local/sbin/.helper", data=b"\x7fELF", mode=0o4755)]
    history = [
        HistoryEntry("/bin/sh -c #(nop) ADD file:0a1b2c in / "),
        HistoryEntry(f"RUN |1 GITHUB_TOKEN={SECRET} /bin/sh -c apt-get update && apt-get install -y curl # buildkit"),
        HistoryEntry("ADD https://example.com/agent.tgz /opt/ # buildkit"),
        HistoryEntry("RUN /bin/sh -c curl -fsSL https://example.com/install.sh | sh # buildkit"),
        HistoryEntry(f"ENV GH_TOKEN={SECRET}", empty_layer=True),
        HistoryEntry('CMD ["/opt/agent/run"]', empty_layer=True),
    ]
    return build_image(root, [base, curl, agent, planted], history=history,
                       env=["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                            f"GH_TOKEN={SECRET}", "ADMIN_PASS=hunter2"], cmd=["/opt/agent/run"],
                       exposed_ports=["22/tcp"])


def _status_with_curl(base: list[TarEntry]) -> bytes:
    status = next(e for e in base if e.path == "var/lib/dpkg/status").data
    return status + b"\nPackage: curl\nStatus: install ok installed\nPriority: optional\nSection: web\n" \
        b"Installed-Size: 500\nMaintainer: Tests <t@example.org>\nArchitecture: amd64\nVersion: 7.64.0-4+deb10u2\n" \
        b"Description: command line tool for transferring data with URL syntax\n"


def _scan(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "report.json"
    code = cli(["scan", *args, "--format", "json", "-o", str(out)])
    return code, json.loads(out.read_text()) if out.exists() else {}


def _hygiene(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f in report["findings"]:
        rule = f.get("rule") or f.get("code")
        if rule in RULES_BY_ID:
            out.setdefault(rule, []).append(f)
    return out


def test_unseen_image(unseen: ImageAnalysis, tmp_path: Path, eol_db: VulnDB) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DOCKERFILE)
    code, report = _scan(tmp_path, str(unseen.reference), "--db", str(eol_db.path), "--dockerfile",
                         str(dockerfile), "--fail-on", "HIGH")
    assert code == 1
    found = _hygiene(report)
    assert [f["path"] for f in found["file-setuid-unowned"]] == ["usr/local/sbin/.helper"]
    assert "/usr/bin/passwd" in found["file-setuid-baseline"][0]["evidence"]
    assert found["dockerfile-no-user"] and "config-root-user" not in found  # said once, with the Dockerfile line
    [pipe] = found["history-pipe-to-shell"]
    assert pipe["config"] == "history[3]" and f"{dockerfile}:4" in pipe["evidence"]
    [add] = found["history-add-url"]
    assert add["config"] == "history[2]" and f"{dockerfile}:3" in add["evidence"]
    assert {f["title"].split(" installed")[0] for f in found["tool-package-manager"]} == {
        "Package manager apt", "Package manager dpkg"}
    assert [f["purl"].split("?")[0] for f in found["tool-network"]] == ["pkg:deb/debian/curl@7.64.0-4%2Bdeb10u2"]
    assert [f["title"] for f in found["eol-os"]] == ["Debian 10 reached end of life 2 years ago"]
    assert found["os-point-release"][0]["title"] == "Debian 10.4 is 9 point releases behind 10.13"
    assert found["config-risky-port"][0]["title"] == "Port 22 (SSH) exposed"
    # GH_TOKEN and GITHUB_TOKEN hold a GitHub token, which the secret rules report: not repeated here.
    assert [f["title"] for f in found["config-secret-variable"]] == [
        "Credential-like variable ADMIN_PASS set in the image ENV"]
    assert {f["path"] for f in report["findings"] if f["kind"] == "secret"} >= {"config:Env", "history:1"}
    assert [f["config"] for f in found["dockerfile-apt-recommends"]] == ["history[1]"]
    assert SECRET not in json.dumps(report["findings"]) and "hunter2" not in json.dumps(report["findings"])
    assert Path(os.environ["IMAGESCAN_IMAGES_DB"]).is_file()  # the scan was recorded for base-image matching


def test_policy_from_the_command_line(unseen: ImageAnalysis, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("rules:\n  'tool-*': false\n  file-setuid-unowned: {severity: CRITICAL}\n")
    code, report = _scan(tmp_path, str(unseen.reference), "--policy", str(policy), "--fail-on", "CRITICAL")
    found = _hygiene(report)
    assert code == 1 and not any(rule.startswith("tool-") for rule in found)
    assert [f["severity"] for f in found["file-setuid-unowned"]] == ["CRITICAL"]
    assert found["config-root-user"] and found["eol-data-missing"]  # no --db here: said, not skipped


@pytest.mark.parametrize(("option", "content", "message"), [
    ("--policy", "rules:\n  no-such-rule: false\n", "no such rule"),
    ("--dockerfile", "RUN echo no base\n", "before the first FROM"),
])
def test_bad_files_are_usage_errors(unseen: ImageAnalysis, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    option: str, content: str, message: str) -> None:
    path = tmp_path / "input"
    path.write_text(content)
    code, report = _scan(tmp_path, str(unseen.reference), option, str(path))
    assert code == 2 and report == {}
    assert message in capsys.readouterr().err
    code, _ = _scan(tmp_path, str(unseen.reference), option, str(tmp_path / "missing"))
    assert code == 2 and "No such file" in capsys.readouterr().err
