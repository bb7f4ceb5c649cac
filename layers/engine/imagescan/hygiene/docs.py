"""The README's rule catalogue, generated from :mod:`imagescan.hygiene.rules` so that it cannot drift.

``python -m imagescan.hygiene.docs [README]`` rewrites the part of the README between ``<!-- rules:start -->`` and
``<!-- rules:end -->`` (appending the section when the markers are missing); ``--check`` only says whether it is
current (exit 1 when stale). ``scripts/rules-doc`` runs it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imagescan.hygiene.rules import CATEGORIES, RULES, Rule

HEADER = "| ID | Severity | Kind | Title | Why | What to do |\n|---|---|---|---|---|---|"
START, END = "<!-- rules:start -->", "<!-- rules:end -->"
README = Path(__file__).resolve().parents[4] / "README.md"

INTRO = """\
## Hygiene rules

Generated from `layers/engine/imagescan/hygiene/rules.py` by `scripts/rules-doc`; do not edit by hand (a test
fails when this section is stale). Each finding carries its rule's ID in `rule` (`code` for `scan-incomplete`),
its severity, and the rationale and remediation below.

By default every rule is enabled at the severity listed. `imagescan scan --policy FILE` takes a YAML or JSON
policy that disables rules, changes severities and ignores paths, packages or tools (globs); settings under an
exact rule ID win over globs:

```yaml
rules:
  tool-shell: {enabled: false}
  config-root-user: {severity: HIGH}
  "tool-*": {severity: MEDIUM}
  file-setuid-unexpected: {ignore: ["usr/lib/dbus-1.0/*"]}
```

`--dockerfile FILE` adds the Dockerfile rules and links every Dockerfile finding to the history entry its
instruction produced (`config: history[N]`). End-of-life and point-release rules read the end-of-life table of
the database (`--db`, default `$IMAGESCAN_DB`, else `~/.cache/imagescan/imagescan.db`); without it a
`scan-incomplete` finding says so. Base images are found among the images scanned before, recorded in
`~/.cache/imagescan/images.db` (`$IMAGESCAN_IMAGES_DB` overrides).
"""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _row(rule: Rule) -> str:
    return (f"| `{rule.id}` | {rule.severity.value} | {rule.kind} | {_cell(rule.title)} | {_cell(rule.rationale)} "
            f"| {_cell(rule.remediation)} |")


def render() -> str:
    """The whole generated section, markers included."""
    parts = [START, INTRO]
    for category in CATEGORIES:
        rules = [r for r in RULES if r.category == category]
        parts.append(f"### {category}\n\n{HEADER}")
        parts.append("\n".join(_row(r) for r in rules) + "\n")
    parts.append(END)
    return "\n".join(parts) + "\n"


def updated(text: str) -> str:
    """``text`` (a README) with the rule section replaced by the current one, or appended when missing."""
    section = render()
    start, end = text.find(START), text.find(END)
    if start >= 0 and end > start:
        tail = text[end + len(END):]
        return text[:start] + section.rstrip("\n") + tail
    return text.rstrip("\n") + "\n\n" + section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rules-doc", description="Write the hygiene rule catalogue into the README.")
    parser.add_argument("readme", nargs="?", default=str(README))
    parser.add_argument("--check", action="store_true", help="exit 1 if the README's rule section is stale")
    args = parser.parse_args(argv)
    path = Path(args.readme)
    text = path.read_text(encoding="utf-8")
    new = updated(text)
    if args.check:
        if new != text:
            print(f"{path}: the rule catalogue is stale; run scripts/rules-doc", file=sys.stderr)
            return 1
        return 0
    if new != text:
        path.write_text(new, encoding="utf-8")
        print(f"{path}: rule catalogue updated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
