"""Java ``.properties`` files (``pom.properties``), read as ``java.util.Properties.load`` reads them.

A logical line ends at an unescaped line break; a line ending in an odd number of backslashes continues on the next
one (whose leading blanks are dropped). Lines starting with ``#`` or ``!`` are comments. The key ends at the first
unescaped ``=``, ``:`` or blank; blanks, then at most one ``=``/``:``, then blanks separate it from the value. Escapes:
``\\t \\n \\r \\f \\uXXXX``, and a backslash before any other character stands for that character. Bytes are
decoded as UTF-8 when they are valid UTF-8, else as ISO-8859-1 (the format's historical encoding).
"""

from __future__ import annotations

import re

_BLANKS = " \t\f"
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class PropertiesError(ValueError):
    """A malformed ``\\uXXXX`` escape (Java's ``Properties.load`` rejects the file too), or one that escapes half
    of a surrogate pair (no character: it could not be written out as UTF-8)."""


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _continues(line: str) -> bool:
    backslashes = len(line) - len(line.rstrip("\\"))
    return backslashes % 2 == 1


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    pending: str | None = None
    for raw in _LINE_BREAK.split(text):
        line = raw.lstrip(_BLANKS) if pending is not None else raw
        if pending is None and (not line.strip(_BLANKS) or line.lstrip(_BLANKS)[:1] in ("#", "!")):
            continue
        if _continues(line):
            pending = (pending or "") + line[:-1]
            continue
        lines.append((pending or "") + line)
        pending = None
    if pending is not None:
        lines.append(pending)
    return lines


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "\\" or i + 1 >= len(text):
            out.append(char)
            i += 1
            continue
        code = text[i + 1]
        if code == "u":
            digits = text[i + 2 : i + 6]
            if len(digits) != 4 or any(c not in "0123456789abcdefABCDEF" for c in digits):
                raise PropertiesError(f"malformed \\uXXXX escape: {text[i : i + 6]!r}")
            out.append(chr(int(digits, 16)))
            i += 6
            continue
        out.append(_ESCAPES.get(code, code))
        i += 2
    text = "".join(out)
    try:  # \uD83D\uDE00 escapes one character as a surrogate pair, as in Java; a lone surrogate is no character
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except UnicodeDecodeError as exc:
        raise PropertiesError(f"\\u escape of a lone surrogate in {text.encode('unicode_escape')[:60]!r}") from exc


def _split(line: str) -> tuple[str, str]:
    line = line.lstrip(_BLANKS)
    i = 0
    while i < len(line):
        char = line[i]
        if char == "\\":
            i += 2
            continue
        if char in "=:" or char in _BLANKS:
            break
        i += 1
    key, rest = line[:i], line[i:]
    rest = rest.lstrip(_BLANKS)
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(_BLANKS)
    return key, rest


def parse_properties(data: bytes) -> dict[str, str]:
    """Key → value; a later duplicate key wins, as in Java. Raises :class:`PropertiesError` on a bad escape."""
    result: dict[str, str] = {}
    for line in _logical_lines(_decode(data)):
        key, value = _split(line)
        result[_unescape(key)] = _unescape(value)
    return result
