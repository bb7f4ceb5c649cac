"""``scripts/local-pipeline IMAGE [IMAGE...] [--db FILE] [--repeat N] [--registry-account ACCOUNT]``: the AWS side
of imagescan on this machine, with no account (see :mod:`localpipeline`).

Each IMAGE (any reference ``imagescan scan`` accepts) is pushed into moto's ECR with its real digests, its blobs
served by a local ``docker-registry`` standing in for the ECR host; its push event goes through the EventBridge
rule's pattern to the push function, which starts the real state machine, whose tasks run the real handlers.
Every round delivers every push again; before each later round the push function's idempotency records are
expired (as if ``IdempotencyWindowSeconds`` had passed), so each round runs a new scan. Prints one JSON document
on stdout: ``{"runs": [...], "cost": {...}, "access": {...}}``, one run per image per round; logs go to stderr.

With ``--registry-account ACCOUNT`` the images are pushed into that (moto) account's ECR instead: the account gets
``registry-account.yaml``'s read role and forwarding rule, is listed in ``RegistryAccounts``, and its pushes reach
the scanner through the forwarding rule and the scanner's event bus policy; the functions read its registry as its
read role. ``access`` lists the ``AssumeRole`` decisions and the ECR tokens asked for, per calling account.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

QUIET = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_TRACE_DISABLED": "true"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/local-pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+", metavar="IMAGE",
                        help="oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE or a registry reference")
    parser.add_argument("--db", type=Path, help="vulnerability database to publish to the bucket first")
    parser.add_argument("--repeat", type=int, default=1, metavar="N", help="deliver every push N times (rounds)")
    parser.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE",
                        help="a template parameter (repeatable), e.g. LayerConcurrency=1")
    parser.add_argument("--registry-account", metavar="ACCOUNT",
                        help="push the images into this other account's registry (cross-account scanning)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for one execution")
    parser.add_argument("--work", type=Path, help="working directory (default: a temporary one)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.db is not None and not args.db.is_file():
        parser.error(f"--db {args.db}: no such file")
    for item in args.parameter:
        if "=" not in item:
            parser.error(f"--parameter {item!r}: expected KEY=VALUE")
    if args.registry_account is not None:
        from localpipeline.stack import ACCOUNT

        if not re.fullmatch(r"[0-9]{12}", args.registry_account) or args.registry_account == ACCOUNT:
            parser.error(f"--registry-account {args.registry_account!r}: expected a 12-digit account id other "
                         f"than the scanner's ({ACCOUNT})")
    return args


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from localpipeline.ecr import push
    from localpipeline.run import cost_summary, local_aws, upload_database
    from localpipeline.stack import ACCOUNT

    parameters = dict(item.split("=", 1) for item in args.parameter)
    account = args.registry_account or ACCOUNT
    registry_accounts = [args.registry_account] if args.registry_account else []
    with local_aws(work, parameters, registry_accounts=registry_accounts) as aws:
        if args.db is not None:
            upload_database(aws, args.db)
        ecr, registry = aws.ecr(account), aws.registry_for(account)
        pushed: list[Any] = []
        names: set[str] = set()
        for image in args.images:
            copied = push(image, registry, ecr)
            if copied.repository in names:  # two IMAGEs with one name: keep them apart
                copied = push(image, registry, ecr, f"{copied.repository}-{len(names) + 1}")
            names.add(copied.repository)
            pushed.append(copied)
        runs = []
        for round_number in range(1, args.repeat + 1):
            if round_number > 1:
                aws.expire_idempotency()
            for image in pushed:
                runs.append({"round": round_number, **aws.scan(image, args.timeout, account)})
        return {"runs": runs, "cost": cost_summary(runs, args.repeat), "access": access_summary(aws)}


def access_summary(aws: Any) -> dict[str, Any]:
    """The AssumeRole decisions, and the ECR tokens asked for per calling account and registry account."""
    tokens = Counter(f"{caller} -> {','.join(registries)}" for caller, registries in aws.access.token_requests)
    return {"assume_role": [{"principal": d.principal, "role_arn": d.role_arn, "refusal": d.refusal}
                            for d in aws.access.assume_role],
            "ecr_tokens": dict(sorted(tokens.items()))}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for key, value in QUIET.items():  # read when the handlers' loggers and metrics are created: set them first
        os.environ.setdefault(key, value)
    out = sys.stdout
    sys.stdout = sys.stderr  # the handlers' loggers bind stdout when created: keep stdout for the document
    try:
        from imagescan.errors import ScanError
        from localpipeline.ecr import LocalEcrError

        try:
            if args.work is not None:
                args.work.mkdir(parents=True, exist_ok=True)
                document = run(args, args.work)
            else:
                with tempfile.TemporaryDirectory(prefix="local-pipeline-") as tmp:
                    document = run(args, Path(tmp))
        except (ScanError, LocalEcrError) as exc:
            print(f"local-pipeline: {exc}", file=sys.stderr)
            return 2
    finally:
        sys.stdout = out
    json.dump(document, out, indent=2)
    out.write("\n")
    failed = [r for r in document["runs"] if r["execution"]["status"] != "SUCCEEDED"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
