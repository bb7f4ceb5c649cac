from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures.imagebuilder import HistoryEntry, TarEntry
from imagescan.findings import MisconfigurationFinding, Severity
from imagescan.hygiene.config import ConfigHistoryCheck
from imagescan.hygiene.dockerfile import (
    DockerfileCheck,
    apt_install_without_no_recommends,
    final_user_instruction,
    lineage,
    link_history,
    split_reference,
)
from imagescan.hygiene.dockerfile_parser import DockerfileError, parse_dockerfile, read_dockerfile
from imagescan.hygiene.history import parse_history
from imagescan.scan import ImageAnalysis
from tests.hygiene.images import build_image, by_rule, context, rules_of, run

DOCKERFILE = """\
# syntax=docker/dockerfile:1
ARG BASE=debian:12
FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN apt-get install -y git && go build -o /out/app ./cmd/app

FROM ${BASE}
# install the runtime dependencies
RUN apt-get update \\
 # a comment inside the continuation
 && apt-get install -y curl ca-certificates \\
 && rm -rf /var/lib/apt/lists/*
ADD config.yaml /etc/app/config.yaml
ADD vendor.tar.gz /opt/
COPY --from=build /out/app /usr/local/bin/app
ENV APP_MODE=production
EXPOSE 8080
CMD ["/usr/local/bin/app"]
"""
HISTORY = [
    HistoryEntry("/bin/sh -c #(nop) ADD file:6d1f2b5c in / "),
    HistoryEntry('/bin/sh -c #(nop)  CMD ["bash"]', empty_layer=True),
    HistoryEntry("RUN /bin/sh -c apt-get update  && apt-get install -y curl ca-certificates  "
                 "&& rm -rf /var/lib/apt/lists/* # buildkit"),
    HistoryEntry("ADD config.yaml /etc/app/config.yaml # buildkit"),
    HistoryEntry("ADD vendor.tar.gz /opt/ # buildkit"),
    HistoryEntry("COPY /out/app /usr/local/bin/app # buildkit"),
    HistoryEntry("ENV APP_MODE=production", empty_layer=True),
    HistoryEntry("EXPOSE map[8080/tcp:{}]", empty_layer=True),
    HistoryEntry('CMD ["/usr/local/bin/app"]', empty_layer=True),
]


@pytest.fixture
def image(tmp_path: Path) -> ImageAnalysis:
    layers = [[TarEntry("etc/debian_version", data=b"12.5\n")],
              [TarEntry("usr/bin/curl", data=b"x", mode=0o755)],
              [TarEntry("etc/app/config.yaml", data=b"a: 1\n")],
              [TarEntry("opt/vendor/lib.so", data=b"x")],
              [TarEntry("usr/local/bin/app", data=b"x", mode=0o755)]]
    return build_image(tmp_path, layers, history=HISTORY, cmd=["/usr/local/bin/app"], exposed_ports=["8080/tcp"])


def test_parse_dockerfile() -> None:
    df = parse_dockerfile(DOCKERFILE)
    assert [(s.index, s.base, s.resolved_base, s.name) for s in df.stages] == [
        (0, "golang:1.22", "golang:1.22", "build"), (1, "${BASE}", "debian:12", None)]
    assert df.global_args == {"BASE": "debian:12"}
    run_ = next(i for i in df.instructions if i.keyword == "RUN" and i.stage == 1)
    assert (run_.line, run_.end_line) == (10, 13)
    assert " ".join(run_.args.split()) == ("apt-get update && apt-get install -y curl ca-certificates "
                                           "&& rm -rf /var/lib/apt/lists/*")
    copy = next(i for i in df.instructions if i.keyword == "COPY" and i.stage == 1)
    assert copy.flags == {"from": "build"} and copy.args == "/out/app /usr/local/bin/app"
    cmd = df.instructions[-1]
    assert cmd.exec_form() == ["/usr/local/bin/app"] and cmd.line == 19
    assert lineage(df) == [1] and final_user_instruction(df) is None


def test_parser_details() -> None:
    df = parse_dockerfile("# escape=`\nFROM --platform=linux/arm64 alpine:3.19 AS base\nRUN echo a `\n  b\n"
                          "FROM base\nRUN <<EOF\napt-get install -y vim\nEOF\nUSER app\n"
                          "RUN <<-END cat\n\techo hi\n\tEND\n")
    assert df.escape == "`" and df.stages[0].platform == "linux/arm64"
    assert [i.args for i in df.instructions if i.keyword == "RUN"] == ["echo a   b", "<<EOF", "<<-END cat"]
    heredoc = [i for i in df.instructions if i.keyword == "RUN"][1]
    assert heredoc.heredocs == ("apt-get install -y vim",) and apt_install_without_no_recommends(heredoc)
    assert [i.heredocs for i in df.instructions if i.keyword == "RUN"][2] == ("echo hi",)
    assert lineage(df) == [0, 1]
    user = final_user_instruction(df)
    assert user is not None and user.args == "app" and user.line == 9


@pytest.mark.parametrize(("text", "message"), [
    ("", "no FROM"),
    ("# just a comment\n", "no FROM"),
    ("RUN echo hi\nFROM x\n", "before the first FROM"),
    ("FROM debian\nFROOM x\n", "unknown instruction"),
    ("FROM debian\nRUN <<EOF\necho\n", "never closed"),
    ("FROM\n", "needs an image"),
    ("FROM a b c d\n", r"IMAGE \[AS NAME\]"),
    ("# escape=x\nFROM a\n", "escape must be"),
    ("FROM a\x00\n", "NUL"),
])
def test_parser_errors(text: str, message: str) -> None:
    with pytest.raises(DockerfileError, match=message):
        parse_dockerfile(text)


def test_read_dockerfile_errors(tmp_path: Path) -> None:
    with pytest.raises(DockerfileError, match="No such file"):
        read_dockerfile(tmp_path / "missing")
    (tmp_path / "big").write_bytes(b"FROM a\n" + b"#" * (2 * 1024 * 1024))
    with pytest.raises(DockerfileError, match="larger than"):
        read_dockerfile(tmp_path / "big")
    (tmp_path / "latin1").write_bytes("FROM debian\nLABEL author=J\xe9r\xf4me\n".encode("latin-1"))
    assert read_dockerfile(tmp_path / "latin1").instructions[-1].args == "author=Jérôme"


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from(list("FROMRUNADDCOPYUSER \\`\n#<>EOF=\"'[],-$abc{}\t\x00")), max_size=200))
def test_parser_never_crashes_on_random_text(text: str) -> None:
    try:
        df = parse_dockerfile(text)
    except DockerfileError:
        return
    assert df.stages and all(i.line >= 1 for i in df.instructions)


@given(st.integers(0, len(DOCKERFILE) - 1), st.integers(1, 20), st.text(max_size=10))
def test_parser_never_crashes_on_mutations(at: int, cut: int, insert: str) -> None:
    text = DOCKERFILE[:at] + insert + DOCKERFILE[at + cut:]
    try:
        df = parse_dockerfile(text)
    except DockerfileError:
        return
    lineage(df)
    final_user_instruction(df)


def test_link_to_history(image: ImageAnalysis) -> None:
    df = parse_dockerfile(DOCKERFILE)
    links = {(i.keyword, i.line): h for i, h in link_history(df, parse_history(image.image.config))}
    assert links == {("RUN", 10): 2, ("ADD", 14): 3, ("ADD", 15): 4, ("COPY", 16): 5, ("ENV", 17): 6,
                     ("EXPOSE", 18): 7, ("CMD", 19): 8}


def test_link_classic_builder_history() -> None:
    df = parse_dockerfile("FROM debian:12\nRUN apt-get update\nCOPY app /app\nUSER app\nCMD [\"/app/run\"]\n")
    steps = parse_history({"history": [
        {"created_by": "/bin/sh -c #(nop) ADD file:x in / "},
        {"created_by": "/bin/sh -c #(nop)  CMD [\"bash\"]", "empty_layer": True},
        {"created_by": "/bin/sh -c apt-get update"},
        {"created_by": "/bin/sh -c #(nop) COPY dir:3f2c in /app "},
        {"created_by": "/bin/sh -c #(nop)  USER app", "empty_layer": True},
        {"created_by": "/bin/sh -c #(nop)  CMD [\"/app/run\"]", "empty_layer": True},
    ]})
    assert [(i.keyword, h) for i, h in link_history(df, steps)] == [("RUN", 2), ("COPY", 3), ("USER", 4),
                                                                     ("CMD", 5)]


def test_dockerfile_findings_linked_to_history(image: ImageAnalysis, tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(DOCKERFILE)
    findings = run(DockerfileCheck(), image, context(dockerfile=str(path)))
    assert all(isinstance(f, MisconfigurationFinding) and f.path == str(path) for f in findings)
    unpinned = sorted(f.title for f in by_rule(findings, "dockerfile-base-unpinned"))
    assert unpinned == ["Base image debian:12 is not pinned by digest",
                        "Base image golang:1.22 is not pinned by digest"]
    [apt] = by_rule(findings, "dockerfile-apt-recommends")  # the build stage's apt-get is not in the image
    assert isinstance(apt, MisconfigurationFinding) and apt.config == "history[2]" and f"{path}:10:" in apt.evidence
    [add] = by_rule(findings, "dockerfile-add-local")  # vendor.tar.gz is extracted: ADD is right for it
    assert isinstance(add, MisconfigurationFinding) and add.config == "history[3]" and "config.yaml" in add.title
    [user] = by_rule(findings, "dockerfile-no-user")
    assert user.severity == Severity.MEDIUM
    config_findings = run(ConfigHistoryCheck(), image, context(dockerfile=str(path)))
    assert not by_rule(config_findings, "config-root-user")  # the Dockerfile finding says it, with the line
    assert by_rule(run(ConfigHistoryCheck(), image), "config-root-user")


def test_good_dockerfile_has_no_findings(image: ImageAnalysis) -> None:
    digest = "sha256:" + "0" * 64
    df = parse_dockerfile(f"FROM golang:1.22@{digest} AS build\nRUN go build\nFROM build AS test\nRUN go test\n"
                          f"FROM gcr.io/distroless/static@{digest}\n"
                          "RUN apt-get install -y --no-install-recommends curl && apt-get clean\n"
                          "ADD https://example.com/x.tgz /opt/\nADD app.tar.gz /app/\nCOPY --from=build /a /a\n"
                          "USER 10001\n")
    assert run(DockerfileCheck(), image, context(dockerfile=df)) == []
    assert run(DockerfileCheck(), image) == []  # no --dockerfile: nothing to check


@pytest.mark.parametrize(("dockerfile", "expected"), [
    ("FROM ubuntu\n", {"dockerfile-base-latest"}),
    ("FROM node:latest\n", {"dockerfile-base-latest"}),
    ("FROM registry.example.com:5000/team/app:1.2\n", {"dockerfile-base-unpinned"}),
    ("FROM scratch\n", set()),
    ("ARG V\nFROM python:${V}\n", set()),
    ("FROM alpine:3.19\nUSER root\n", {"dockerfile-base-unpinned"}),
])
def test_base_image_rules(image: ImageAnalysis, dockerfile: str, expected: set[str]) -> None:
    image.image.config["config"]["User"] = "app"  # so that dockerfile-no-user stays out of the way
    df = parse_dockerfile(dockerfile)
    assert rules_of(run(DockerfileCheck(), image, context(dockerfile=df))) == expected


def test_split_reference() -> None:
    assert split_reference("debian") == ("debian", None, None)
    assert split_reference("localhost:5000/app:1.0") == ("localhost:5000/app", "1.0", None)
    assert split_reference("app@sha256:ab") == ("app", None, "sha256:ab")
    assert split_reference("a/b:c@sha256:ab") == ("a/b", "c", "sha256:ab")


@pytest.mark.parametrize(("command", "flagged"), [
    ("apt-get update && apt-get install -y curl", True),
    ("DEBIAN_FRONTEND=noninteractive apt-get -y install curl", True),
    ("sudo apt install -y vim", True),
    ("apt-get install -y --no-install-recommends curl", False),
    ("apt-get -o APT::Install-Recommends=false install curl", False),
    ("apt-get update && apt-get upgrade -y", False),
    ("echo 'apt-get install x' > notes.txt", False),
    ("apk add --no-cache curl", False),
])
def test_apt_recommends(command: str, flagged: bool) -> None:
    df = parse_dockerfile(f"FROM debian:12\nRUN {command}\n")
    assert apt_install_without_no_recommends(df.instructions[-1]) is flagged
