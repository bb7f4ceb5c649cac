from __future__ import annotations

from pathlib import Path

from fixtures.imagebuilder import TarEntry
from imagescan.findings import MisconfigurationFinding, Severity
from imagescan.hygiene.policy import policy_from_mapping
from imagescan.hygiene.unsafe_files import UnsafeFilesCheck, writable_by_non_root
from imagescan.models import EntryType, FileEntry
from imagescan.scan import ImageAnalysis
from tests.hygiene.images import build_image, by_rule, context, deb, debian_base, rules_of, run, with_modes

CHECK = UnsafeFilesCheck()
DEBIAN_BASELINE = {"usr/bin/chage", "usr/bin/chfn", "usr/bin/chsh", "usr/bin/expiry", "usr/bin/gpasswd",
                   "usr/bin/mount", "usr/bin/newgrp", "usr/bin/passwd", "usr/bin/su", "usr/bin/umount",
                   "usr/sbin/unix_chkpwd"}


def _planted(tmp_path: Path) -> ImageAnalysis:
    """A Debian-like base with passwd (setuid, expected) and findutils; then a layer that plants trouble."""
    base = debian_base(
        packages=[deb("passwd", files={"/usr/bin/passwd": b"passwd"}),
                  deb("findutils", files={"/usr/bin/find": b"find"})],
        modes={"usr/bin/passwd": 0o4755, "usr/bin/find": 0o755})
    planted = [
        TarEntry("usr/local/bin/backdoor", data=b"\x7fELF backdoor", mode=0o4755),
        TarEntry("usr/bin/find", data=b"find", mode=0o4755),  # chmod u+s by a later layer
        TarEntry("var/www", kind="dir", mode=0o777),
        TarEntry("var/www/uploads", kind="dir", mode=0o777),
        TarEntry("var/www/index.html", data=b"<html>", mode=0o666),
        TarEntry("srv/app/.git/HEAD", data=b"ref: refs/heads/main\n"),
        TarEntry("srv/app/.git/config", data=b"[core]\n"),
        TarEntry("srv/app/main.py", data=b"print(1)\n"),
        TarEntry("root/.ssh/authorized_keys", data=b"ssh-ed25519 AAAAC3Nza tests@example\n", mode=0o600),
        TarEntry("usr/local/bin/tool", data=b"#!/bin/sh\n", mode=0o755, uid=1000, gid=1000),
    ]
    return build_image(tmp_path, [base, planted], env=["PATH=/usr/local/bin:/usr/bin:/bin"])


def test_real_debian_setuid_programs_are_the_expected_baseline(debian_analysis: ImageAnalysis) -> None:
    findings = run(CHECK, debian_analysis)
    assert rules_of(findings) == {"file-setuid-baseline"}
    [baseline] = findings
    assert isinstance(baseline, MisconfigurationFinding) and baseline.severity == Severity.INFORMATIONAL
    assert {part.split(" ")[0].lstrip("/") for part in baseline.evidence.split("; ")} == DEBIAN_BASELINE
    assert "util-linux" in baseline.evidence and "libpam-modules-bin" in baseline.evidence  # owners through /bin


def test_planted_problems_are_found(tmp_path: Path) -> None:
    findings = run(CHECK, _planted(tmp_path))
    [unowned] = by_rule(findings, "file-setuid-unowned")
    assert isinstance(unowned, MisconfigurationFinding)
    assert unowned.path == "usr/local/bin/backdoor" and unowned.severity == Severity.HIGH
    [unexpected] = by_rule(findings, "file-setuid-unexpected")
    assert isinstance(unexpected, MisconfigurationFinding)
    assert unexpected.path == "usr/bin/find" and "deb/findutils" in unexpected.evidence
    [baseline] = by_rule(findings, "file-setuid-baseline")
    assert "/usr/bin/passwd (setuid, passwd)" in baseline.title + str(getattr(baseline, "evidence", ""))
    [www] = by_rule(findings, "dir-world-writable")
    assert isinstance(www, MisconfigurationFinding) and www.path == "var/www" and "1 directories below" in www.title
    [html] = by_rule(findings, "file-world-writable")
    assert isinstance(html, MisconfigurationFinding) and html.path == "var/www/index.html"
    [git] = by_rule(findings, "git-directory")
    assert isinstance(git, MisconfigurationFinding) and git.path == "srv/app/.git" and "2 entries" in git.evidence
    [keys] = by_rule(findings, "ssh-authorized-keys")
    assert isinstance(keys, MisconfigurationFinding) and keys.path == "root/.ssh/authorized_keys"
    [writable] = by_rule(findings, "path-writable")
    assert isinstance(writable, MisconfigurationFinding)
    assert writable.path == "usr/local/bin" and "/usr/local/bin/tool 0755 uid=1000" in writable.evidence
    assert len({f.id for f in findings}) == len(findings)
    assert [f.id for f in run(CHECK, _planted(tmp_path))] == [f.id for f in findings]  # stable IDs


def test_package_file_rewritten_by_a_later_layer_is_unexpected(tmp_path: Path) -> None:
    base = debian_base(packages=[deb("passwd", files={"/usr/bin/passwd": b"passwd"})],
                       modes={"usr/bin/passwd": 0o4755})
    image = build_image(tmp_path, [base, [TarEntry("usr/bin/passwd", data=b"trojan", mode=0o4755)]])
    [finding] = by_rule(run(CHECK, image), "file-setuid-unexpected")
    assert finding.description is not None and "rewrote it after the package was installed" in finding.description
    assert not by_rule(run(CHECK, image), "file-setuid-baseline")


def test_safe_modes_are_not_reported(tmp_path: Path) -> None:
    entries = [
        *with_modes(debian_base(packages=[deb("mailutils", files={"/usr/bin/mail": b"m"})]), {}),
        TarEntry("tmp", kind="dir", mode=0o1777),
        TarEntry("var/mail", kind="dir", mode=0o2775, gid=8),  # setgid directory: group inheritance, not a program
        TarEntry("srv/shared", kind="dir", mode=0o775, gid=50),
        TarEntry("usr/local/bin/app", data=b"#!/bin/sh\n", mode=0o775, gid=0),  # group-writable by root's group
        TarEntry("usr/local/bin/link", kind="symlink", link="app"),
        TarEntry("opt/tool/bin/run", data=b"x", mode=0o755, uid=1000),  # not on PATH
        TarEntry("srv/app/git/HEAD", data=b"not a .git dir"),
        TarEntry("home/app/.ssh/known_hosts", data=b"host key"),
    ]
    assert run(CHECK, build_image(tmp_path, [entries])) == []


def test_many_world_writable_files_in_one_directory_are_one_finding(tmp_path: Path) -> None:
    entries = [TarEntry(f"app/static/f{i}.js", data=b"x", mode=0o666) for i in range(15)]
    [finding] = run(CHECK, build_image(tmp_path, [entries]))
    assert isinstance(finding, MisconfigurationFinding)
    assert finding.rule == "file-world-writable" and finding.title.startswith("15 world-writable files in /app/static")
    assert "and 5 more" in finding.evidence


def test_policy_disables_and_ignores(tmp_path: Path) -> None:
    image = _planted(tmp_path)
    policy = policy_from_mapping({"rules": {
        "file-setuid-baseline": {"enabled": False},
        "file-setuid-unowned": {"ignore": ["usr/local/bin/*"]},
        "git-directory": {"severity": "CRITICAL"},
    }})
    findings = run(CHECK, image, context(policy=policy))
    assert not by_rule(findings, "file-setuid-baseline") and not by_rule(findings, "file-setuid-unowned")
    assert [f.severity for f in by_rule(findings, "git-directory")] == [Severity.CRITICAL]
    assert by_rule(findings, "file-setuid-unexpected")


def test_writable_by_non_root() -> None:
    def entry(mode: int, uid: int = 0, gid: int = 0) -> FileEntry:
        return FileEntry(path="x", type=EntryType.FILE, mode=mode, uid=uid, gid=gid)

    assert writable_by_non_root(entry(0o755, uid=1000))
    assert writable_by_non_root(entry(0o775, gid=100))
    assert writable_by_non_root(entry(0o757))
    assert not writable_by_non_root(entry(0o755))
    assert not writable_by_non_root(entry(0o775))
    assert not writable_by_non_root(entry(0o555, uid=1000))


def test_package_recorded_after_its_files_is_not_a_rewrite(tmp_path: Path) -> None:
    base = debian_base(packages=[deb("passwd", files={"/usr/bin/passwd": b"passwd"})], modes={"usr/bin/passwd": 0o4755})
    files = [e for e in base if not e.path.startswith("var/lib/dpkg/")]
    database = [e for e in base if e.path.startswith("var/lib/dpkg/")]
    findings = run(CHECK, build_image(tmp_path, [files, database]))
    assert rules_of(findings) == {"file-setuid-baseline"}
