"""The ``imagescan`` command line (SPEC: commands, options, exit codes)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from imagescan.dbcli import add_db_parser, run_db
from imagescan.errors import ScanError
from imagescan.image.manifest import Platform
from imagescan.image.reference import parse_reference
from imagescan.vulndb.errors import VulnDBError

if TYPE_CHECKING:  # the scan and report machinery is imported when a command needs it: `sbom` starts faster
    from rich.progress import TaskID

    from imagescan.findings import Finding, Severity
    from imagescan.scan import ImageAnalysis, Progress
    from imagescan.vulndb.store import VulnDB

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _severity(text: str) -> Severity:
    from imagescan.findings import Severity

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
                       "oci-archive:FILE[:TAG], docker-archive:FILE, sbom:FILE (a CycloneDX JSON SBOM: match only)")
        p.add_argument("-o", "--output", metavar="FILE", help="write the result to FILE instead of stdout")
        p.add_argument("--platform", type=Platform.parse, help="OS/ARCH[/VARIANT] to pick from an image index "
                       "(default linux/amd64)")
        p.add_argument("--insecure", action="store_true", help="allow plain HTTP to any registry")

    scan = commands.add_parser("scan", help="inventory an image and report findings")
    image_args(scan)
    scan.add_argument("--offline", action="store_true",
                      help="never use the network: registry references are refused (local images and SBOMs only)")
    scan.add_argument("--format", choices=("table", "json", "cyclonedx", "sarif", "asff"), default="table",
                      help="asff: Security Hub findings; account and Region from AWS_ACCOUNT_ID and AWS_REGION, "
                      "else from an ECR image's registry host")
    scan.add_argument("--db", type=Path, metavar="FILE", help="vulnerability database (default: $IMAGESCAN_DB, "
                      "else ~/.cache/imagescan/imagescan.db; without one, packages are not matched)")
    scan.add_argument("--dockerfile", metavar="FILE", help="also review this Dockerfile, linked to the image history")
    scan.add_argument("--policy", metavar="FILE", help="hygiene policy (YAML or JSON): rules on/off, severities")
    scan.add_argument("--severity", type=_severity_list, help="only report findings of these severities")
    scan.add_argument("--fail-on", type=_severity, metavar="SEVERITY",
                      help="exit 1 when a finding at or above SEVERITY is reported")
    sbom = commands.add_parser("sbom", help="write the image's CycloneDX 1.6 SBOM")
    image_args(sbom)
    add_db_parser(commands)
    return parser


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress | None]:
    """A layer progress bar on stderr. It starts at the first report, which the scan makes once its worker
    processes are forked: the bar refreshes from a thread, and forking beside a running thread is unsafe, while the
    safe alternative (forkserver) starts every worker as a fresh interpreter, a quarter of a second more."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
    from rich.progress import Progress as Bar

    with ExitStack() as stack:
        started: list[tuple[Bar, TaskID]] = []

        def update(done: int, total: int) -> None:
            if not started:
                columns = (TextColumn("layers"), BarColumn(), MofNCompleteColumn())
                bar = stack.enter_context(Bar(*columns, console=Console(stderr=True), transient=True))
                started.append((bar, bar.add_task("layers", total=None)))
            bar, task = started[0]
            bar.update(task, completed=done, total=total)

        yield update


def _write(text: str, output: str | None) -> None:
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text if text.endswith("\n") else text + "\n")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _analyze(args: argparse.Namespace) -> ImageAnalysis:
    from imagescan.catalog.registry import default_catalogers, package_catalogers
    from imagescan.scan import ScanOptions, analyze_image

    if args.image.strip().startswith("sbom:"):  # SPEC: match only, nothing is pulled
        from imagescan.sbom.analysis import analysis_from_sbom

        return analysis_from_sbom(args.image)
    if getattr(args, "offline", False) and parse_reference(args.image).transport == "docker":
        raise ScanError(f"--offline: {args.image} is in a registry; scan an oci:, oci-archive:, docker-archive: "
                        "or sbom: reference instead")
    with _progress(sys.stderr.isatty()) as progress:
        return analyze_image(args.image, ScanOptions(platform=args.platform, insecure=args.insecure),
                             package_catalogers() if args.command == "sbom" else default_catalogers(),
                             progress=progress)


def _filter(findings: list[Finding], severities: list[Severity] | None) -> list[Finding]:
    return [f for f in findings if severities is None or f.severity in severities]


def _open_db(explicit: Path | None) -> VulnDB | None:
    """``--db FILE`` or ``$IMAGESCAN_DB`` must name a database (VulnDBError otherwise); the default location may
    hold none: the scan then reports ``vulnerabilities-not-checked``."""
    from imagescan.vulndb.store import VulnDB
    from imagescan.vulndb.update import default_db_path

    if explicit is None and not os.environ.get("IMAGESCAN_DB"):
        path = default_db_path()
        return VulnDB(path) if path.exists() else None
    return VulnDB(explicit or default_db_path())


def _scan(args: argparse.Namespace, db: VulnDB | None) -> list[Finding]:
    from imagescan.checks.base import CheckContext
    from imagescan.checks.registry import run_checks
    from imagescan.hygiene import hygiene_extras
    from imagescan.report.json_report import build_report
    from imagescan.sbom.cyclonedx import sbom_json

    extras = hygiene_extras(args.dockerfile, args.policy)
    analysis = _analyze(args)
    findings = _filter(run_checks(analysis, CheckContext(vulndb=db, extras=extras)), args.severity)
    if args.format == "cyclonedx":
        _write(sbom_json(analysis, findings), args.output)
        return findings
    report = build_report(analysis, findings, db.info() if db else None)
    if args.format == "json":
        _write(json.dumps(report, indent=2), args.output)
    elif args.format == "sarif":
        from imagescan.report.sarif import build_sarif

        _write(json.dumps(build_sarif(report), indent=2), args.output)
    elif args.format == "asff":
        from imagescan.report.asff import build_asff

        _write(json.dumps(build_asff(report), indent=2), args.output)
    else:
        from imagescan.report.table import render_table

        _write(render_table(report, color=args.output is None and sys.stdout.isatty()), args.output)
    return findings


def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "db":
        return run_db(args)
    db: VulnDB | None = None
    try:
        if args.command == "sbom":
            from imagescan.sbom.cyclonedx import sbom_json

            _write(sbom_json(_analyze(args)), args.output)
            return EXIT_OK
        db = _open_db(args.db)
        findings = _scan(args, db)
    except (ScanError, VulnDBError) as exc:
        print(f"imagescan: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"imagescan: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_ERROR
    finally:
        if db is not None:
            db.close()
    if args.fail_on and any(f.severity.at_least(args.fail_on) for f in findings):
        return EXIT_FINDINGS
    return EXIT_OK


def main() -> None:
    # pydantic looks through every installed distribution's entry points for plugins (~15 ms) when it builds its
    # first model; the command line uses none.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    sys.exit(run())


if __name__ == "__main__":
    main()
