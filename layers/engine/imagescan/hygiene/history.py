"""The image config's ``history``: each entry's ``created_by`` turned back into a Dockerfile instruction.

Builders write ``created_by`` in a few shapes:

- BuildKit: ``RUN /bin/sh -c apt-get update # buildkit``, ``RUN |2 A=1 B=2 /bin/sh -c make # buildkit`` (the build
  args the step saw), ``COPY app /app # buildkit``, ``ADD https://x/y.tgz /opt/ # buildkit``, ``USER app``,
  ``ENV A=b``, ``EXPOSE map[8080/tcp:{}]``, ``CMD ["python3" "app.py"]``;
- the classic builder: ``/bin/sh -c #(nop)  CMD ["bash"]``, ``/bin/sh -c #(nop) ADD file:<sha256> in /``,
  ``/bin/sh -c apt-get update`` (a RUN), ``|1 TOKEN=x /bin/sh -c make`` (a RUN with build args);
- other tools (``docker commit``, kaniko, buildah, ko...) write free text or nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_BUILDKIT_SUFFIX = re.compile(r"\s*#\s*buildkit\s*$")
_NOP = re.compile(r"^/bin/(?:ba)?sh\s+-c\s+#\(nop\)\s*")
_SHELL_C = re.compile(r"^(?:/bin/(?:ba|da|a)?sh|/usr/bin/(?:ba)?sh|sh|bash)\s+-c\s+")
_ARGS_PREFIX = re.compile(r"^\|(\d+)\s+")
_KEYWORD = re.compile(r"^([A-Z]+)(?:\s+|$)")
KEYWORDS = frozenset({"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "HEALTHCHECK", "LABEL",
                      "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"})


@dataclass(frozen=True)
class HistoryStep:
    index: int
    """Position in the config's ``history`` list (empty-layer entries included), as in ``history[N]``."""
    created_by: str
    keyword: str | None
    """The Dockerfile instruction (``RUN``, ``COPY``...), or None when ``created_by`` is not recognisable."""
    text: str
    """The instruction's arguments; for RUN, the shell command itself."""
    empty_layer: bool = False
    build_args: dict[str, str] = field(default_factory=dict)
    """``NAME=value`` build arguments recorded before a RUN's command (``|2 A=1 B=2 ...``)."""


def _split_build_args(text: str) -> tuple[dict[str, str], str]:
    """``|2 A=1 B=two /bin/sh -c cmd`` → ({A: 1, B: two}, ``/bin/sh -c cmd``). Values hold no spaces here
    (builders quote nothing), so the first N space-separated words are the arguments."""
    match = _ARGS_PREFIX.match(text)
    if not match:
        return {}, text
    count = int(match.group(1)) if len(match.group(1)) < 4 else 0
    rest = text[match.end():]
    args: dict[str, str] = {}
    for _ in range(count):
        word, _, remainder = rest.partition(" ")
        name, eq, value = word.partition("=")
        if not eq or not name:
            break
        args[name] = value
        rest = remainder.lstrip(" ")
    return args, rest


def parse_step(index: int, entry: object) -> HistoryStep:
    """One ``history`` entry; anything malformed gives a step with ``keyword=None``."""
    if not isinstance(entry, dict):
        return HistoryStep(index, "", None, "")
    created_by = entry.get("created_by")
    empty = entry.get("empty_layer") is True
    if not isinstance(created_by, str):
        return HistoryStep(index, "", None, "", empty)
    text = _BUILDKIT_SUFFIX.sub("", created_by.strip())
    nop = _NOP.match(text)
    if nop:
        text = text[nop.end():]
    build_args, text = _split_build_args(text)
    if not nop:
        shell = _SHELL_C.match(text)
        if shell:  # classic builder RUN: the command line as the shell got it
            return HistoryStep(index, created_by, "RUN", text[shell.end():].strip(), empty, build_args)
    keyword = _KEYWORD.match(text)
    if keyword and keyword.group(1) in KEYWORDS:
        rest = text[keyword.end():].strip()
        if keyword.group(1) == "RUN":
            more_args, rest = _split_build_args(rest)
            build_args = {**build_args, **more_args}
            shell = _SHELL_C.match(rest)
            if shell:
                rest = rest[shell.end():]
        return HistoryStep(index, created_by, keyword.group(1), rest.strip(), empty, build_args)
    return HistoryStep(index, created_by, None, text, empty, build_args)


def parse_history(config: dict[str, Any]) -> list[HistoryStep]:
    history = config.get("history")
    if not isinstance(history, list):
        return []
    return [parse_step(i, entry) for i, entry in enumerate(history)]
