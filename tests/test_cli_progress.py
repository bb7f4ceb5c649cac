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
