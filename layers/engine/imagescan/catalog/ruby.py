"""The Ruby cataloger: installed gems, read from the gemspecs RubyGems writes when it installs a gem.

Every ``specifications/NAME-VERSION[-PLATFORM].gemspec`` (and ``specifications/default/*.gemspec``, Ruby's
default gems) is read, wherever the gem directory is: ``usr/lib/ruby/gems/3.1.0``, ``usr/local/bundle``,
``var/lib/gems/3.1.0``, ``vendor/bundle/ruby/3.1.0``, Debian's ``usr/share/rubygems-integration/all``. The gemspec
a gem ships in its own source tree (``gems/rack-2.2.22/rack.gemspec``) is arbitrary Ruby and is not read.

Nothing is executed. RubyGems generates these files with ``Gem::Specification#to_ruby``: one
``s.FIELD = LITERAL`` line per field, literals being quoted strings (``"rack".freeze``, ``'x'``, ``%q{x}``) or
arrays of them. The cataloger reads ``name``, ``version`` (also ``Gem::Version.new("…")``), ``license`` /
``licenses`` (joined by ``", "``) and ``platform`` (purl qualifier ``platform`` when not ``ruby``); the
``# stub: NAME VERSION PLATFORM`` comment line RubyGems writes first stands in for a missing name or version. A
gemspec that yields neither is malformed (:class:`CatalogError`). NUL bytes are not an error: RubyGems separates
the extension list of its second ``# stub:`` line with them (``digest``, ``json`` default gems).
"""

from __future__ import annotations

import posixpath
import re
from typing import BinaryIO

from imagescan.catalog.base import CatalogError
from imagescan.models import Package, PackageType, PathRecord

MAX_FILE_SIZE = 4 * 1024 * 1024
_ASSIGN_RE = re.compile(r"^\s*[A-Za-z_]\w*\.(name|version|license|licenses|platform)\s*=\s*(.*)$")
_STUB_RE = re.compile(r"^#\s*stub:\s+(\S+)\s+(\S+)(?:\s+(\S+))?")
_VERSION_NEW_RE = re.compile(r"^Gem::Version\.new\s*\(\s*")
_CLOSERS = {"{": "}", "(": ")", "[": "]", "<": ">"}
_DQ_ESCAPES = {"n": "\n", "t": "\t", "s": " ", "0": "\0", "e": "\x1b"}


class _Literal(ValueError):
    """The text at this point is not a string literal this reader understands."""


def _quoted(text: str, pos: int, quote: str) -> tuple[str, int]:
    out: list[str] = []
    i = pos + 1
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if quote == '"':
                out.append(_DQ_ESCAPES.get(nxt, nxt))
            else:
                out.append(nxt if nxt in ("\\", "'") else c + nxt)
            i += 2
            continue
        if c == quote:
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise _Literal("unterminated string")


def _percent(text: str, pos: int) -> tuple[str, int]:
    i = pos + 1
    if i < len(text) and text[i] in "qQ":
        i += 1
    if i >= len(text) or text[i].isalnum() or text[i].isspace():
        raise _Literal("not a %-literal")
    opener = text[i]
    closer = _CLOSERS.get(opener, opener)
    depth = 1
    out: list[str] = []
    i += 1
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if c == closer and closer != opener:
            depth -= 1
        elif c == opener and closer != opener:
            depth += 1
        elif c == closer:
            depth = 0
        if depth == 0:
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise _Literal("unterminated %-literal")


def _string(text: str, pos: int) -> tuple[str, int]:
    """The string literal at ``pos`` (with an optional ``.freeze``) and the position after it."""
    if pos >= len(text):
        raise _Literal("missing value")
    c = text[pos]
    if c in "\"'":
        value, pos = _quoted(text, pos, c)
    elif c == "%":
        value, pos = _percent(text, pos)
    else:
        raise _Literal(f"unsupported value {text[pos:pos + 30]!r}")
    if text.startswith(".freeze", pos):
        pos += len(".freeze")
    return value, pos


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def parse_value(text: str) -> list[str]:
    """A string literal, an array of them, or ``Gem::Version.new(literal)`` → its strings."""
    text = text.strip()
    version_new = _VERSION_NEW_RE.match(text)
    if version_new:
        return [_string(text, version_new.end())[0]]
    if not text.startswith("["):
        return [_string(text, 0)[0]]
    values: list[str] = []
    pos = _skip_space(text, 1)
    while pos < len(text) and text[pos] != "]":
        value, pos = _string(text, pos)
        values.append(value)
        pos = _skip_space(text, pos)
        if pos < len(text) and text[pos] == ",":
            pos = _skip_space(text, pos + 1)
        elif pos >= len(text) or text[pos] != "]":
            raise _Literal("malformed array")
    if pos >= len(text):
        raise _Literal("unterminated array")
    return values


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def parse_gemspec(data: bytes, path: str) -> Package:
    fields: dict[str, list[str]] = {}
    stub: tuple[str, str, str | None] | None = None
    for line in _text(data).splitlines():
        if stub is None and (match := _STUB_RE.match(line)):
            stub = (match.group(1), match.group(2), match.group(3))
            continue
        assign = _ASSIGN_RE.match(line)
        if assign is None or assign.group(1) in fields:
            continue
        try:
            fields[assign.group(1)] = parse_value(assign.group(2))
        except _Literal:
            continue  # a computed value (not written by RubyGems): fall back to the stub line
    name = (fields.get("name") or [""])[0].strip() or (stub[0] if stub else "")
    version = (fields.get("version") or [""])[0].strip() or (stub[1] if stub else "")
    if not name or not version or any(c.isspace() for c in name + version) or "/" in name:
        raise CatalogError(f"{path}: no usable gem name and version")
    platform = (fields.get("platform") or [""])[0].strip() or (stub[2] if stub and stub[2] else "")
    licenses: list[str] = []
    for value in fields.get("licenses", []) + fields.get("license", []):
        if value.strip() and value.strip() not in licenses:
            licenses.append(value.strip())
    qualifiers = {"platform": platform} if platform and platform != "ruby" else {}
    return Package(type=PackageType.GEM, name=name, version=version, license=", ".join(licenses) or None,
                   qualifiers=qualifiers, path=path)


def is_installed_gemspec(path: str) -> bool:
    directory, base = posixpath.split(path)
    if not base.endswith(".gemspec") or len(base) == len(".gemspec"):
        return False
    parent, name = posixpath.split(directory)
    return name == "specifications" or (name == "default" and posixpath.basename(parent) == "specifications")


class GemCataloger:
    name = "gem"
    version = 1
    max_file_size = MAX_FILE_SIZE

    def wants(self, path: str) -> bool:
        return path.endswith(".gemspec") and is_installed_gemspec(path)

    def parse(self, path: str, data: BinaryIO, size: int) -> PathRecord | None:
        return PathRecord(cataloger=self.name, path=path, packages=[parse_gemspec(data.read(), path)])
