"""Software that should not be in a production image, found in the package inventory (OS packages, and language
packages such as pip and npm when the language catalogers list them) and in the program directories of the file
index (a tool copied in without a package). Also shells in images whose entrypoint does not need one.

One finding per tool: from its OS package when there is one (with the package's purl), else from the language
package, else from the program file.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from imagescan.checks.base import CheckContext
from imagescan.findings import Finding
from imagescan.hygiene.context import hygiene_options
from imagescan.hygiene.emit import Emitter
from imagescan.hygiene.view import ImageView, is_file
from imagescan.models import OS_PACKAGE_TYPES, Package
from imagescan.sbom.purl import package_purl
from imagescan.scan import ImageAnalysis


@dataclass(frozen=True)
class Tool:
    name: str
    rule: str
    packages: frozenset[str] = frozenset()
    """OS package names (deb, rpm, apk)."""
    package_pattern: str | None = None
    """A regular expression over OS package names (versioned packages: ``gcc-12``)."""
    language: frozenset[str] = frozenset()
    """Language packages ``TYPE/NAME`` (``pypi/pip``)."""
    programs: frozenset[str] = frozenset()
    program_pattern: str | None = None

    def matches_package(self, name: str) -> bool:
        return name in self.packages or bool(self.package_pattern and re.fullmatch(self.package_pattern, name))

    def matches_program(self, name: str) -> bool:
        return name in self.programs or bool(self.program_pattern and re.fullmatch(self.program_pattern, name))


def _t(name: str, rule: str, packages: str = "", programs: str = "", language: str = "", *,
       package_pattern: str | None = None, program_pattern: str | None = None) -> Tool:
    return Tool(name, rule, frozenset(packages.split()), package_pattern, frozenset(language.split()),
                frozenset(programs.split()), program_pattern)


PM, NET, CC, DBG, SSHD, SUDO = ("tool-package-manager", "tool-network", "tool-compiler", "tool-debugger",
                                "tool-ssh-server", "tool-sudo")
TOOLS: tuple[Tool, ...] = (
    _t("apt", PM, "apt", "apt apt-get"),
    _t("dpkg", PM, "dpkg", "dpkg"),
    _t("apk", PM, "apk-tools", "apk"),
    _t("rpm", PM, "rpm", "rpm"),
    _t("yum", PM, "yum", "yum"),
    _t("dnf", PM, "dnf dnf5", "dnf dnf5"),
    _t("microdnf", PM, "microdnf", "microdnf"),
    _t("pip", PM, "python3-pip python-pip py3-pip", "pip pip3", "pypi/pip generic/pip",
       program_pattern=r"pip3\.\d+"),
    _t("npm", PM, "npm nodejs-npm", "npm npx", "npm/npm generic/npm"),
    _t("curl", NET, "curl curl-minimal", "curl"),
    _t("wget", NET, "wget wget2", "wget wget2"),
    _t("netcat", NET, "netcat netcat-openbsd netcat-traditional ncat nmap-ncat nc", "nc netcat ncat nc.openbsd "
       "nc.traditional"),
    _t("socat", NET, "socat", "socat"),
    _t("telnet", NET, "telnet inetutils-telnet busybox-extras", "telnet"),
    _t("gcc", CC, "gcc gcc-c++ g++ clang", "gcc g++ cc c++ clang clang++",
       package_pattern=r"(?:gcc|g\+\+|clang)-\d+(?:\.\d+)?", program_pattern=r"(?:gcc|g\+\+|clang)-\d+(?:\.\d+)?"),
    _t("make", CC, "make", "make"),
    _t("gdb", DBG, "gdb gdb-minimal gdbserver", "gdb gdbserver"),
    _t("strace", DBG, "strace", "strace"),
    _t("ltrace", DBG, "ltrace", "ltrace"),
    _t("sshd", SSHD, "openssh-server dropbear", "sshd dropbear"),
    _t("sudo", SUDO, "sudo doas", "sudo doas"),
)

SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "busybox"})
_SCRIPT = re.compile(r"\.(?:sh|bash|zsh|ksh)$|entrypoint", re.IGNORECASE)


def _purl(pkg: Package, analysis: ImageAnalysis) -> str:
    return package_purl(pkg, analysis.os).to_string()


def _program_paths(view: ImageView, tool: Tool) -> list[str]:
    """Program files of ``tool`` on PATH that no OS package owns (copied in, or installed by pip/npm/curl)."""
    out = []
    for name, paths in view.programs.items():
        if not tool.matches_program(name):
            continue
        for path in paths:
            real = view.resolve(path)
            entry = view.entry(real) if real else None
            if real is None or entry is None or not is_file(entry):
                continue
            if posixpath.basename(real) == "busybox" or view.owners.get(view.canonical(path)) \
                    or view.owners.get(real):
                continue  # a busybox applet, or a file of some OS package (reported through the package, if any)
            out.append(path)
    return sorted(out)


def _tools(view: ImageView, analysis: ImageAnalysis, emit: Emitter) -> None:
    packages = analysis.merged.packages
    for tool in TOOLS:
        os_hits = [p for p in packages if p.type in OS_PACKAGE_TYPES and tool.matches_package(p.name)]
        lang_hits = [p for p in packages if p.type not in OS_PACKAGE_TYPES and p.owner is None
                     and f"{p.type}/{p.name}" in tool.language]
        rule_title = {PM: "Package manager", NET: "Network tool", CC: "Compiler/build tool", DBG: "Debugger",
                      SSHD: "SSH server", SUDO: "Privilege tool"}[tool.rule]
        if os_hits or lang_hits:
            for pkg in sorted(os_hits or lang_hits, key=lambda p: (p.name, p.version)):
                emit.unwanted(tool.rule, f"{tool.name}/{pkg.type}/{pkg.name}",
                              f"{rule_title} {tool.name} installed ({pkg.name} {pkg.version})",
                              purl=_purl(pkg, analysis), path=pkg.path or None, subjects=[tool.name, pkg.name],
                              detail=f"{pkg.type} package {pkg.name} {pkg.version} provides {tool.name}.")
            continue
        paths = _program_paths(view, tool)
        if paths:
            emit.unwanted(tool.rule, f"{tool.name}/file", f"{rule_title} {tool.name} present (/{paths[0]})",
                          path=paths[0], subjects=[tool.name, *paths],
                          detail=f"{tool.name} is on PATH ({', '.join('/' + p for p in paths)}) without an OS "
                                 "package: it was copied or downloaded into the image.")


def shell_needed(view: ImageView) -> bool | None:
    """Whether the image's start command needs a shell: True for shell-form ENTRYPOINT/CMD (``/bin/sh -c``), a
    shell or a shell script anywhere in ENTRYPOINT/CMD, or a ``CMD-SHELL`` health check; False for an exec-form
    start of another program; None when the config says nothing (no ENTRYPOINT and no CMD)."""
    argv = (view.argv("Entrypoint") or []) + (view.argv("Cmd") or [])
    health = view.run_config.get("Healthcheck")
    test = health.get("Test") if isinstance(health, dict) else None
    if isinstance(test, list) and test and test[0] == "CMD-SHELL":
        return True
    if not argv:
        return None
    for arg in argv:
        word = arg.strip()
        base = posixpath.basename(word.split()[0]) if word.split() else ""
        if base in SHELLS or _SCRIPT.search(word):
            return True
    return False


def _shell(view: ImageView, analysis: ImageAnalysis, emit: Emitter) -> None:
    if not view.has_run_config or shell_needed(view) is not False:
        return
    shells = sorted(p for name, paths in view.programs.items() if name in SHELLS for p in paths
                    if (real := view.resolve(p)) is not None and (e := view.entry(real)) is not None and is_file(e))
    if not shells:
        return
    argv = (view.argv("Entrypoint") or []) + (view.argv("Cmd") or [])
    owner = view.owners.get(view.resolve(shells[0]) or shells[0])
    emit.unwanted(
        "tool-shell", "shell", f"Shell in an image that starts {posixpath.basename(argv[0])} directly",
        purl=_purl(owner, analysis) if owner else None, path=shells[0], subjects=shells,
        detail=f"The image starts {argv!r} without a shell, but has {', '.join('/' + s for s in shells)}.")


class UnwantedSoftwareCheck:
    name = "hygiene-unwanted-software"
    version = 1

    def run(self, analysis: ImageAnalysis, context: CheckContext) -> list[Finding]:
        options = hygiene_options(context)
        view = ImageView(analysis)
        emit = Emitter(analysis.digest, options.policy)
        _tools(view, analysis, emit)
        _shell(view, analysis, emit)
        return emit.findings
