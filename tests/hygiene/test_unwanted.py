from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fixtures.imagebuilder import TarEntry
from imagescan.findings import Severity
from imagescan.hygiene.unwanted import TOOLS, UnwantedSoftwareCheck, shell_needed
from imagescan.hygiene.view import ImageView
from imagescan.scan import ImageAnalysis
from tests.hygiene.images import build_image, by_rule, deb, debian_base, rules_of, run, unwanted

CHECK = UnwantedSoftwareCheck()



def test_curl_in_the_small_image(small_analysis: ImageAnalysis) -> None:
    [curl] = unwanted(run(CHECK, small_analysis), "tool-network")
    assert curl.purl is not None and curl.purl.startswith("pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5")
    assert curl.severity == Severity.MEDIUM and curl.remediation


def test_real_debian_purged_curl_is_not_reported(debian_analysis: ImageAnalysis) -> None:
    findings = run(CHECK, debian_analysis)
    assert not by_rule(findings, "tool-network")  # curl was purged by the last layer
    assert {f.title.split(" (")[0] for f in unwanted(findings, "tool-package-manager")} == {
        "Package manager apt installed", "Package manager dpkg installed"}
    assert not by_rule(findings, "tool-shell")  # CMD ["bash"] needs its shell


def test_demo_app_does_not_need_its_shell(demo_analysis: ImageAnalysis) -> None:
    findings = run(CHECK, demo_analysis)
    [shell] = unwanted(findings, "tool-shell")
    assert shell.path in ("usr/bin/bash", "usr/bin/dash", "usr/bin/sh")
    assert shell.purl is not None and shell.purl.startswith("pkg:deb/debian/")
    assert shell.description is not None and "python3" in shell.description
    assert rules_of(findings) == {"tool-package-manager", "tool-shell"}


def test_alpine_curl_and_apk(apk_analysis: ImageAnalysis) -> None:
    findings = run(CHECK, apk_analysis)
    [curl] = unwanted(findings, "tool-network")
    assert curl.purl is not None and curl.purl.startswith("pkg:apk/alpine/curl@")
    [apk] = unwanted(findings, "tool-package-manager")
    assert apk.purl is not None and apk.purl.startswith("pkg:apk/alpine/apk-tools@")
    assert not by_rule(findings, "tool-shell")  # CMD ["/bin/sh"]


def test_tools_from_packages_and_from_bare_files(tmp_path: Path) -> None:
    base = debian_base(packages=[
        deb("gcc-12", files={"/usr/bin/gcc-12": b"gcc"}), deb("gcc-12-base"), deb("libgcc-s1"),
        deb("openssh-server", files={"/usr/sbin/sshd": b"sshd"}), deb("sudo", files={"/usr/bin/sudo": b"sudo"}),
        deb("strace", files={"/usr/bin/strace": b"strace"}), deb("libcurl4"),
        deb("busybox", files={"/usr/bin/busybox": b"bb"}),
    ], modes={"usr/bin/sudo": 0o4755})
    extra = [
        TarEntry("usr/local/bin/socat", data=b"\x7fELF socat", mode=0o755),  # copied in, no package
        TarEntry("usr/bin/wget", kind="symlink", link="busybox"),  # a busybox applet: not a separate tool
        TarEntry("opt/bin/nc", data=b"nc", mode=0o755),  # not in a program directory
        TarEntry("usr/local/lib/python3.11/site-packages/pip-23.0.1.dist-info/METADATA",
                 data=b"Metadata-Version: 2.1\nName: pip\nVersion: 23.0.1\n"),
        TarEntry("usr/local/lib/python3.11/site-packages/pip-23.0.1.dist-info/RECORD", data=b""),
    ]
    findings = run(CHECK, build_image(tmp_path, [base, extra], cmd=["/app/server"]))
    [gcc] = unwanted(findings, "tool-compiler")
    assert gcc.purl is not None and gcc.purl.startswith("pkg:deb/debian/gcc-12@")
    [sshd] = unwanted(findings, "tool-ssh-server")
    assert sshd.severity == Severity.HIGH
    assert [f.title.split(" (")[0] for f in unwanted(findings, "tool-sudo")] == ["Privilege tool sudo installed"]
    assert [f.title.split(" (")[0] for f in unwanted(findings, "tool-debugger")] == ["Debugger strace installed"]
    [socat] = unwanted(findings, "tool-network")
    assert socat.path == "usr/local/bin/socat" and socat.purl is None
    [pip] = [f for f in unwanted(findings, "tool-package-manager") if "pip" in f.title]
    assert pip.purl == "pkg:pypi/pip@23.0.1"
    [shell] = unwanted(findings, "tool-shell")  # busybox is a shell too, and /app/server does not need one
    assert shell.path == "usr/bin/busybox"


def test_shell_flagged_for_exec_form_binary(tmp_path: Path) -> None:
    base = debian_base(packages=[deb("dash", files={"/usr/bin/dash": b"dash"}, symlinks={"/usr/bin/sh": "dash"})])
    server = [TarEntry("app/server", data=b"\x7fELF", mode=0o755)]
    [shell] = unwanted(run(CHECK, build_image(tmp_path, [base, server], entrypoint=["/app/server"],
                                               cmd=["--port", "8080"])), "tool-shell")
    assert shell.path in ("usr/bin/dash", "usr/bin/sh") and shell.purl and "dash" in shell.purl
    configs: list[dict[str, Any]] = [{"entrypoint": ["/app/docker-entrypoint.sh"], "cmd": ["serve"]},
                                     {"cmd": ["/bin/sh", "-c", "exec /app/server"]}, {}]
    for config in configs:
        assert not run(CHECK, build_image(tmp_path, [base, server], **config))


@pytest.mark.parametrize(("config", "expected"), [
    ({}, None),
    ({"Cmd": ["bash"]}, True),
    ({"Cmd": ["/bin/sh", "-c", "python app.py"]}, True),
    ({"Entrypoint": ["/usr/bin/tini", "--", "/docker-entrypoint.sh"], "Cmd": ["nginx"]}, True),
    ({"Entrypoint": ["docker-entrypoint"], "Cmd": ["postgres"]}, True),
    ({"Entrypoint": ["/app/run.sh"]}, True),
    ({"Cmd": ["python3", "/app/app.py"], "Healthcheck": {"Test": ["CMD-SHELL", "curl -f localhost"]}}, True),
    ({"Cmd": ["python3", "/app/app.py"]}, False),
    ({"Entrypoint": ["/app/server"], "Cmd": ["--port", "8080"]}, False),
    ({"Entrypoint": ["/usr/bin/tini", "--"], "Cmd": ["/app/server"]}, False),
])
def test_shell_needed(config: dict[str, Any], expected: bool | None) -> None:
    class Fake:
        image = type("I", (), {"config": {"config": config}})()
        merged = type("M", (), {"files": {}})()
        digest = "sha256:x"

    assert shell_needed(ImageView(Fake())) is expected  # type: ignore[arg-type]


def test_tool_catalogue_is_consistent() -> None:
    rules = {t.rule for t in TOOLS}
    assert rules == {"tool-package-manager", "tool-network", "tool-compiler", "tool-debugger", "tool-ssh-server",
                     "tool-sudo"}
    assert len({t.name for t in TOOLS}) == len(TOOLS)
    gcc = next(t for t in TOOLS if t.name == "gcc")
    assert gcc.matches_package("gcc-12") and gcc.matches_package("g++-13") and not gcc.matches_package("gcc-12-base")


def test_tools_found_when_layers_omit_directory_entries(tmp_path: Path) -> None:
    entries = [TarEntry("usr/bin/wget", data=b"\x7fELF", mode=0o755), TarEntry("bin/sh", data=b"\x7fELF", mode=0o755)]
    findings = run(CHECK, build_image(tmp_path, [entries], parents=False, cmd=["/srv/app"]))
    assert [f.path for f in unwanted(findings, "tool-network")] == ["usr/bin/wget"]
    assert [f.path for f in unwanted(findings, "tool-shell")] == ["bin/sh"]
