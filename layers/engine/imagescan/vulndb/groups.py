"""Alias groups: all ids that name one vulnerability, computed once at build time.

Two ids are in one group when a record lists the other as an ``alias`` (either direction, transitively), or when
a record has exactly one ``upstream`` id (a per-CVE distribution record such as ``DEBIAN-CVE-…`` or
``ALPINE-CVE-…``). Records with several upstream ids (a DSA or an ALAS fixing several CVEs) stay apart: they are
advisories about several vulnerabilities, and their ``upstream`` list says which. ``related`` never groups.

The group id is the group's lowest CVE id, else its lowest GHSA id, else its lowest id.
"""

from __future__ import annotations

import sqlite3


def _rank(ident: str) -> tuple[int, str]:
    if ident.startswith("CVE-"):
        return 0, ident
    if ident.startswith("GHSA-"):
        return 1, ident
    return 2, ident


def compute_groups(conn: sqlite3.Connection) -> int:
    """Fill ``alias_group`` for every stored vulnerability id and every id it names as an alias or upstream.
    Returns the number of groups."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        root = node
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[node] != root:
            parent[node], node = root, parent[node]
        return root

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for (ident,) in conn.execute("SELECT id FROM vulnerability"):
        find(ident)
    for vuln_id, other in conn.execute("SELECT vuln_id, other_id FROM alias WHERE kind = 'alias'"):
        union(vuln_id, other)
    for vuln_id, other in conn.execute(
        "SELECT vuln_id, MIN(other_id) FROM alias WHERE kind = 'upstream' GROUP BY vuln_id HAVING COUNT(*) = 1"
    ):
        union(vuln_id, other)
    members: dict[str, list[str]] = {}
    for ident in parent:
        members.setdefault(find(ident), []).append(ident)
    rows: list[tuple[str, str]] = []
    for group in members.values():
        canonical = min(group, key=_rank)
        rows.extend((ident, canonical) for ident in group)
    rows.sort()
    conn.executemany("INSERT INTO alias_group (id, group_id) VALUES (?, ?)", rows)
    return len(members)
