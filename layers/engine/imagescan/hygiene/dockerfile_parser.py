"""A Dockerfile parser for review: instructions with their line numbers, stages, flags and heredocs.

It follows the Dockerfile reference: parser directives at the top (``# escape=``` ``), line continuations with the
escape character (comment and empty lines inside a continuation are dropped), heredocs (``RUN <<EOF`` ...
``EOF``, ``<<-EOF`` strips leading tabs), ``--flag=value`` options, ``FROM [--platform=P] IMAGE [AS NAME]`` and
``ARG``s declared before the first FROM (used to expand ``FROM ${BASE}``). It does not evaluate the build.

Anything that is not a Dockerfile (binary data, an unknown instruction, no FROM) raises :class:`DockerfileError`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from imagescan.errors import ScanError
from imagescan.hygiene.userfiles import read_user_file

INSTRUCTIONS = frozenset({"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
                          "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"})
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$")
_KEYWORD = re.compile(r"^([A-Za-z]+)(?:\s+|$)")
_FLAG = re.compile(r"^--([A-Za-z][A-Za-z0-9-]*)(?:=(\"[^\"]*\"|'[^']*'|\S*))?(?:\s+|$)")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


class DockerfileError(ScanError):
    """The Dockerfile could not be read or is not a Dockerfile. The message names the file and line."""


@dataclass(frozen=True)
class Instruction:
    keyword: str
    """Upper case: ``RUN``, ``COPY``..."""
    args: str
    """The arguments after the keyword and its ``--flags``, continuation lines joined."""
    line: int
    """1-based line where the instruction starts."""
    end_line: int
    stage: int
    """Index of the build stage it belongs to; -1 for ``ARG``s before the first FROM."""
    flags: dict[str, str] = field(default_factory=dict)
    heredocs: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        flags = " ".join(f"--{k}={v}" if v else f"--{k}" for k, v in self.flags.items())
        return " ".join(part for part in (self.keyword, flags, self.args) if part)

    def exec_form(self) -> list[str] | None:
        """The JSON array form (``["a", "b"]``) of the arguments, or None for the shell form."""
        if not self.args.startswith("["):
            return None
        try:
            value = json.loads(self.args)
        except ValueError:
            return None
        return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


@dataclass(frozen=True)
class Stage:
    index: int
    base: str
    """The image reference as written (``${BASE}`` unexpanded)."""
    resolved_base: str | None
    """The reference with global ARG defaults expanded; None when a variable has no default."""
    name: str | None
    line: int
    platform: str | None = None


@dataclass(frozen=True)
class Dockerfile:
    path: str
    instructions: tuple[Instruction, ...]
    stages: tuple[Stage, ...]
    global_args: dict[str, str]
    escape: str = "\\"

    @property
    def final_stage(self) -> Stage:
        return self.stages[-1]

    def stage_instructions(self, index: int) -> list[Instruction]:
        return [i for i in self.instructions if i.stage == index]


def _split_flags(args: str) -> tuple[dict[str, str], str]:
    flags: dict[str, str] = {}
    rest = args
    while True:
        match = _FLAG.match(rest)
        if not match:
            return flags, rest
        flags[match.group(1).lower()] = (match.group(2) or "").strip("\"'")
        rest = rest[match.end():]


def expand(text: str, variables: dict[str, str]) -> str | None:
    """``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR:+alt}`` with ``variables``; None if one is undefined."""
    missing = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1) or match.group(4)
        op, word = match.group(2), match.group(3) or ""
        value = variables.get(name)
        if op in ("-", ":-"):
            return value if value else word
        if op in ("+", ":+"):
            return word if value else ""
        if value is None:
            missing = True
            return ""
        return value

    out = _VAR.sub(substitute, text)
    return None if missing else out


def _logical_lines(lines: list[str], escape: str, start: int) -> list[tuple[int, int, str, list[str]]]:
    """(first line, last line, joined text, heredoc bodies) for every instruction, 1-based line numbers."""
    out: list[tuple[int, int, str, list[str]]] = []
    i, n = start, len(lines)
    while i < n:
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        first = i
        parts: list[str] = []
        while True:
            current = lines[i].rstrip()
            if current.endswith(escape):
                parts.append(current[: -len(escape)])
                i += 1
                while i < n and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
                    i += 1
                if i >= n:
                    break
                continue
            parts.append(current)
            i += 1
            break
        text = "".join(parts).strip()
        bodies: list[str] = []
        keyword = text.split(None, 1)[0].upper() if text else ""
        if keyword in ("RUN", "COPY", "ADD"):
            for match in _HEREDOC.finditer(text):
                strip_tabs, marker = match.group(1) == "-", match.group(3)
                body: list[str] = []
                while i < n:
                    line = lines[i].lstrip("\t") if strip_tabs else lines[i]
                    i += 1
                    if line.rstrip() == marker:
                        break
                    body.append(line)
                else:
                    raise DockerfileError(f"line {first + 1}: heredoc <<{marker} is never closed")
                bodies.append("\n".join(body))
        out.append((first + 1, i, text, bodies))
    return out


def parse_dockerfile(text: str, path: str = "Dockerfile") -> Dockerfile:
    """Parse Dockerfile text. Raises :class:`DockerfileError`."""
    if "\x00" in text:
        raise DockerfileError(f"{path}: holds NUL bytes, not a Dockerfile")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    escape = "\\"
    start = 0
    for start, line in enumerate(lines):  # `start`: where the instructions begin
        directive = _DIRECTIVE.match(line.strip())
        if not directive:
            break
        if directive.group(1).lower() == "escape":
            if directive.group(2) not in ("\\", "`"):
                raise DockerfileError(f"{path}:{start + 1}: escape must be \\ or `, not {directive.group(2)!r}")
            escape = directive.group(2)
    else:
        start = len(lines)
    instructions: list[Instruction] = []
    stages: list[Stage] = []
    global_args: dict[str, str] = {}
    for first, last, logical, bodies in _logical_lines(lines, escape, start):
        keyword_match = _KEYWORD.match(logical)
        keyword = keyword_match.group(1).upper() if keyword_match else ""
        if keyword not in INSTRUCTIONS:
            word = logical.split(None, 1)[0][:40] if logical.split() else logical[:40]
            raise DockerfileError(f"{path}:{first}: unknown instruction {word!r}")
        assert keyword_match is not None
        flags, args = _split_flags(logical[keyword_match.end():].strip())
        if keyword == "FROM":
            stages.append(_stage(len(stages), args, flags, first, global_args, path))
        elif keyword == "ARG" and not stages:
            name, eq, default = args.partition("=")
            if name.strip():
                global_args[name.strip()] = default.strip().strip("\"'") if eq else ""
        elif not stages:
            raise DockerfileError(f"{path}:{first}: {keyword} before the first FROM (only ARG may come first)")
        instructions.append(Instruction(keyword, args.strip(), first, last, len(stages) - 1, flags, tuple(bodies)))
    if not stages:
        raise DockerfileError(f"{path}: no FROM instruction")
    return Dockerfile(path, tuple(instructions), tuple(stages), global_args, escape)


def _stage(index: int, args: str, flags: dict[str, str], line: int, global_args: dict[str, str],
           path: str) -> Stage:
    words = args.split()
    if not words:
        raise DockerfileError(f"{path}:{line}: FROM needs an image")
    name = None
    if len(words) >= 3 and words[1].lower() == "as":
        name = words[2].lower()
    elif len(words) != 1:
        raise DockerfileError(f"{path}:{line}: FROM takes IMAGE [AS NAME], not {args[:80]!r}")
    defaults = {k: v for k, v in global_args.items() if v}
    return Stage(index, words[0], expand(words[0], defaults), name, line, flags.get("platform"))


def read_dockerfile(path: str | Path) -> Dockerfile:
    """Read and parse the Dockerfile at ``path``. Raises :class:`DockerfileError` (also for a missing file)."""
    path = Path(path)
    raw = read_user_file(path, "Dockerfile", DockerfileError)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return parse_dockerfile(text, str(path))
