"""Progress on stderr only when it is a terminal (SPEC), and nothing extra otherwise."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from fixtures import build as fixture_build


def _run(stderr_tty: bool, layout: Path, out: Path) -> tuple[int, bytes]:
    cmd = [sys.executable, "-m", "imagescan.cli", "sbom", f"oci:{layout}", "-o", str(out)]
    if not stderr_tty:
        proc = subprocess.run(cmd, capture_output=True, check=False, timeout=120)
        return proc.returncode, proc.stderr
    leader, follower = pty.openpty()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=120), b"".join(chunks)


def test_progress_only_on_a_terminal(tmp_path: Path) -> None:
    layout = fixture_build.build("small")
    code, err = _run(False, layout, tmp_path / "a.json")
    assert code == 0 and err == b""
    code, err = _run(True, layout, tmp_path / "b.json")
    assert code == 0 and b"layers" in err
    assert (tmp_path / "a.json").read_bytes() != b""


def test_the_first_report_comes_after_the_layer_workers_are_forked() -> None:
    """The CLI's bar starts a thread at the first report; forking the workers after that would be unsafe (or, with
    forkserver, slow), so the scan reports only once its worker processes exist."""
    import multiprocessing

    from imagescan.scan import ScanOptions, analyze_image

    layout = fixture_build.build("small")
    seen: list[tuple[int, int, int]] = []

    def report(done: int, total: int) -> None:
        seen.append((done, total, len(multiprocessing.active_children())))

    analysis = analyze_image(f"oci:{layout}", ScanOptions(workers=2), progress=report)
    total = len(analysis.layers)
    assert total >= 2 and seen[0][:2] == (0, total) and seen[-1][:2] == (total, total)
    assert seen[0][2] >= 1  # forked already (both workers, unless the first finished before the second submit)
