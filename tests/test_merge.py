from __future__ import annotations

from collections.abc import Sequence

from imagescan.merge import merge_layers
from imagescan.models import EntryType, FileEntry, LayerResult, Package, PackageType, PathRecord

STATUS = "var/lib/dpkg/status"


def _pkg(name: str, version: str) -> Package:
    return Package(type=PackageType.DEB, name=name, version=version, arch="amd64", path=STATUS)


def _layer(n: int, files: list[str], records: Sequence[PathRecord] = (), whiteouts: Sequence[str] = (),
           opaque: Sequence[str] = (), links: dict[str, str] | None = None) -> LayerResult:
    entries = [FileEntry(path=p, type=EntryType.FILE, mode=0o644).to_row() for p in files]
    entries += [
        FileEntry(path=p, type=EntryType.SYMLINK, mode=0o777, link=t).to_row() for p, t in (links or {}).items()
    ]
    return LayerResult(digest=f"sha256:{n}", diff_id=f"diff{n}", cache_key=f"k{n}", analyzers={},
                       entries=entries, records=list(records), whiteouts=list(whiteouts), opaque_dirs=list(opaque))


def _status(*pkgs: Package) -> PathRecord:
    return PathRecord(cataloger="dpkg", path=STATUS, packages=list(pkgs))


def test_package_keeps_the_layer_that_last_changed_it() -> None:
    image = merge_layers([
        _layer(1, [STATUS], [_status(_pkg("base", "1"), _pkg("libssl", "3.0.1"))]),
        _layer(2, [STATUS], [_status(_pkg("base", "1"), _pkg("libssl", "3.0.2"), _pkg("curl", "7"))]),
        _layer(3, ["app/x"]),
    ])
    layers = {p.name: (p.version, p.layer_diff_id) for p in image.packages}
    assert layers == {"base": ("1", "diff1"), "libssl": ("3.0.2", "diff2"), "curl": ("7", "diff2")}


def test_removed_then_reinstalled_package_belongs_to_the_reinstalling_layer() -> None:
    image = merge_layers([
        _layer(1, [STATUS], [_status(_pkg("a", "1"), _pkg("b", "1"))]),
        _layer(2, [STATUS], [_status(_pkg("a", "1"))]),
        _layer(3, [STATUS], [_status(_pkg("a", "1"), _pkg("b", "1"))]),
    ])
    assert {p.name: p.layer_diff_id for p in image.packages} == {"a": "diff1", "b": "diff3"}


def test_whiteout_removes_files_and_their_records() -> None:
    image = merge_layers([
        _layer(1, ["etc/a", "etc/sub/b", "var/lib/dpkg/status"], [_status(_pkg("a", "1"))]),
        _layer(2, [], whiteouts=["etc/sub", "var/lib/dpkg/status"]),
    ])
    assert sorted(image.files) == ["etc/a"]
    assert image.packages == [] and image.records == {}


def test_opaque_dir_hides_lower_contents_but_keeps_its_own() -> None:
    image = merge_layers([
        _layer(1, ["opt/app/old", "opt/app/sub/deep", "opt/other"]),
        _layer(2, ["opt/app/new"], opaque=["opt/app"]),
    ])
    assert sorted(image.files) == ["opt/app/new", "opt/other"]


def test_whiteout_applies_to_lower_layers_only() -> None:
    image = merge_layers([_layer(1, ["a/x"]), _layer(2, ["a/x"], whiteouts=["a/x"])])
    assert "a/x" in image.files and image.files["a/x"][1] == "diff2"


def test_owned_files_are_attached_to_packages() -> None:
    lists = PathRecord(cataloger="dpkg", path="var/lib/dpkg/info/a.list", owned_files={"a": ["usr/bin/a"]})
    image = merge_layers([_layer(1, [STATUS, "var/lib/dpkg/info/a.list"], [_status(_pkg("a", "1")), lists])])
    assert image.packages[0].files == ["usr/bin/a"]


def test_resolve_follows_links_and_stops_on_loops() -> None:
    image = merge_layers([_layer(1, ["usr/lib/os-release"], links={
        "etc/os-release": "../usr/lib/os-release", "etc/loop": "loop2", "etc/loop2": "/etc/loop", "bin": "usr/bin",
    })])
    assert image.resolve("etc/os-release") == "usr/lib/os-release"
    assert image.resolve("/etc/loop") is None
    assert image.resolve("etc/missing") is None


def test_incomplete_layers_are_listed() -> None:
    broken = _layer(2, [])
    broken.complete = False
    image = merge_layers([_layer(1, ["a"]), broken])
    assert image.incomplete_layers == ["diff2"]


def test_language_package_owned_by_an_os_package() -> None:
    yaml_meta = "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA"
    deb = Package(type=PackageType.DEB, name="python3-yaml", version="6.0-3", path=STATUS, files=[yaml_meta])
    pypi = Package(type=PackageType.PYPI, name="pyyaml", version="6.0", path=yaml_meta)
    mine = Package(type=PackageType.PYPI, name="requests", version="2.20.0",
                   path="usr/local/lib/python3.11/site-packages/requests-2.20.0.dist-info/METADATA")
    image = merge_layers([_layer(1, [STATUS, yaml_meta, mine.path], [
        _status(deb), PathRecord(cataloger="python", path=yaml_meta, packages=[pypi]),
        PathRecord(cataloger="python", path=mine.path, packages=[mine]),
    ])])
    owners = {p.name: p.owner for p in image.packages}
    assert owners == {"python3-yaml": None, "pyyaml": "deb/python3-yaml", "requests": None}


def test_history_keeps_records_of_deleted_files() -> None:
    secret = PathRecord(cataloger="secrets", path="root/.aws/credentials")
    image = merge_layers([_layer(1, ["root/.aws/credentials"], [secret]),
                          _layer(2, [], whiteouts=["root/.aws/credentials"])])
    assert image.history == [("diff1", secret)]
    assert image.records == {} and not image.live("root/.aws/credentials", "diff1")


def test_rewritten_file_without_a_record_drops_the_old_packages() -> None:
    image = merge_layers([
        _layer(1, [STATUS], [_status(_pkg("a", "1"))]),
        _layer(2, [STATUS]),  # rewritten, but unreadable: no record
    ])
    assert image.packages == [] and image.records == {}


def test_ownership_through_merged_usr_symlinks() -> None:
    deb = Package(type=PackageType.DEB, name="busybox", version="1:1.35.0-4", path=STATUS, files=["bin/busybox"])
    runtime = Package(type=PackageType.GENERIC, name="busybox", version="1.35.0", path="usr/bin/busybox")
    layer = _layer(1, [STATUS, "usr/bin/busybox"], [_status(deb), PathRecord(cataloger="runtimes",
                   path="usr/bin/busybox", packages=[runtime])], links={"bin": "usr/bin"})
    layer.entries.append(FileEntry(path="usr/bin", type=EntryType.DIR, mode=0o755).to_row())
    owners = {p.type: p.owner for p in merge_layers([layer]).packages}
    assert owners == {"deb": None, "generic": "deb/busybox"}


def test_one_component_per_runtime_version() -> None:
    binary = Package(type=PackageType.GENERIC, name="node", version="20.1.0", path="usr/local/bin/node")
    header = Package(type=PackageType.GENERIC, name="node", version="20.1.0",
                     path="usr/local/include/node/node_version.h")
    image = merge_layers([_layer(1, [binary.path, header.path], [
        PathRecord(cataloger="runtimes", path=binary.path, packages=[binary]),
        PathRecord(cataloger="runtimes", path=header.path, packages=[header]),
    ])])
    assert [(p.name, p.path) for p in image.packages] == [("node", "usr/local/bin/node")]
    assert image.packages[0].properties["runtime:also_at"] == header.path


def test_opaque_root_hides_everything_below() -> None:
    image = merge_layers([_layer(1, ["a", "b/c"]), _layer(2, ["d"], opaque=[""])])
    assert sorted(image.files) == ["d"]


def test_whiteout_of_a_name_does_not_hide_its_siblings_with_the_same_prefix() -> None:
    image = merge_layers([_layer(1, ["etc/app", "etc/app.conf", "etc/app/x"]), _layer(2, [], whiteouts=["etc/app"])])
    assert sorted(image.files) == ["etc/app.conf"]
