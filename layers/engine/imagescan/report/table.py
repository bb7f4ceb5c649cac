"""The human-readable report (``--format table``)."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table


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
    findings = report["findings"]
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
