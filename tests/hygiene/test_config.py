from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fixtures.imagebuilder import HistoryEntry, TarEntry
from imagescan.findings import Severity
from imagescan.hygiene.config import ConfigHistoryCheck, reported_as_secret
from imagescan.hygiene.history import parse_history, parse_step
from imagescan.hygiene.redact import redact, secret_name
from imagescan.hygiene.view import runs_as_root
from imagescan.scan import ImageAnalysis
from tests.hygiene.images import build_image, by_rule, misconfigs, rules_of, run

CHECK = ConfigHistoryCheck()
NPM_TOKEN = "npm_R8sK2mQ7vX4nB9cT1wZ5yL3hJ6fD0gA2pE7u"
CLEAR_SECRETS = ("hunter2", NPM_TOKEN, "t0psecret")



def _risky(tmp_path: Path) -> ImageAnalysis:
    history = [
        HistoryEntry("/bin/sh -c #(nop) ADD file:4b1d6a1c0b0e5fb3 in / "),
        HistoryEntry("ADD https://downloads.example.com/tool-1.2.tar.gz /opt/ # buildkit"),
        HistoryEntry(f"RUN |3 NPM_TOKEN={NPM_TOKEN} ADMIN_PASSWORD=t0psecret VERSION=1.2 /bin/sh -c curl -fsSL "
                     "https://get.example.com | sudo -E bash - # buildkit"),
        HistoryEntry("RUN /bin/sh -c apt-get update && apt-get install -y curl # buildkit"),
        HistoryEntry("ENV DB_PASSWORD=hunter2", empty_layer=True),
        HistoryEntry("EXPOSE map[22/tcp:{} 8080/tcp:{}]", empty_layer=True),
    ]
    layers = [
        [TarEntry("etc/hostname", data=b"x")],
        [TarEntry("opt/tool/bin/tool", data=b"x", mode=0o755)],
        [TarEntry("usr/local/bin/get", data=b"x", mode=0o755)],
        [TarEntry("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", data=b"x" * 2048),
         TarEntry("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4",
                  data=b"y" * 4096),
         TarEntry("var/lib/apt/lists/lock", data=b""),
         TarEntry("var/lib/apt/lists/partial", kind="dir"),
         TarEntry("var/cache/apt/archives/curl_7.88.1-10_amd64.deb", data=b"!<arch>"),
         TarEntry("var/cache/apt/archives/lock", data=b""),
         TarEntry("root/.cache/pip/http/a/b/c", data=b"cache")],
    ]
    return build_image(tmp_path, layers, history=history,
                       env=["PATH=/usr/local/bin:/usr/bin:/bin", "DB_PASSWORD=hunter2", "DB_PASSWORD_FILE=/run/s/db",
                            "API_TOKEN=${TOKEN}", "LANG=C.UTF-8"],
                       exposed_ports=["22/tcp", "8080/tcp"], cmd=["/opt/tool/bin/tool"])


def test_risky_config_and_history(tmp_path: Path) -> None:
    findings = run(CHECK, _risky(tmp_path))
    [root] = misconfigs(findings, "config-root-user")
    assert root.config == "User" and "defaults to root" in root.evidence
    [port] = misconfigs(findings, "config-risky-port")
    assert port.title == "Port 22 (SSH) exposed"
    [add] = misconfigs(findings, "history-add-url")
    assert add.config == "history[1]" and "https://downloads.example.com/tool-1.2.tar.gz" in add.title
    [pipe] = misconfigs(findings, "history-pipe-to-shell")
    assert pipe.config == "history[2]" and pipe.severity == Severity.HIGH and "sudo -E bash" in pipe.title
    secrets = misconfigs(findings, "config-secret-variable")
    assert {(f.config, f.title.split()[1]) for f in secrets} == {("Env", "variable"), ("history[2]", "build")}
    assert {f.title for f in secrets} == {"Credential-like variable DB_PASSWORD set in the image ENV",
                                          "Credential-like build argument ADMIN_PASSWORD recorded in history"}
    # NPM_TOKEN's value is one the secret rules recognise: reported there as a `secret`, not twice.
    assert reported_as_secret("NPM_TOKEN", NPM_TOKEN)
    assert not reported_as_secret("ADMIN_PASSWORD", "t0psecret")
    caches = {f.title.split(" left")[0]: f for f in misconfigs(findings, "file-package-cache")}
    assert set(caches) == {"Apt package lists", "Downloaded .deb files", "Pip cache"}
    assert caches["Apt package lists"].title.startswith("Apt package lists left in the image (2 files")
    assert caches["Apt package lists"].path == "var/lib/apt/lists"
    [health] = misconfigs(findings, "config-no-healthcheck")
    assert health.severity == Severity.INFORMATIONAL
    document = json.dumps([f.model_dump(mode="json") for f in findings])
    assert not any(secret in document for secret in CLEAR_SECRETS)


def test_well_behaved_image_has_no_findings(tmp_path: Path) -> None:
    history = [
        HistoryEntry("ADD --checksum=sha256:24454f830cdd https://example.com/a.tgz /opt/ # buildkit"),
        HistoryEntry("RUN /bin/sh -c curl -fsSLo /tmp/i.sh https://x/i.sh && sha256sum -c s && sh /tmp/i.sh "
                     "# buildkit"),
        HistoryEntry("/bin/sh -c #(nop) COPY file:abc in /app "),
        HistoryEntry("USER 10001", empty_layer=True),
    ]
    layers = [[TarEntry("opt/a", data=b"a")], [TarEntry("tmp/x", data=b"x")],
              [TarEntry("app/server", data=b"x", mode=0o755), TarEntry("var/lib/apt/lists/lock", data=b"")]]
    image = build_image(tmp_path, layers, history=history, user="10001:10001", exposed_ports=["8080/tcp"],
                        env=["PATH=/usr/bin:/bin", "DB_PASSWORD_FILE=/run/secrets/db", "TOKEN_URL=https://x"],
                        cmd=["/app/server"])
    image.image.config["config"]["Healthcheck"] = {"Test": ["CMD", "/app/server", "--check"]}
    assert run(CHECK, image) == []


def test_classic_builder_remote_add_and_disabled_healthcheck(tmp_path: Path) -> None:
    sha = "a" * 64
    history = [HistoryEntry(f"/bin/sh -c #(nop) ADD {sha} in /tmp/x "), HistoryEntry("/bin/sh -c #(nop)  USER root",
                                                                                       empty_layer=True)]
    image = build_image(tmp_path, [[TarEntry("tmp/x", data=b"x")]], history=history, user="root")
    image.image.config["config"]["Healthcheck"] = {"Test": ["NONE"]}
    findings = run(CHECK, image)
    assert [f.title for f in misconfigs(findings, "history-add-url")] == [
        "ADD downloads a remote URL (the classic builder kept only its hash)"]
    assert misconfigs(findings, "config-no-healthcheck")[0].evidence == "Healthcheck disabled (NONE)"
    assert misconfigs(findings, "config-root-user")[0].evidence == 'config User "root"'


def test_without_run_config_only_history_and_files_are_checked(tmp_path: Path) -> None:
    history = [HistoryEntry("ADD http://example.com/a.sh /a.sh # buildkit")]
    image = build_image(tmp_path, [[TarEntry("a.sh", data=b"a")]], history=history)
    del image.image.config["config"]  # no User, no Healthcheck: nothing to say about them, not "root"
    assert rules_of(run(CHECK, image)) == {"history-add-url"}


@pytest.mark.parametrize("command", [
    "curl -sSL https://get.docker.com | sh",
    "curl https://x/install.sh|bash -s -- --yes",
    "wget -qO- https://x/setup | sudo bash",
    "wget -O - https://x | sudo -E sh -",
    "bash <(curl -s https://x/install)",
    'sh -c "$(curl -fsSL https://raw.example.com/install.sh)"',
    "curl -fsSL https://deb.nodesource.com/setup_18.x | bash - && apt-get install -y nodejs",
    "curl https://bootstrap.pypa.io/get-pip.py | python3",
])
def test_pipe_to_shell_variants(tmp_path: Path, command: str) -> None:
    history = [HistoryEntry(f"RUN /bin/sh -c {command} # buildkit")]
    image = build_image(tmp_path, [[TarEntry("a", data=b"a")]], history=history, user="app")
    assert len(by_rule(run(CHECK, image), "history-pipe-to-shell")) == 1


@pytest.mark.parametrize("command", [
    "curl -fsSLo /tmp/x https://x && sh /tmp/x",
    "curl https://x | tar xz -C /opt",
    "wget -qO- https://x | gpg --dearmor > /usr/share/keyrings/x.gpg",
    "echo hello | sh",
    "curl https://x > shasum.txt; bash build.sh",
])
def test_not_pipe_to_shell(tmp_path: Path, command: str) -> None:
    history = [HistoryEntry(f"RUN /bin/sh -c {command} # buildkit")]
    image = build_image(tmp_path, [[TarEntry("a", data=b"a")]], history=history, user="app")
    assert not by_rule(run(CHECK, image), "history-pipe-to-shell")


def test_history_parsing() -> None:
    steps = parse_history({"history": [
        {"created_by": "/bin/sh -c #(nop)  CMD [\"bash\"]", "empty_layer": True},
        {"created_by": "/bin/sh -c apt-get update"},
        {"created_by": "|1 TOKEN=abc /bin/sh -c make"},
        {"created_by": "RUN |2 A=1 B=2 /bin/sh -c echo $A # buildkit"},
        {"created_by": "COPY app /app # buildkit"},
        {"created_by": "EXPOSE map[8080/tcp:{}]"},
        {"created_by": "something odd"},
        {"comment": "no created_by"},
        "not an object",
    ]})
    assert [(s.keyword, s.text) for s in steps] == [
        ("CMD", '["bash"]'), ("RUN", "apt-get update"), ("RUN", "make"), ("RUN", "echo $A"), ("COPY", "app /app"),
        ("EXPOSE", "map[8080/tcp:{}]"), (None, "something odd"), (None, ""), (None, "")]
    assert steps[2].build_args == {"TOKEN": "abc"} and steps[3].build_args == {"A": "1", "B": "2"}
    assert steps[0].empty_layer and [s.index for s in steps] == list(range(9))
    assert parse_history({"history": "nope"}) == []


@given(st.dictionaries(st.sampled_from(["created_by", "empty_layer", "comment"]),
                       st.one_of(st.text(), st.booleans(), st.integers(), st.none())))
def test_history_entries_never_crash(entry: dict[str, object]) -> None:
    step = parse_step(0, entry)
    assert step.keyword is None or step.keyword.isupper()


@given(st.text())
def test_history_text_never_crashes(text: str) -> None:
    parse_step(3, {"created_by": text})
    assert "\n" not in redact(text) and len(redact(text)) <= 300


def test_runs_as_root() -> None:
    assert all(runs_as_root(u) for u in ("", "root", "0", "0:0", "root:staff", " root "))
    assert not any(runs_as_root(u) for u in ("app", "1000", "1000:0", "nobody", "rootless"))


def test_redaction() -> None:
    assert redact("curl -u admin:hunter2 https://x") == "curl -u *** https://x"
    assert redact("git clone https://bob:tok3n@github.com/x.git") == "git clone https://bob:***@github.com/x.git"
    assert redact("ENV DB_PASSWORD=hunter2 LANG=C") == "ENV DB_PASSWORD=*** LANG=C"
    assert redact("wget 'https://h/f?X-Amz-Signature=abc123&v=1'") == "wget 'https://h/f?X-Amz-Signature=***&v=1'"
    assert redact('curl -H "Authorization: Bearer eyJhbGciOi.x.y" h') == 'curl -H "Authorization: Bearer ***" h'
    assert redact("echo AKIAIOSFODNN7EXAMPLE > k") == "echo *** > k"
    assert redact("apt-get install -y ca-certificates python3-pip") == "apt-get install -y ca-certificates python3-pip"
    assert redact("x" * 400).endswith("…") and len(redact("x" * 400)) == 300
    assert secret_name("NPM_TOKEN") and secret_name("AWS_SECRET_ACCESS_KEY") and secret_name("DB_PASS")
    assert not secret_name("DB_PASSWORD_FILE") and not secret_name("PWD") and not secret_name("GPG_KEY")
    assert not secret_name("TOKEN_URL") and not secret_name("LANG")
