"""Unsafe contents of the final filesystem: setuid/setgid files (against the OS packages' file lists and a baseline of
the programs distributions ship setuid/setgid), world-writable files and directories, .git directories, baked-in
SSH authorized_keys and program directories on PATH that a non-root user can write.

Private keys are not reported here: the secret rules recognise them by content (also in deleted files), and a
second, name-based finding for the same file would only duplicate them.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

from imagescan.checks.base import CheckContext
from imagescan.findings import Finding
from imagescan.hygiene.context import hygiene_options
from imagescan.hygiene.emit import Emitter
from imagescan.hygiene.view import ImageView, is_file
from imagescan.models import EntryType, FileEntry
from imagescan.scan import ImageAnalysis

SETUID, SETGID, STICKY = 0o4000, 0o2000, 0o1000
MAX_LISTED = 10

SETUID_BASELINE = frozenset({
    # shadow / util-linux / login (Debian, Ubuntu, RHEL, Alpine's shadow)
    "su", "passwd", "chsh", "chfn", "gpasswd", "newgrp", "sg", "expiry", "chage", "mount", "umount",
    "unix_chkpwd", "unix2_chkpwd", "pam_timestamp_check", "pam_extrausers_chkpwd", "newuidmap", "newgidmap",
    "wall", "write", "bsd-write", "crontab", "at", "userhelper", "usernetctl", "utempter",
    # OpenSSH client helpers, sudo, polkit, dbus, fuse, iputils
    "ssh-agent", "ssh-keysign", "sudo", "sudoedit", "doas", "pkexec", "polkit-agent-helper-1",
    "dbus-daemon-launch-helper", "fusermount", "fusermount3", "ping", "ping6", "traceroute6.iputils",
    # mail locking and local delivery
    "dotlockfile", "mail-lock", "mail-unlock", "mail-touchlock", "lockfile", "postdrop", "postqueue",
    # Alpine's busybox-suid
    "bbsuid",
})
"""Programs Linux distributions install setuid or setgid on purpose (by file name)."""

_AUTHORIZED_KEYS = re.compile(r"^(?:root|home/[^/]+)/\.ssh/authorized_keys2?$")


def _listing(paths: Iterable[str]) -> str:
    items = sorted(paths)
    shown = ", ".join("/" + p for p in items[:MAX_LISTED])
    return shown + (f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def _mode(entry: FileEntry) -> str:
    return f"{entry.mode & 0o7777:04o} uid={entry.uid} gid={entry.gid}"


def _setuid(view: ImageView, emit: Emitter) -> None:
    baseline: list[str] = []
    for path, (entry, layer) in sorted(view.files.items()):
        if not is_file(entry) or not entry.mode & (SETUID | SETGID):
            continue
        bits = "setuid" if entry.mode & SETUID else "setgid"
        if entry.mode & SETUID and entry.mode & SETGID:
            bits = "setuid and setgid"
        owner = view.owners.get(path)
        name = posixpath.basename(path)
        evidence = f"/{path} mode {_mode(entry)}, layer {layer}"
        if owner is None:
            emit.misconfiguration(
                "file-setuid-unowned", path, f"{bits.capitalize()} file /{path} is not from any OS package",
                evidence, path=path, detail=f"/{path} is {bits} and no installed OS package lists it.")
            continue
        pkg = f"{owner.type}/{owner.name}"
        rewritten = view.layer_position(layer) > view.layer_position(owner.layer_diff_id)
        if name in SETUID_BASELINE and not rewritten:
            baseline.append(f"/{path} ({bits}, {owner.name})")
            continue
        why = (f"/{path} belongs to {pkg}, but layer {layer} rewrote it after the package was installed in layer "
               f"{owner.layer_diff_id}" if rewritten else
               f"/{path} belongs to {pkg}, but distributions do not ship it {bits}")
        emit.misconfiguration("file-setuid-unexpected", path, f"Unexpected {bits} file /{path} ({owner.name})",
                              f"{evidence}, package {pkg}", path=path, detail=why + ".", subjects=[owner.name])
    if baseline:
        emit.misconfiguration(
            "file-setuid-baseline", "baseline", f"{len(baseline)} setuid/setgid programs from OS packages",
            "; ".join(baseline[:40]) + (f"; and {len(baseline) - 40} more" if len(baseline) > 40 else ""),
            detail="Expected setuid/setgid programs: " + ", ".join(baseline) + ".")


def _world_writable(view: ImageView, emit: Emitter) -> None:
    dirs = sorted(p for p, (e, _) in view.files.items()
                  if e.type == EntryType.DIR and e.mode & 0o002 and not e.mode & STICKY)
    flagged = set(dirs)
    grouped: dict[str, list[str]] = {}
    for d in dirs:  # sorted: an ancestor comes before its descendants
        top = next((a for a in _ancestors(d) if a in flagged), d)
        grouped.setdefault(top, []).append(d)
    for top, members in grouped.items():
        entry = view.files[top][0]
        more = f" (and {len(members) - 1} directories below it)" if len(members) > 1 else ""
        emit.misconfiguration(
            "dir-world-writable", top, f"World-writable directory /{top} without the sticky bit{more}",
            f"/{top} mode {_mode(entry)}" + (f"; also {_listing(m for m in members if m != top)}" if more else ""),
            path=top)
    files: dict[str, list[str]] = {}
    for path, (entry, _) in view.files.items():
        if is_file(entry) and entry.mode & 0o002:
            files.setdefault(posixpath.dirname(path), []).append(path)
    for parent, members in sorted(files.items()):
        if len(members) == 1:
            path = members[0]
            emit.misconfiguration("file-world-writable", path, f"World-writable file /{path}",
                                  f"/{path} mode {_mode(view.files[path][0])}", path=path)
        else:
            emit.misconfiguration("file-world-writable", parent + "/",
                                  f"{len(members)} world-writable files in /{parent}", _listing(members),
                                  path=parent, subjects=members)


def _ancestors(path: str) -> list[str]:
    out = []
    parent = posixpath.dirname(path)
    while parent:
        out.append(parent)
        parent = posixpath.dirname(parent)
    return list(reversed(out))


def _git_dirs(view: ImageView, emit: Emitter) -> None:
    found: set[str] = set()
    for path in view.files:
        parts = path.split("/")
        if ".git" in parts:
            found.add("/".join(parts[: parts.index(".git") + 1]))
    for git in sorted(found):
        if any(a in found for a in _ancestors(git)):
            continue
        inside = sum(1 for p in view.files if p.startswith(git + "/"))
        emit.misconfiguration("git-directory", git, f"Git repository data in /{git}",
                              f"/{git} with {inside} entries", path=git)


def _authorized_keys(view: ImageView, emit: Emitter) -> None:
    for path, (entry, layer) in sorted(view.files.items()):
        if is_file(entry) and _AUTHORIZED_KEYS.match(path):
            emit.misconfiguration("ssh-authorized-keys", path, f"SSH authorized_keys in /{path}",
                                  f"/{path} ({entry.size} bytes), layer {layer}", path=path)


def writable_by_non_root(entry: FileEntry) -> bool:
    return bool((entry.uid != 0 and entry.mode & 0o200) or (entry.gid != 0 and entry.mode & 0o020)
                or entry.mode & 0o002)


def _path_writable(view: ImageView, emit: Emitter) -> None:
    dirs = {real for d in view.path_dirs if (real := view.directory(d)) is not None}
    children = view.children(dirs)
    for d in sorted(dirs):
        writable = [p for p in [d, *children[d]]
                    if (e := view.entry(p)) is not None and e.type != EntryType.SYMLINK and writable_by_non_root(e)]
        if not writable:
            continue
        detail = "; ".join(f"/{p} {_mode(view.files[p][0])}" for p in sorted(writable)[:MAX_LISTED])
        title = (f"PATH directory /{d} is writable by a non-root user" if d in writable else
                 f"{len(writable)} program(s) in PATH directory /{d} writable by a non-root user")
        emit.misconfiguration("path-writable", d, title, detail, path=d, config="Env.PATH", subjects=writable)


class UnsafeFilesCheck:
    name = "hygiene-unsafe-files"
    version = 1

    def run(self, analysis: ImageAnalysis, context: CheckContext) -> list[Finding]:
        options = hygiene_options(context)
        view = ImageView(analysis)
        emit = Emitter(analysis.digest, options.policy)
        _setuid(view, emit)
        _world_writable(view, emit)
        _git_dirs(view, emit)
        _authorized_keys(view, emit)
        _path_writable(view, emit)
        return emit.findings
