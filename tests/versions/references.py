"""Run the real reference implementations on batches of version pairs.

Every reference program (in ``reference/``) reads ``xHEX xHEX`` lines (two UTF-8 versions, hex encoded) and
prints one result a line: -1, 0, 1, or EA / EB when it refuses the first / second version. Programs that need
building (Go, Java, Rust) are built once into ``.fixtures/versions`` (git-ignored) from Debian's packaged
sources, offline. A missing tool skips its test, except under CI (``CI=true``) or
``IMAGESCAN_REQUIRE_REFERENCES=1``, where it fails: CI must prove the comparators against the references.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from imagescan.versions.base import InvalidVersion
from tests.needs import missing

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / ".fixtures" / "versions"
PROGRAMS = Path(__file__).resolve().parent / "reference"
SYSTEM_PYTHON = "/usr/bin/python3"
NODE_SEMVER_SPEC = "semver@7"
MAVEN_ARTIFACT = "org.apache.maven:maven-artifact:3.9.6"

Pair = tuple[str, str]


def _encode(version: str) -> str:
    return "x" + version.encode("utf-8").hex()


def run_reference(argv: Sequence[str], pairs: Sequence[Pair], *, env: dict[str, str] | None = None) -> list[str]:
    """Feed ``pairs`` to one reference process; return its result for each pair."""
    data = "".join(f"{_encode(a)} {_encode(b)}\n" for a, b in pairs)
    proc = subprocess.run(list(argv), input=data, capture_output=True, text=True, timeout=300, env=env, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"reference {argv[0]} failed ({proc.returncode}): {proc.stderr[-3000:]}")
    results = proc.stdout.split()
    assert len(results) == len(pairs), f"reference {argv[0]} answered {len(results)} of {len(pairs)} pairs"
    return results


def ours(compare: Callable[[str, str], int], pairs: Iterable[Pair]) -> list[str]:
    """Our results in the reference protocol (EA / EB for the first / second string refused)."""
    out = []
    for a, b in pairs:
        try:
            compare(a, a)
        except InvalidVersion:
            out.append("EA")
            continue
        try:
            compare(b, b)
        except InvalidVersion:
            out.append("EB")
            continue
        out.append(str(compare(a, b)))
    return out


def assert_agree(
    scheme: str, pairs: Sequence[Pair], expected: Sequence[str], actual: Sequence[str], *, min_ordered: float
) -> None:
    """Every result equal; and at least ``min_ordered`` of the pairs were real orderings (not refusals)."""
    mismatches = [
        f"{a!r} vs {b!r}: reference {e}, ours {o}"
        for (a, b), e, o in zip(pairs, expected, actual, strict=True)
        if e != o
    ]
    assert not mismatches, f"{scheme}: {len(mismatches)} of {len(pairs)} pairs differ:\n" + "\n".join(mismatches[:30])
    ordered = sum(1 for e in expected if e in ("-1", "0", "1"))
    assert ordered >= min_ordered * len(pairs), f"{scheme}: only {ordered} of {len(pairs)} pairs were comparable"
    kinds = {e for e in expected if e in ("-1", "0", "1")}
    assert kinds == {"-1", "0", "1"}, f"{scheme}: the pairs never produced {sorted({'-1', '0', '1'} - kinds)}"


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
    return h.hexdigest()[:16]


def _build_once(name: str, key: str, build: Callable[[Path], Path]) -> Path:
    """Build into ``.fixtures/versions/<name>-<key>`` (atomically) unless it is there; return the artifact."""
    final = FIXTURES / f"{name}-{key}"
    marker = final / ".artifact"
    if marker.is_file():
        return final / marker.read_text()
    FIXTURES.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=FIXTURES))
    try:
        artifact = build(work)
        (work / ".artifact").write_text(str(artifact.relative_to(work)))
        try:
            work.rename(final)
        except OSError:  # built concurrently by another worker: use theirs
            shutil.rmtree(work, ignore_errors=True)
        return final / (final / ".artifact").read_text()
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _run(argv: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed: {proc.stdout[-2000:]}{proc.stderr[-3000:]}")


# --- the reference tools --------------------------------------------------------------------------------------


def system_python_with(module: str) -> list[str]:
    """argv prefix of Debian's python3 if it can import ``module`` (python3-apt, python3-rpm)."""
    if not Path(SYSTEM_PYTHON).exists():
        missing(SYSTEM_PYTHON)
    probe = subprocess.run([SYSTEM_PYTHON, "-c", f"import {module}"], capture_output=True, check=False)
    if probe.returncode != 0:
        missing(f"{module} for {SYSTEM_PYTHON} (Debian package python3-{module.replace('_pkg', '')})")
    return [SYSTEM_PYTHON]


def node_semver() -> list[str]:
    """argv of the node-semver reference; installs ``semver`` from the npm registry once."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        missing("node and npm")
    spec_key = _digest(NODE_SEMVER_SPEC)

    def build(work: Path) -> Path:
        _run(["npm", "install", "--prefix", str(work), "--no-audit", "--no-fund", "--silent", NODE_SEMVER_SPEC])
        return work / "node_modules" / "semver"

    module = _build_once("node-semver", spec_key, build)
    return ["node", str(PROGRAMS / "ref_npm.js"), str(module)]


GO_SEMVER_SOURCE = Path("/usr/share/gocode/src/golang.org/x/mod/semver/semver.go")


def go_semver() -> list[str]:
    """argv of the Go reference, built offline against Debian's golang-golang-x-mod-dev."""
    if shutil.which("go") is None:
        missing("go (Debian package golang-go)")
    if not GO_SEMVER_SOURCE.is_file():
        missing("golang.org/x/mod/semver (Debian package golang-golang-x-mod-dev)")
    source = PROGRAMS / "ref_go.go"

    def build(work: Path) -> Path:
        env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode", GOCACHE=str(work / "cache"))
        env["GOFLAGS"] = ""
        _run(["go", "build", "-o", str(work / "ref_go"), str(source)], env=env)
        shutil.rmtree(work / "cache", ignore_errors=True)
        return work / "ref_go"

    return [str(_build_once("go-ref", _digest(source.read_bytes(), GO_SEMVER_SOURCE.read_bytes()), build))]


def maven_artifact_jar() -> Path:
    """maven-artifact 3.9.x from the local Maven repository (the image ships 3.9.6)."""
    base = Path.home() / ".m2" / "repository" / "org" / "apache" / "maven" / "maven-artifact"
    jars = sorted(base.glob("3.9.*/maven-artifact-3.9.*.jar"), key=lambda p: [int(x) for x in p.parent.name.split(".")])
    if jars:
        return jars[-1]
    debian = Path("/usr/share/maven/lib/maven-artifact-3.x.jar")  # Debian's maven package (3.8.7: same algorithm)
    if debian.is_file():
        return debian
    missing(f"maven-artifact 3.9.x under {base} or Debian's {debian} (apt-get install maven)")


def maven_comparable_version() -> list[str]:
    """argv of the Java reference calling ComparableVersion from maven-artifact 3.9.x."""
    if shutil.which("javac") is None or shutil.which("java") is None:
        missing("a JDK (javac, java)")
    jar = maven_artifact_jar()
    source = PROGRAMS / "RefMaven.java"

    def build(work: Path) -> Path:
        _run(["javac", "-cp", str(jar), "-d", str(work), str(source)])
        return work / "RefMaven.class"

    classes = _build_once("maven-ref", _digest(source.read_bytes(), str(jar)), build).parent
    return ["java", "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", f"{classes}{os.pathsep}{jar}", "RefMaven"]


def ruby_gem_version() -> list[str]:
    if shutil.which("ruby") is None:
        missing("ruby (Debian package ruby)")
    return ["ruby", str(PROGRAMS / "ref_gem.rb")]


COMPOSER_SEMVER_AUTOLOAD = Path("/usr/share/php/Composer/Semver/autoload.php")


def composer_semver() -> list[str]:
    if shutil.which("php") is None:
        missing("php (Debian package php-cli)")
    if not COMPOSER_SEMVER_AUTOLOAD.is_file():
        missing("composer/semver (Debian package php-composer-semver)")
    return ["php", str(PROGRAMS / "ref_composer.php")]


CARGO_REGISTRY = Path("/usr/share/cargo/registry")


def cargo_semver() -> list[str]:
    """argv of the Rust reference, built offline against Debian's librust-semver-dev."""
    cargo = shutil.which("cargo") or shutil.which("cargo", path=str(Path.home() / ".cargo" / "bin"))
    if cargo is None:
        missing("cargo")
    crates = sorted(CARGO_REGISTRY.glob("semver-1.*"))
    if not crates:
        missing("the semver crate (Debian package librust-semver-dev)")
    project = PROGRAMS / "cargo"
    sources: list[bytes | str] = [
        (project / "Cargo.toml").read_bytes(),
        (project / "src" / "main.rs").read_bytes(),
        str(crates[-1]),
    ]

    def build(work: Path) -> Path:
        shutil.copytree(project, work / "project")
        config = work / "project" / ".cargo" / "config.toml"
        config.parent.mkdir()
        config.write_text(
            '[source.crates-io]\nreplace-with = "debian"\n\n'
            f'[source.debian]\ndirectory = "{CARGO_REGISTRY}"\n\n[net]\noffline = true\n'
        )
        env = dict(os.environ, CARGO_TARGET_DIR=str(work / "target"))
        _run([cargo, "build", "--release", "--quiet"], cwd=work / "project", env=env)
        binary = work / "semver-ref"
        shutil.copy2(work / "target" / "release" / "semver-ref", binary)
        shutil.rmtree(work / "target", ignore_errors=True)
        return binary

    return [str(_build_once("cargo-ref", _digest(*sources), build))]
