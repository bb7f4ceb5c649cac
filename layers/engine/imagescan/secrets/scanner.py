"""Scanning a text for secrets.

1. Lower-case the text once (``bytes.lower`` keeps offsets) and find which rule keywords occur in it with one
   Aho-Corasick pass (:mod:`ahocorasick_rs`; a compiled trie regex when it is not installed). A text with none
   of them stops here.
2. Run only the rules whose keywords occur (and the rules scoped to this file's path), in priority order.
3. For each match: boundary, known-example, placeholder and value checks; a span an earlier rule reported is not
   reported again.
4. Build masked previews and fingerprints; the clear values are dropped with the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from imagescan.models import RawFinding
from imagescan.secrets import masking, values
from imagescan.secrets.rules import RULES, Candidate, Rule

_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


@dataclass(frozen=True)
class SecretMatch:
    """One secret found in a text: where, which rule, a masked preview and the fingerprint; never the value."""

    rule: Rule
    start: int
    end: int
    line: int
    masked: str
    fingerprint: str

    def raw(self) -> RawFinding:
        return RawFinding(rule=self.rule.id, title=self.rule.title, severity=self.rule.severity.value,
                          line=self.line, masked=self.masked, fingerprint=self.fingerprint)


class Prefilter:
    """Which of a fixed set of lower-case keywords occur in a (lower-cased) text."""

    def __init__(self, keywords: Iterable[bytes], native: bool = True) -> None:
        self.keywords = sorted(set(keywords))
        self._ac = None
        if native:
            try:
                from ahocorasick_rs import BytesAhoCorasick
            except ImportError:  # pragma: no cover - the wheel is a declared dependency
                pass
            else:
                self._ac = BytesAhoCorasick(self.keywords)
        # A zero-width lookahead visits every offset, so keywords overlapping or inside others are all seen.
        self._rx = re.compile(b"(?=(" + _trie(self.keywords) + b"))") if self._ac is None else None

    def present(self, lower: bytes) -> set[bytes]:
        if self._ac is not None:
            return {self.keywords[i] for i, _, _ in self._ac.find_matches_as_indexes(lower, overlapping=True)}
        assert self._rx is not None
        found: set[bytes] = set()
        for m in self._rx.finditer(lower):
            # The regex reports the longest keyword at an offset; shorter keywords that are prefixes of it count too.
            hit = m.group(1)
            found.update(k for k in self.keywords if hit.startswith(k))
        return found


def _trie(words: Sequence[bytes]) -> bytes:
    """A regex for ``words`` as a trie (``pass(?:word|wd)?``): far faster in ``re`` than a flat alternation."""
    children: dict[bytes, list[bytes]] = {}
    terminal = False
    for w in words:
        if w:
            children.setdefault(w[:1], []).append(w[1:])
        else:
            terminal = True
    if not children:
        return b""
    alternatives = [re.escape(first) + _trie(rest) for first, rest in sorted(children.items())]
    body = alternatives[0] if len(alternatives) == 1 else b"(?:" + b"|".join(alternatives) + b")"
    if terminal:
        body = b"(?:" + body + b")?"
    return body


class Scanner:
    """A compiled rule set. :data:`SCANNER` holds the default one."""

    def __init__(self, rules: Sequence[Rule] = RULES, native: bool = True) -> None:
        self.rules = tuple(rules)
        self.prefilter = Prefilter((k for r in self.rules for k in r.keywords), native=native)
        self._by_keyword: dict[bytes, list[int]] = {}
        for index, rule in enumerate(self.rules):
            for keyword in rule.keywords:
                self._by_keyword.setdefault(keyword, []).append(index)
        self._path_rules = [i for i, r in enumerate(self.rules) if r.path is not None]
        self._context_rules = {i for i, r in enumerate(self.rules) if r.context_only}

    def _candidates(self, lower: bytes, path: str | None, shape_only: bool) -> list[Rule]:
        chosen: set[int] = set()
        for keyword in self.prefilter.present(lower):
            chosen.update(self._by_keyword[keyword])
        if shape_only:
            chosen -= self._context_rules
        for i in self._path_rules:
            rule = self.rules[i]
            if path is not None and rule.path is not None and rule.path.search(path):
                if not rule.keywords:
                    chosen.add(i)
            else:
                chosen.discard(i)
        return [self.rules[i] for i in sorted(chosen)]

    def scan(self, data: bytes, path: str | None = None, shape_only: bool = False) -> list[SecretMatch]:
        """Secrets in ``data``; ``path`` (the image path) enables the rules scoped to credential files;
        ``shape_only`` (a library's file, a sample file) leaves out the rules that go by context only."""
        lower = data.lower()
        rules = self._candidates(lower, path, shape_only)
        if not rules:
            return []
        found: list[tuple[Rule, int, int, int, str]] = []  # rule, anchor, start, end, fingerprint
        for rule in rules:
            for m in rule.pattern.finditer(lower if rule.lowercase else data):
                accepted = self._accept(rule, m, data, found)
                if accepted is not None:
                    found.append(accepted)
        spans = [(s, e, r.reveal) for r, _, s, e, _ in found]
        out = []
        for rule, anchor, start, end, fp in sorted(found, key=lambda f: f[2]):
            masked = masking.preview(data, anchor, start, end, spans)
            clear = data[start:end].decode("utf-8", "replace")
            if len(clear) >= 4 and clear in masked:  # never: a last guard, not a code path we expect
                masked = masking.mask(data[start:end], 0)
            out.append(SecretMatch(rule, start, end, data.count(b"\n", 0, anchor) + 1, masked, fp))
        return out

    @staticmethod
    def _accept(rule: Rule, m: re.Match[bytes], data: bytes,
                found: list[tuple[Rule, int, int, int, str]]) -> tuple[Rule, int, int, int, str] | None:
        start, end = m.span(rule.group)
        if start < 0 or end <= start:
            return None
        if rule.boundary and ((start > 0 and data[start - 1] in _WORD) or (end < len(data) and data[end] in _WORD)):
            return None
        if any(start < e and s < end for _, _, s, e, _ in found):
            return None
        value = data[start:end]
        if values.is_known_example(value) or values.degenerate(value):
            return None
        if rule.placeholders and values.is_placeholder(value):
            return None
        if rule.check is not None and not rule.check(Candidate(value, m, data)):
            return None
        normalized = rule.normalize(value) if rule.normalize else value
        fp = values.fingerprint(normalized)
        if fp in values.KNOWN_EXAMPLES:
            return None
        return rule, m.start(), start, end, fp


SCANNER = Scanner()


def scan(data: bytes, path: str | None = None, shape_only: bool = False) -> list[SecretMatch]:
    """Secrets in ``data`` by the default rule set."""
    return SCANNER.scan(data, path, shape_only)


def redact(text: str) -> str:
    """``text`` with every secret the rules find replaced by its mask (for echoing config values in reports)."""
    data = text.encode("utf-8", "surrogateescape")
    matches = scan(data)
    if not matches:
        return text
    out: list[str] = []
    pos = 0
    for match in sorted(matches, key=lambda m: m.start):
        if match.start < pos:
            continue
        out.append(data[pos:match.start].decode("utf-8", "replace"))
        out.append(masking.mask(data[match.start:match.end], match.rule.reveal))
        pos = match.end
    out.append(data[pos:].decode("utf-8", "replace"))
    return "".join(out)
