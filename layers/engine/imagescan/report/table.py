"""The human-readable report (``--format table``)."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text


def _vulnerability_table(findings: list[dict[str, Any]]) -> Table:
    counts = Counter(f["severity"] for f in findings)
    order = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL")
    summary = ", ".join(f"{counts[s]} {s}" for s in order if counts[s])
    exploited = sum(1 for f in findings if f.get("known_exploited"))
    if exploited:
        summary += f"; {exploited} known exploited"
    table = Table(title=f"Vulnerabilities ({len(findings)}: {summary})", title_justify="left", show_lines=False)
    for column in ("Severity", "Vulnerability", "Package", "Installed", "Fixed in", "KEV"):
        table.add_column(column, overflow="fold")
    for f in findings:
        package = f["package_name"] + (f" ({f['source_package']})" if f.get("source_package") else "")
        fixed = f.get("fixed_version") or f["fix_state"]
        cells = (f["severity"], f["vulnerability_id"], package, f["installed_version"], fixed,
                 "yes" if f.get("known_exploited") else "")
        table.add_row(*(Text(str(c)) for c in cells))  # Text: package names are not markup
    return table


def render_table(report: dict[str, Any], color: bool = False) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=color, no_color=not color, width=140)
    image = report["image"]
    os = image.get("os") or {}
    console.print(f"Image    {image['reference']}")
    console.print(f"Digest   {image['digest']}  ({image['platform']}, {len(image['layers'])} layers)")
    console.print(f"OS       {os.get('name') or os.get('id') or 'unknown'}")
    counts = Counter(p["type"] for p in report["packages"])
    summary = ", ".join(f"{n} {t}" for t, n in sorted(counts.items())) or "none"
    console.print(f"Packages {len(report['packages'])} ({summary})")
    database = report.get("database")
    if database:
        console.print(f"Database built {database['built_at']} from {len(database['sources'])} feed file(s)")
    vulnerabilities = [f for f in report["findings"] if f["kind"] == "vulnerability"]
    if vulnerabilities:
        console.print(_vulnerability_table(vulnerabilities))
    guidance = report.get("fix_guidance") or []
    if guidance:
        console.print(f"Fix guidance ({len(guidance)})")
        for entry in guidance:
            console.print(f"  {entry['text']}", markup=False)
    findings = [f for f in report["findings"] if f["kind"] != "vulnerability"]
    if findings:
        table = Table(title=f"Findings ({len(findings)})", title_justify="left", show_lines=False)
        for column in ("Severity", "Kind", "Title"):
            table.add_column(column)
        for f in findings:
            table.add_row(f["severity"], f["kind"], f["title"])
        console.print(table)
    for w in report["warnings"]:
        console.print(f"warning: [{w['code']}] {w['message']}", markup=False)
    return out.getvalue()
