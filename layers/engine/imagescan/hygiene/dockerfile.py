"""Checks of the Dockerfile given with ``--dockerfile``, and the link from its instructions to the image's history.

Only the stages that end up in the image are reviewed for what they put there (the final stage and the stages it
is built ``FROM``); base-image pinning is checked for every stage, since every stage feeds the build.

Linking: the final stage's instructions are matched to history entries from the end backwards (the final stage is
the tail of the history; the base image's entries come first). RUN matches on its command, COPY/ADD on the
destination, ENV/ARG/LABEL on the names they set, USER/WORKDIR on the value, the others on the keyword alone.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Sequence

from imagescan.checks.base import CheckContext
from imagescan.findings import Finding
from imagescan.hygiene.context import hygiene_options
from imagescan.hygiene.dockerfile_parser import Dockerfile, Instruction
from imagescan.hygiene.emit import Emitter
from imagescan.hygiene.history import HistoryStep
from imagescan.hygiene.redact import redact
from imagescan.hygiene.view import ImageView, runs_as_root
from imagescan.scan import ImageAnalysis

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz", ".tar.zst", ".tzst",
                    ".tar.lz", ".tar.lzma", ".tlz")
_REMOTE = re.compile(r"^(?:https?|ftp|git)://|^git@|\.git(?:#.*)?$", re.IGNORECASE)
_COMMAND_SPLIT = re.compile(r"&&|\|\||;|\||\n")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_WRAPPERS = frozenset({"sudo", "env", "nice", "nohup", "time", "xargs", "exec"})


def _norm(text: str) -> str:
    return " ".join(text.split())


def lineage(dockerfile: Dockerfile) -> list[int]:
    """Indexes of the stages whose instructions end up in the image: the final stage and, when it is built
    ``FROM`` an earlier stage, that stage and its own ancestors (oldest first)."""
    names = {s.name: s.index for s in dockerfile.stages if s.name}
    chain = [dockerfile.final_stage.index]
    while True:
        base = dockerfile.stages[chain[-1]]
        parent = names.get((base.resolved_base or base.base).lower())
        if parent is None or parent in chain or parent >= chain[-1]:
            return list(reversed(chain))
        chain.append(parent)


def image_instructions(dockerfile: Dockerfile) -> list[Instruction]:
    stages = set(lineage(dockerfile))
    return [i for i in dockerfile.instructions if i.stage in stages]


def final_user_instruction(dockerfile: Dockerfile) -> Instruction | None:
    """The last USER that applies to the image, or None when the Dockerfile never sets one."""
    users = [i for i in image_instructions(dockerfile) if i.keyword == "USER"]
    return users[-1] if users else None


def _names(text: str) -> set[str]:
    """Names set by ``ENV/ARG/LABEL`` arguments, in ``k=v k2=v2`` or legacy ``k v`` form."""
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    if words and "=" not in words[0]:
        return {words[0]}
    return {w.split("=", 1)[0] for w in words if "=" in w}


def _destination(text: str) -> str:
    classic = text.rsplit(" in ", 1)
    dest = classic[1] if len(classic) == 2 and not text.startswith("[") else text
    if dest.startswith("["):
        try:
            dest = str(shlex.split(dest.strip("[]").replace(",", " "))[-1])
        except (ValueError, IndexError):
            return dest
    words = dest.split()
    return (words[-1].rstrip("/") or "/") if words else ""


def _matches(instruction: Instruction, step: HistoryStep) -> bool:
    if step.keyword != instruction.keyword:
        return False
    keyword = instruction.keyword
    if keyword == "RUN":
        exec_form = instruction.exec_form()
        mine = _norm(" ".join(exec_form) if exec_form else instruction.args)
        theirs = _norm(step.text)
        return mine == theirs or (len(mine) >= 20 and len(theirs) >= 20 and (mine in theirs or theirs in mine))
    if keyword in ("COPY", "ADD"):
        return _destination(instruction.args) == _destination(step.text)
    if keyword in ("ENV", "ARG", "LABEL"):
        return _norm(instruction.args) == _norm(step.text) or _names(instruction.args) == _names(step.text)
    if keyword in ("USER", "WORKDIR", "STOPSIGNAL", "MAINTAINER"):
        return _norm(instruction.args) == _norm(step.text)
    return True


def link_history(dockerfile: Dockerfile, steps: Sequence[HistoryStep]) -> list[tuple[Instruction, int]]:
    """(instruction, history index) for the final stage's instructions that match a history entry."""
    pairs: list[tuple[Instruction, int]] = []
    upper = len(steps) - 1
    for instruction in reversed(dockerfile.stage_instructions(dockerfile.final_stage.index)):
        if instruction.keyword == "FROM":
            continue
        j = upper
        while j >= 0 and not _matches(instruction, steps[j]):
            j -= 1
        if j >= 0:
            pairs.append((instruction, steps[j].index))
            upper = j - 1
    return list(reversed(pairs))


def split_reference(reference: str) -> tuple[str, str | None, str | None]:
    """``name[:tag][@digest]`` → (name, tag, digest)."""
    name, _, digest = reference.partition("@")
    tag = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    return name, tag or None, digest or None


def _commands(instruction: Instruction) -> list[list[str]]:
    exec_form = instruction.exec_form()
    if exec_form is not None:
        return [exec_form]
    scripts = [instruction.args, *instruction.heredocs]
    out = []
    for script in scripts:
        for part in _COMMAND_SPLIT.split(script):
            try:
                words = shlex.split(part, comments=True)
            except ValueError:
                words = part.split()
            while words and (_ASSIGNMENT.match(words[0]) or words[0] in _WRAPPERS or words[0].startswith("-")):
                words = words[1:]
            if words:
                out.append(words)
    return out


def apt_install_without_no_recommends(instruction: Instruction) -> bool:
    for words in _commands(instruction):
        if posixpath.basename(words[0]) not in ("apt-get", "apt") or "install" not in words[1:]:
            continue
        if not any(w == "--no-install-recommends" or re.search(r"Install-Recommends=(?:false|0|no)", w, re.I)
                   for w in words):
            return True
    return False


def local_non_archive_sources(instruction: Instruction) -> list[str]:
    exec_form = instruction.exec_form()
    words = exec_form if exec_form is not None else instruction.args.split()
    sources = words[:-1]
    if any(_REMOTE.search(s) for s in sources) or instruction.heredocs:
        return []
    return [s for s in sources if not s.lower().endswith(ARCHIVE_SUFFIXES)]


class DockerfileCheck:
    name = "hygiene-dockerfile"
    version = 1

    def run(self, analysis: ImageAnalysis, context: CheckContext) -> list[Finding]:
        options = hygiene_options(context)
        dockerfile = options.dockerfile
        if dockerfile is None:
            return []
        view = ImageView(analysis)
        emit = Emitter(analysis.digest, options.policy)
        links = {id(i): h for i, h in link_history(dockerfile, view.history)}
        path = dockerfile.path

        def report(rule_id: str, instruction: Instruction, title: str, subjects: Sequence[str] = ()) -> None:
            history = links.get(id(instruction))
            evidence = f"{path}:{instruction.line}: {redact(instruction.text)}"
            if history is not None:
                evidence += f" (history[{history}])"
            emit.misconfiguration(rule_id, f"{instruction.stage}:{_norm(instruction.text)}", title, evidence,
                                  path=path, config=f"history[{history}]" if history is not None else None,
                                  subjects=subjects)

        stage_names = {s.name for s in dockerfile.stages if s.name}
        by_line = {i.line: i for i in dockerfile.instructions if i.keyword == "FROM"}
        for stage in dockerfile.stages:
            base = stage.resolved_base
            if base is None or base.lower() == "scratch" or base.lower() in stage_names:
                continue
            name, tag, digest = split_reference(base)
            if digest:
                continue
            if tag is None or tag == "latest":
                report("dockerfile-base-latest", by_line[stage.line],
                       f"Base image {base} is {'latest' if tag else 'untagged (latest)'}", [base, name])
            else:
                report("dockerfile-base-unpinned", by_line[stage.line], f"Base image {base} is not pinned by digest",
                       [base, name])
        for instruction in image_instructions(dockerfile):
            if instruction.keyword == "RUN" and apt_install_without_no_recommends(instruction):
                report("dockerfile-apt-recommends", instruction,
                       f"apt install without --no-install-recommends (line {instruction.line})")
            elif instruction.keyword == "ADD" and (local := local_non_archive_sources(instruction)):
                report("dockerfile-add-local", instruction, f"ADD of local {', '.join(local)[:80]} (use COPY)", local)
        user = view.run_config.get("User")
        user = user if isinstance(user, str) else ""
        if view.has_run_config and final_user_instruction(dockerfile) is None and runs_as_root(user):
            final = dockerfile.stage_instructions(dockerfile.final_stage.index)
            shown = f"User {user!r}" if user else "no User"
            emit.misconfiguration(
                "dockerfile-no-user", f"{dockerfile.final_stage.index}:no-user",
                "Final stage of the Dockerfile has no USER: the image runs as root",
                f"{path}:{final[0].line}-{final[-1].end_line}: no USER instruction; image config has {shown}",
                path=path, config="User")
        return emit.findings
