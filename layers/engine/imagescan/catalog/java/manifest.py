"""``META-INF/MANIFEST.MF``: the main section of a JAR manifest.

Lines are ``Name: value``; a line starting with one space continues the previous value (the format wraps at 72
bytes); the main section ends at the first empty line (per-entry sections follow; they say nothing about the
archive as a whole). Names are case-insensitive: they are returned lower-cased. A line that is neither an attribute
nor a continuation is skipped, as lenient readers do; bytes are UTF-8 (invalid sequences replaced).
"""

from __future__ import annotations

import re

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def parse_manifest(data: bytes) -> dict[str, str]:
    """Lower-cased attribute name → value of the main section; a later duplicate wins, as in Java."""
    attributes: dict[str, str] = {}
    last: str | None = None
    for line in _LINE_BREAK.split(data.decode("utf-8", errors="replace")):
        if not line:
            if attributes:
                break
            continue  # blank lines before the first attribute: tolerated
        if line.startswith(" "):
            if last is not None:
                attributes[last] += line[1:]
            continue
        name, sep, value = line.partition(":")
        name = name.strip()
        if not sep or not name or " " in name:
            last = None
            continue
        last = name.lower()
        attributes[last] = value[1:] if value.startswith(" ") else value
    return {k: v.strip() for k, v in attributes.items()}
