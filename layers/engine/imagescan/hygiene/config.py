"""Checks of the image config and its history: the user the image runs as, exposed ports, health check, credentials
passed as ENV or build ARG, ``ADD`` of remote URLs, remote scripts piped into a shell, and package-manager caches
left in the final filesystem. When a Dockerfile is given, history findings also name its line."""

from __future__ import annotations

import re

from imagescan.checks.base import CheckContext
from imagescan.findings import Finding
from imagescan.hygiene.context import HygieneOptions, hygiene_options
from imagescan.hygiene.dockerfile import final_user_instruction, link_history
from imagescan.hygiene.emit import Emitter
from imagescan.hygiene.history import HistoryStep
from imagescan.hygiene.redact import redact, secret_name
from imagescan.hygiene.view import ImageView, is_file, runs_as_root
from imagescan.scan import ImageAnalysis
from imagescan.secrets.scanner import scan as scan_secrets

RISKY_PORTS = {
    21: "FTP", 22: "SSH", 23: "Telnet", 69: "TFTP", 512: "rexec", 513: "rlogin", 514: "rsh", 2375: "the Docker API "
    "without TLS", 2376: "the Docker API", 3389: "RDP", 5900: "VNC", 5985: "WinRM", 5986: "WinRM",
}

_SHELLS = r"(?:ba|da|z|k|mk|a)?sh|python[0-9.]*|perl|ruby|node|php"
_SUDO = r"(?:sudo\s+(?:-\S+\s+)*)?"
_PIPE_TO_SHELL = (
    re.compile(rf"\b(?:curl|wget|fetch)\b[^|;&\n]*\|\s*{_SUDO}(?:env\s+\S+=\S+\s+)*(?:/\S*/)?(?:{_SHELLS})\b"),
    re.compile(rf"\b(?:{_SHELLS})\s+(?:-\S+\s+)*<\(\s*(?:curl|wget)\b"),
    re.compile(rf"\b(?:{_SHELLS})\s+(?:-\S+\s+)*-c\s+[\"']?\$\(\s*(?:curl|wget)\b"),
    re.compile(r"\b(?:source|\.)\s+<\(\s*(?:curl|wget)\b"),
)
_URL_SOURCE = re.compile(r"^(?:https?|ftp)://", re.IGNORECASE)
_CLASSIC_REMOTE_ADD = re.compile(r"^[0-9a-f]{64}\s+in\s+")
"""The classic builder records a remote ``ADD`` source only as the bare content hash (local files get ``file:``)."""

CACHES: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("apt-lists", "apt package lists", re.compile(r"^var/lib/apt/lists/(?!lock$|partial/|auxfiles/)[^/]+$")),
    ("apt-archives", "downloaded .deb files", re.compile(r"^var/cache/apt/(?:archives/[^/]+\.deb|[^/]+\.bin)$")),
    ("apk-cache", "apk package cache", re.compile(r"^(?:var/cache/apk|etc/apk/cache)/[^/]+$")),
    ("yum-dnf-cache", "yum/dnf cache", re.compile(r"^var/cache/(?:yum|dnf|libdnf5)/.+")),
    ("pip-cache", "pip cache", re.compile(r"^(?:root|home/[^/]+)/\.cache/pip/.+")),
    ("npm-cache", "npm cache", re.compile(r"^(?:root|home/[^/]+)/\.npm/_cacache/.+")),
    ("yarn-cache", "yarn cache", re.compile(r"^(?:usr/local/share/\.cache/yarn|(?:root|home/[^/]+)/\.cache/yarn)/.+")),
)


def _evidence(step: HistoryStep, lines: dict[int, int], dockerfile: str | None) -> str:
    where = f"history[{step.index}]"
    if step.index in lines and dockerfile:
        where += f" ({dockerfile}:{lines[step.index]})"
    return f"{where}: {redact(step.created_by)}"


def _user(view: ImageView, options: HygieneOptions, emit: Emitter) -> None:
    user = view.run_config.get("User")
    user = user if isinstance(user, str) else ""
    if not runs_as_root(user):
        return
    if options.dockerfile is not None and final_user_instruction(options.dockerfile) is None:
        return  # reported as dockerfile-no-user, with the Dockerfile to fix
    shown = f'User "{user}"' if user else "no User (defaults to root)"
    emit.misconfiguration("config-root-user", "User", "Image runs as root", f"config {shown}", config="User")


def _ports(view: ImageView, emit: Emitter) -> None:
    ports = view.run_config.get("ExposedPorts")
    if not isinstance(ports, dict):
        return
    for key in sorted(ports):
        number = str(key).partition("/")[0]
        if not number.isdigit() or int(number) not in RISKY_PORTS:
            continue
        service = RISKY_PORTS[int(number)]
        emit.misconfiguration("config-risky-port", str(key), f"Port {number} ({service}) exposed",
                              f"ExposedPorts {key}", config="ExposedPorts", subjects=[number])


def _healthcheck(view: ImageView, emit: Emitter) -> None:
    health = view.run_config.get("Healthcheck")
    test = health.get("Test") if isinstance(health, dict) else None
    if isinstance(test, list) and test and test[0] != "NONE":
        return
    evidence = "Healthcheck disabled (NONE)" if isinstance(test, list) and test else "no Healthcheck in the config"
    emit.misconfiguration("config-no-healthcheck", "Healthcheck", "No HEALTHCHECK defined", evidence,
                          config="Healthcheck")


def reported_as_secret(name: str, value: str) -> bool:
    """True when the secret rules recognise ``NAME=value`` (and report it as a ``secret`` finding): the practice
    finding would only repeat it. What they let pass (short or low-entropy passwords, defaults such as
    ``changeme``) is still a credential built into the image."""
    return bool(scan_secrets(f"{name}={value}".encode("utf-8", "replace")))


def _secret_variables(view: ImageView, emit: Emitter, lines: dict[int, int], dockerfile: str | None) -> None:
    for name, value in sorted(view.env.items()):
        if secret_name(name) and value.strip() and not value.strip().startswith("$") \
                and not reported_as_secret(name, value):
            emit.misconfiguration(
                "config-secret-variable", f"env:{name}", f"Credential-like variable {name} set in the image ENV",
                f"Env {name} (value not shown, {len(value)} characters)", config="Env", subjects=[name])
    seen: set[str] = set()
    for step in view.history:
        for name, value in sorted(step.build_args.items()):
            if name in seen or not secret_name(name) or not value.strip() or reported_as_secret(name, value):
                continue
            seen.add(name)
            emit.misconfiguration(
                "config-secret-variable", f"arg:{name}", f"Credential-like build argument {name} recorded in history",
                f"{_evidence(step, lines, dockerfile)} (value of {name} not shown)",
                config=f"history[{step.index}]", subjects=[name])


def _history(view: ImageView, emit: Emitter, lines: dict[int, int], dockerfile: str | None) -> None:
    for step in view.history:
        if step.keyword == "ADD":
            words = step.text.split()
            flags = [w for w in words if w.startswith("--")]
            sources = [w for w in words if not w.startswith("--")][:-1]
            remote = [s for s in sources if _URL_SOURCE.match(s)]
            if (remote or _CLASSIC_REMOTE_ADD.match(step.text)) and not any(f.startswith("--checksum") for f in flags):
                what = redact(remote[0]) if remote else "a remote URL (the classic builder kept only its hash)"
                emit.misconfiguration("history-add-url", f"history[{step.index}]", f"ADD downloads {what}",
                                      _evidence(step, lines, dockerfile), config=f"history[{step.index}]")
        elif step.keyword == "RUN":
            match = next((m for p in _PIPE_TO_SHELL if (m := p.search(step.text))), None)
            if match:
                emit.misconfiguration(
                    "history-pipe-to-shell", f"history[{step.index}]",
                    f"Remote script piped into a shell: {redact(match.group(0), 80)}",
                    _evidence(step, lines, dockerfile), config=f"history[{step.index}]")


def _caches(view: ImageView, emit: Emitter) -> None:
    found: dict[str, list[tuple[str, int]]] = {}
    for path, (entry, _) in view.files.items():
        if not is_file(entry):
            continue
        for key, _label, pattern in CACHES:
            if pattern.match(path):
                found.setdefault(key, []).append((path, entry.size))
                break
    for key, label, _ in CACHES:
        items = sorted(found.get(key, []))
        if not items:
            continue
        total = sum(size for _, size in items)
        where = "/" + items[0][0].rsplit("/", 1)[0]
        emit.misconfiguration(
            "file-package-cache", key, f"{label.capitalize()} left in the image ({len(items)} files, "
            f"{total / 1048576:.1f} MiB)", f"{len(items)} files under {where}: " + ", ".join(
                "/" + p for p, _ in items[:5]) + (" ..." if len(items) > 5 else ""), path=where.lstrip("/"))


class ConfigHistoryCheck:
    name = "hygiene-config-history"
    version = 1

    def run(self, analysis: ImageAnalysis, context: CheckContext) -> list[Finding]:
        options = hygiene_options(context)
        view = ImageView(analysis)
        emit = Emitter(analysis.digest, options.policy)
        dockerfile = options.dockerfile
        lines = {h: i.line for i, h in link_history(dockerfile, view.history)} if dockerfile else {}
        name = dockerfile.path if dockerfile else None
        if view.has_run_config:
            _user(view, options, emit)
            _ports(view, emit)
            _healthcheck(view, emit)
            _secret_variables(view, emit, lines, name)
        _history(view, emit, lines, name)
        _caches(view, emit)
        return emit.findings
