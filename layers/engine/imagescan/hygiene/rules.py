"""The hygiene rule catalogue: every rule the hygiene checks can report, with its stable ID, title, default severity,
rationale and remediation. This list is the one source of truth: findings take their severity (unless a policy
overrides it), description and remediation from here, and the README's rule table is generated from it
(``python -m imagescan.hygiene.docs``). Rule IDs are part of the output contract: never rename one.
"""

from __future__ import annotations

from dataclasses import dataclass

from imagescan.findings import Severity

UNSAFE = "Unsafe contents"
UNWANTED = "Unwanted software"
CONFIG = "Configuration and history"
DOCKERFILE = "Dockerfile (--dockerfile)"
EOL = "End of life"
BASE = "Base image and age"

CATEGORIES = (UNSAFE, UNWANTED, CONFIG, DOCKERFILE, EOL, BASE)


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    kind: str
    """The finding kind this rule reports (SPEC): misconfiguration, unwanted-software, end-of-life, scan-incomplete."""
    severity: Severity
    title: str
    rationale: str
    remediation: str


def _r(rid: str, category: str, kind: str, severity: Severity, title: str, rationale: str, remediation: str) -> Rule:
    return Rule(rid, category, kind, severity, title, rationale, remediation)


MIS, UNW, END, INC = "misconfiguration", "unwanted-software", "end-of-life", "scan-incomplete"
HIGH, MEDIUM, LOW, INFO = Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFORMATIONAL

RULES: tuple[Rule, ...] = (
    # -- unsafe contents (from the final filesystem index and the OS packages' file lists) ----------------------
    _r("file-setuid-unowned", UNSAFE, MIS, HIGH,
       "Setuid/setgid file not installed by any OS package",
       "A setuid or setgid program runs with its owner's or group's privileges whoever starts it. One that no OS "
       "package installed was added by a build step or copied in, so nobody audits or patches it: it is the "
       "classic way to plant a local privilege escalation.",
       "Remove the file or its setuid/setgid bit (`chmod u-s,g-s FILE`) in the build step that adds it. If the "
       "program really needs privileges, install it from a package or grant a narrow capability instead."),
    _r("file-setuid-unexpected", UNSAFE, MIS, MEDIUM,
       "Setuid/setgid file outside the expected baseline",
       "An OS package installed this file, but it is not one of the programs distributions ship setuid/setgid "
       "(su, passwd, mount, unix_chkpwd, ...), or a later layer rewrote it after its package was installed. Either "
       "a build step added the bit (`chmod u+s`) or the file was replaced.",
       "Drop the bit (`chmod u-s,g-s FILE`) unless the container needs it; containers rarely need any setuid "
       "program. Run the container with `--security-opt no-new-privileges` to neutralise all of them."),
    _r("file-setuid-baseline", UNSAFE, MIS, INFO,
       "Setuid/setgid programs shipped by OS packages",
       "These setuid/setgid programs come from OS packages and are expected in a full distribution (su, passwd, "
       "mount...). They are listed so that the attack surface is visible; an application container rarely needs "
       "any of them.",
       "Strip the bits in the last build step (`find / -xdev -perm /6000 -type f -exec chmod a-s {} +`), use a "
       "minimal or distroless base, or run with `--security-opt no-new-privileges`."),
    _r("file-world-writable", UNSAFE, MIS, MEDIUM,
       "World-writable file",
       "Any user in the container (and any process that compromises one) can change a world-writable file: "
       "programs, scripts or configuration that other processes trust can be rewritten.",
       "Remove the write bit for others (`chmod o-w FILE`) in the step that creates the file; give write access "
       "to the one user that needs it."),
    _r("dir-world-writable", UNSAFE, MIS, MEDIUM,
       "World-writable directory without the sticky bit",
       "Without the sticky bit (as on /tmp), any user can delete or replace files of other users in a "
       "world-writable directory, including files that privileged processes read.",
       "Remove the write bit for others (`chmod o-w DIR`) or set the sticky bit (`chmod +t DIR`) if the directory "
       "really is shared scratch space."),
    _r("git-directory", UNSAFE, MIS, MEDIUM,
       ".git directory in the image",
       "A .git directory ships the project's whole history: deleted source, old configuration, credentials that "
       "were ever committed and remote URLs with tokens in .git/config.",
       "Add `.git` to `.dockerignore`, or copy only the build output into the final stage of a multi-stage build."),
    _r("ssh-authorized-keys", UNSAFE, MIS, MEDIUM,
       "SSH authorized_keys baked into the image",
       "Every container started from the image accepts logins from whoever holds the matching private keys, and "
       "the keys cannot be rotated without rebuilding. (Private keys themselves are reported by the secret rules, "
       "from their contents.)",
       "Do not build access keys into images; if remote access is needed, inject keys at run time from a secret "
       "store, or use `docker exec`/`kubectl exec`/SSM instead of sshd."),
    _r("path-writable", UNSAFE, MIS, MEDIUM,
       "Program directory on PATH writable by a non-root user",
       "A directory on PATH, or a program in one, that a non-root user can write lets that user (or an attacker "
       "who takes over the application) replace commands that root later runs, for example through "
       "`docker exec`: a privilege escalation and a way to persist.",
       "Keep PATH directories and the programs in them owned by root and not group/world writable "
       "(`chown root:root`, `chmod 755`); install application files elsewhere."),
    # -- unwanted software (from the package inventory and the file index) -----------------------------------
    _r("tool-package-manager", UNWANTED, UNW, LOW,
       "Package manager in a production image",
       "A package manager (apt, dpkg, apk, yum/dnf/microdnf, rpm, pip, npm) lets anyone with a shell in the "
       "container install tools, and its database and keys add size and attack surface. Production images "
       "rarely need to install anything at run time.",
       "Build in one stage and copy the application into a minimal or distroless final stage without package "
       "managers; or remove them in the last step (e.g. `apk del apk-tools`, `pip uninstall -y pip`)."),
    _r("tool-network", UNWANTED, UNW, MEDIUM,
       "Network tool in a production image",
       "curl, wget, netcat, socat and telnet are what an attacker needs after a code-execution bug: to download a "
       "second stage, open reverse shells and move laterally. Applications rarely shell out to them.",
       "Remove them in the last build step (`apt-get purge -y curl`), or download what the build needs in a "
       "builder stage and copy only the result into the final stage."),
    _r("tool-compiler", UNWANTED, UNW, LOW,
       "Compiler or build tool in a production image",
       "Compilers and make let an attacker build exploits inside the container, and pull in headers and large "
       "toolchains that add vulnerabilities.",
       "Compile in a builder stage of a multi-stage build and copy only the artefacts into the final stage."),
    _r("tool-debugger", UNWANTED, UNW, MEDIUM,
       "Debugger or tracer in a production image",
       "gdb, strace and ltrace can read and alter the memory of other processes (ptrace): secrets in memory, "
       "injected code.",
       "Remove debuggers from production images; debug with an ephemeral debug container "
       "(`kubectl debug`, `docker run --pid container:...`) instead."),
    _r("tool-ssh-server", UNWANTED, UNW, HIGH,
       "SSH server in a container image",
       "An SSH daemon is a second, password- or key-protected way in that bypasses the orchestrator's access "
       "control and audit, and it is rarely patched in containers.",
       "Remove openssh-server/dropbear; use `docker exec`, `kubectl exec` or AWS SSM Session Manager."),
    _r("tool-sudo", UNWANTED, UNW, MEDIUM,
       "sudo or doas in a container image",
       "sudo/doas exist to change privileges; in a container they mostly let a compromised non-root user become "
       "root through a misconfigured sudoers entry or a sudo vulnerability.",
       "Remove sudo/doas; do the privileged work in the Dockerfile as root, then switch with `USER`."),
    _r("tool-shell", UNWANTED, UNW, LOW,
       "Shell in an image whose entrypoint does not need one",
       "The image's ENTRYPOINT/CMD starts a program directly (exec form, no shell script, no CMD-SHELL health "
       "check), yet a shell is installed. A shell is the first thing an attacker uses after a code-execution bug.",
       "Use a distroless or scratch-based final stage, or remove the shell in the last step. If the image is "
       "meant to be used interactively, disable this rule in the policy."),
    # -- configuration and history (from the image config) ---------------------------------------------------
    _r("config-root-user", CONFIG, MIS, MEDIUM,
       "Image runs as root",
       "The config has no USER, or USER is root/0, so the process runs as root inside the container: any "
       "code-execution bug gets root's access to the container's files, mounted volumes and kernel interfaces, "
       "one step from the host. When --dockerfile is given and its final stage has no USER, this is reported as "
       "dockerfile-no-user instead.",
       "Create an unprivileged user and end the Dockerfile with `USER app` (or a numeric `USER 10001`)."),
    _r("config-risky-port", CONFIG, MIS, MEDIUM,
       "Remote-administration port exposed",
       "The image declares a port of a remote-administration or legacy clear-text service (SSH 22, Telnet 23, "
       "FTP 21, RDP 3389, VNC 5900, the Docker API 2375/2376...): such services do not belong in application "
       "containers and are first targets of scans.",
       "Remove the `EXPOSE` and the service; administer containers through the orchestrator."),
    _r("config-no-healthcheck", CONFIG, MIS, INFO,
       "No HEALTHCHECK",
       "Without a HEALTHCHECK, Docker cannot tell a hung application from a healthy one. (Orchestrators with "
       "their own probes, such as Kubernetes and ECS task definitions, do not use it.)",
       "Add a `HEALTHCHECK CMD ...` to the Dockerfile, or define health checks in the orchestrator."),
    _r("config-secret-variable", CONFIG, MIS, MEDIUM,
       "Credential passed as an environment variable or build argument",
       "A variable whose name says it holds a credential (PASSWORD, SECRET, TOKEN, API_KEY...) is set in the "
       "image's ENV or passed as a build ARG, which the image history records: anyone who can pull the image "
       "can read it. Values are never shown. Values the secret rules recognise are reported by them (kind "
       "`secret`) instead; this rule covers the rest, such as short passwords and defaults like `changeme`.",
       "Inject credentials at run time (orchestrator secrets, AWS Secrets Manager) and use BuildKit secret mounts "
       "(`RUN --mount=type=secret`) for build-time credentials; rotate any credential that was built in."),
    _r("history-add-url", CONFIG, MIS, MEDIUM,
       "ADD from a remote URL",
       "`ADD https://...` downloads at build time without verifying what it gets: the image contains whatever "
       "the server (or anyone in between) returned that day, and the build is not reproducible.",
       "Download with a pinned checksum (`ADD --checksum=sha256:... URL` or `curl -fsSLo f URL && "
       "echo 'SHA256  f' | sha256sum -c`), or vendor the file into the build context."),
    _r("history-pipe-to-shell", CONFIG, MIS, HIGH,
       "Remote script piped into a shell",
       "`curl ... | sh` (and `wget -O- | bash`, `| sudo sh`, `sh -c \"$(curl ...)\"`) runs whatever the server "
       "returns, as root, with no integrity check: a compromised or spoofed server owns the image.",
       "Download the script, verify its checksum or signature, then run it; better, install from a package "
       "repository with signed metadata."),
    _r("file-package-cache", CONFIG, MIS, LOW,
       "Package-manager cache left in the image",
       "apt lists, downloaded .deb/.apk/.rpm files and pip/npm caches add size to every pull and record what "
       "the build fetched, without serving the running application.",
       "Clean up in the same RUN step that installs (`rm -rf /var/lib/apt/lists/*`, `apk add --no-cache`, "
       "`pip install --no-cache-dir`, `npm ci && npm cache clean --force`), or use a multi-stage build."),
    # -- the Dockerfile itself (--dockerfile FILE), linked to the image history -------------------------------
    _r("dockerfile-base-latest", DOCKERFILE, MIS, MEDIUM,
       "Base image is `latest` or untagged",
       "`FROM image` or `FROM image:latest` builds on whatever the tag points to on the day of the build: "
       "rebuilds silently change the OS and its packages, and a compromised tag is picked up immediately.",
       "Use a versioned tag and pin its digest: `FROM debian:12.8@sha256:...`; let a bot (Dependabot, Renovate) "
       "propose updates."),
    _r("dockerfile-base-unpinned", DOCKERFILE, MIS, LOW,
       "Base image not pinned by digest",
       "A tag is mutable: the same Dockerfile can build on different base images, so a build cannot be "
       "reproduced or audited.",
       "Pin the digest next to the tag: `FROM debian:12.8@sha256:...`."),
    _r("dockerfile-apt-recommends", DOCKERFILE, MIS, LOW,
       "apt-get install without --no-install-recommends",
       "apt installs recommended packages by default: extra programs and libraries that the application does "
       "not use but that must be patched.",
       "Use `apt-get install -y --no-install-recommends PKG...`."),
    _r("dockerfile-add-local", DOCKERFILE, MIS, LOW,
       "ADD used where COPY would do",
       "ADD also extracts archives and downloads URLs; for plain local files it hides that magic from readers "
       "and reviewers. (ADD of a remote URL is reported as history-add-url.)",
       "Use `COPY` for local files and directories; keep ADD for local tar archives that must be extracted."),
    _r("dockerfile-no-user", DOCKERFILE, MIS, MEDIUM,
       "Final stage of the Dockerfile has no USER",
       "The Dockerfile's final stage never switches to an unprivileged user, so the image runs as root (the "
       "image config agrees).",
       "Add `USER app` (or a numeric UID) after the steps that need root, near the end of the final stage."),
    # -- end of life (OS release and runtimes against the end-of-life table) ----------------------------------
    _r("eol-os", EOL, END, HIGH,
       "Operating system release is end of life",
       "The OS release receives no security updates any more, not even extended ones: new vulnerabilities in "
       "its packages will never be fixed, and vulnerability feeds often stop tracking it, so scans look cleaner "
       "than they are.",
       "Rebase the image on a supported release of the distribution (or another supported base image)."),
    _r("eol-runtime", EOL, END, HIGH,
       "Language runtime is end of life",
       "This runtime release (Python, Node.js, Java, Go, Ruby, PHP, .NET...) gets no security fixes upstream. "
       "Runtimes installed from the OS vendor's packages are left to the OS's own end of life.",
       "Upgrade to a supported release of the runtime."),
    _r("eol-extended-support", EOL, END, MEDIUM,
       "Only extended support remains (LTS/ESM/ELS)",
       "Regular security support of this release has ended; fixes now come only from an extended-support "
       "programme (Debian LTS, Ubuntu ESM, RHEL ELS...), which covers fewer packages and may need a "
       "subscription. It is not fully supported.",
       "Plan the upgrade to the next release; until then make sure the image really receives the extended "
       "updates (e.g. Ubuntu Pro for ESM)."),
    _r("eol-approaching", EOL, END, LOW,
       "End of life within 90 days",
       "Security support of this release ends within 90 days.",
       "Schedule the upgrade to a newer release now."),
    _r("eol-data-missing", EOL, INC, LOW,
       "End-of-life status could not be checked",
       "There is no end-of-life data for this OS release or runtime (no database, or the table does not know "
       "the product or release), so its support status is unknown: it is not reported as supported.",
       "Build or update the database (`imagescan db build`/`db update`) so that it includes the end-of-life "
       "table; releases newer than the table appear after an update."),
    # -- base image and age ---------------------------------------------------------------------------------
    _r("image-age", BASE, MIS, LOW,
       "Image built more than 180 days ago",
       "An image that has not been rebuilt for months still carries every package as it was on its build day: "
       "security updates published since then are missing even where the base image has them.",
       "Rebuild regularly (at least monthly) so that base-image and package updates are picked up."),
    _r("os-point-release", BASE, MIS, LOW,
       "OS point release behind the newest one",
       "The OS is older than the newest point release of its version (Debian 12.5 when 12.12 exists): the point "
       "releases roll up the security and bug fixes the image is missing.",
       "Rebuild on the current base image tag, and `apt-get upgrade`/`apk upgrade` in the build if the base is "
       "not refreshed often."),
    _r("base-image", BASE, MIS, INFO,
       "Base image identified",
       "The bottom layers of this image are exactly the layers of an image scanned before: that image is its "
       "base. Its age says how much the base lags behind.",
       "Nothing to do by itself; keep the base image current."),
    _r("base-image-outdated", BASE, MIS, MEDIUM,
       "Base image has a newer build",
       "The same base image reference was scanned later with a newer build, but this image still uses the old "
       "layers: it misses the fixes of the rebuilt base.",
       "Rebuild the image so that it picks up the current base image (`docker build --pull`)."),
    _r("image-store-unavailable", BASE, INC, INFO,
       "Base image could not be looked up",
       "The store of previously scanned images could not be read or written, so the base image was not "
       "identified.",
       "Check the path and permissions of the image store (`$IMAGESCAN_IMAGES_DB`, default "
       "`~/.cache/imagescan/images.db`)."),
)

RULES_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}


def rule(rule_id: str) -> Rule:
    """The catalogue entry of ``rule_id``. KeyError for an unknown ID (a programming error)."""
    return RULES_BY_ID[rule_id]


