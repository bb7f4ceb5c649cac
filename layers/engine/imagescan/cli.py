"""The ``imagescan`` command line (SPEC: commands, options, exit codes)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from imagescan.checks.base import CheckContext
from imagescan.checks.registry import run_checks
from imagescan.errors import ScanError
from imagescan.findings import Finding, Severity
from imagescan.image.manifest import Platform
from imagescan.report.json_report import build_report
from imagescan.report.table import render_table
from imagescan.sbom.cyclonedx import sbom_json
from imagescan.scan import ImageAnalysis, Progress, ScanOptions, analyze_image

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _severity(text: str) -> Severity:
    try:
        return Severity(text.strip().upper())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"unknown severity {text!r}") from exc


def _severity_list(text: str) -> list[Severity]:
    return [_severity(s) for s in text.split(",") if s.strip()]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="imagescan", description="Scan container images without Docker.")
    commands = parser.add_subparsers(dest="command", required=True)

    def image_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("image", metavar="IMAGE", help="docker://HOST/REPO[:TAG|@DIGEST], oci:DIR[:TAG], "
                       "oci-archive:FILE[:TAG], docker-archive:FILE")
        p.add_argument("-o", "--output", metavar="FILE", help="write the result to FILE instead of stdout")
        p.add_argument("--platform", type=Platform.parse, help="OS/ARCH[/VARIANT] to pick from an image index "
                       "(default linux/amd64)")
        p.add_argument("--insecure", action="store_true", help="allow plain HTTP to any registry")

    scan = commands.add_parser("scan", help="inventory an image and report findings")
    image_args(scan)
    scan.add_argument("--format", choices=("table", "json", "cyclonedx"), default="table")
    scan.add_argument("--severity", type=_severity_list, help="only report findings of these severities")
    scan.add_argument("--fail-on", type=_severity, metavar="SEVERITY",
                      help="exit 1 when a finding at or above SEVERITY is reported")
    sbom = commands.add_parser("sbom", help="write the image's CycloneDX 1.6 SBOM")
    image_args(sbom)
    return parser


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
    from rich.progress import Progress as Bar

    columns = (TextColumn("layers"), BarColumn(), MofNCompleteColumn())
    with Bar(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("layers", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _write(text: str, output: str | None) -> None:
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text if text.endswith("\n") else text + "\n")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _analyze(args: argparse.Namespace) -> ImageAnalysis:
    with _progress(sys.stderr.isatty()) as progress:
        return analyze_image(args.image, ScanOptions(platform=args.platform, insecure=args.insecure),
                             progress=progress)


def _filter(findings: list[Finding], severities: list[Severity] | None) -> list[Finding]:
    return [f for f in findings if severities is None or f.severity in severities]


def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        analysis = _analyze(args)
        if args.command == "sbom":
            _write(sbom_json(analysis), args.output)
            return EXIT_OK
        findings = _filter(run_checks(analysis, CheckContext()), args.severity)
        if args.format == "cyclonedx":
            _write(sbom_json(analysis), args.output)
        else:
            report = build_report(analysis, findings)
            if args.format == "json":
                _write(json.dumps(report, indent=2), args.output)
            else:
                _write(render_table(report, color=args.output is None and sys.stdout.isatty()), args.output)
    except ScanError as exc:
        print(f"imagescan: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"imagescan: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_ERROR
    if args.fail_on and any(f.severity.at_least(args.fail_on) for f in findings):
        return EXIT_FINDINGS
    return EXIT_OK


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
