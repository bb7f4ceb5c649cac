"""Language packages installed by real tools (apt, pip, npm, RubyGems via Debian) against what those tools say.

The ``langs`` fixture records its ground truth beside the layout (``expected-langs.json``): ``pip inspect --path``
per Python directory, ``npm ls --all --json --long`` of /app, RubyGems loading every gemspec of its
specification directories, ``dpkg-query -S`` for owners, and the Composer/.NET documents it wrote. The scan must
find exactly those packages, at those paths, and nothing else of these ecosystems.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fixtures import build as fixture_build
from imagescan.catalog.base import Cataloger
from imagescan.catalog.dotnet import DotnetCataloger
from imagescan.catalog.npm import NpmCataloger
from imagescan.catalog.php import ComposerCataloger
from imagescan.catalog.python import DECLARED_NAME, PythonCataloger, normalize_name
from imagescan.catalog.ruby import GemCataloger
from imagescan.cli import run
from imagescan.models import Package, PackageType
from imagescan.sbom.cyclonedx import PROP_LAYER, PROP_PATH, sbom_json, validation_errors
from imagescan.scan import ImageAnalysis, analyze_image


@pytest.fixture(scope="module")
def langs() -> Path:
    return fixture_build.build("langs")


@pytest.fixture(scope="module")
def expected(langs: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((langs.parent / "expected-langs.json").read_text())
    return doc


@pytest.fixture(scope="module")
def analysis(langs: Path) -> ImageAnalysis:
    return analyze_image(f"oci:{langs}")


def _of(analysis: ImageAnalysis, kind: PackageType) -> list[Package]:
    return [p for p in analysis.merged.packages if p.type == kind]


def _owner(deb: str | None) -> str | None:
    return f"deb/{deb}" if deb else None


def test_no_warnings_about_language_metadata(analysis: ImageAnalysis) -> None:
    catalogers: list[Cataloger] = [PythonCataloger(), NpmCataloger(), GemCataloger(), ComposerCataloger(),
                                   DotnetCataloger()]
    assert [w for w in analysis.warnings if w.path and any(c.wants(w.path) for c in catalogers)] == []
    assert all(layer.complete for layer in analysis.layers)


def test_python_equals_pip_inspect(analysis: ImageAnalysis, expected: dict[str, Any]) -> None:
    found = _of(analysis, PackageType.PYPI)
    assert len(found) == len({p.path for p in found})
    assert {(p.name, p.version, p.path, p.owner) for p in found} == {
        (normalize_name(e["name"]), e["version"], e["path"], _owner(e["owner"])) for e in expected["pypi"]}
    declared = {p.path: p.properties.get(DECLARED_NAME, p.name) for p in found}
    assert declared == {e["path"]: e["name"] for e in expected["pypi"]}
    by_path = {p.path: p for p in found}
    django = next(p for p in found if p.name == "django")
    assert django.version == "3.2" and django.license == "BSD-3-Clause"
    # two PyYAML installs: Debian's (owned by python3-yaml) and pip's sdist build, each with its own RECORD
    yaml = {p.version: p for p in found if p.name == "pyyaml"}
    assert yaml["6.0"].owner == "deb/python3-yaml" and yaml["5.3.1"].owner is None
    assert "usr/lib/python3/dist-packages/yaml/__init__.py" in yaml["6.0"].files
    assert "usr/local/lib/python3.11/site-packages/yaml/__init__.py" in yaml["5.3.1"].files
    six = by_path["usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO"]
    assert (six.name, six.owner) == ("six", "deb/python3-six")


def test_debian_record_lists_files_dpkg_installed(analysis: ImageAnalysis) -> None:
    yaml = next(p for p in _of(analysis, PackageType.PYPI) if p.owner == "deb/python3-yaml")
    deb = next(p for p in analysis.merged.packages if p.type == PackageType.DEB and p.name == "python3-yaml")
    assert yaml.files and set(yaml.files) <= set(deb.files)
    assert all(path in analysis.merged.files for path in yaml.files)


def test_pip_files_exist_in_the_final_image(analysis: ImageAnalysis) -> None:
    requests = next(p for p in _of(analysis, PackageType.PYPI) if p.name == "requests")
    assert "usr/local/lib/python3.11/site-packages/requests/__init__.py" in requests.files
    assert all(path in analysis.merged.files for path in requests.files)


def test_deleted_package_is_gone_but_in_history(analysis: ImageAnalysis, expected: dict[str, Any]) -> None:
    deleted = expected["deleted_pypi"]
    assert deleted not in {p.name for p in analysis.merged.packages}
    assert deleted not in {normalize_name(e["name"]) for e in expected["pypi"]}
    pip_layer = analysis.image.diff_ids[2]
    earlier = [(diff_id, pkg.name) for diff_id, rec in analysis.merged.history for pkg in rec.packages
               if pkg.name == deleted]
    assert earlier == [(pip_layer, deleted)]
    assert not any(path.startswith("usr/local/lib/python3.11/site-packages/pytz") for path in analysis.merged.files)


def test_npm_equals_npm_ls(analysis: ImageAnalysis, expected: dict[str, Any]) -> None:
    found = _of(analysis, PackageType.NPM)
    ours = {(f"{p.namespace}/{p.name}" if p.namespace else p.name, p.version, p.path,
             p.component_type == "application") for p in found}
    assert len(ours) == len(found)
    assert ours == {(e["name"], e["version"], e["path"], e["application"]) for e in expected["npm"]}
    ms = {p.version: p.path for p in found if p.name == "ms"}
    assert ms == {"2.0.0": "app/node_modules/ms/package.json",
                  "2.1.2": "app/node_modules/debug/node_modules/ms/package.json"}
    # resolve's test fixtures (package.json files with names and versions) are not packages
    assert not any("/test/" in p.path for p in found)


def test_gems_equal_rubygems(analysis: ImageAnalysis, expected: dict[str, Any]) -> None:
    found = _of(analysis, PackageType.GEM)
    assert {(p.name, p.version, p.qualifiers.get("platform", "ruby"), p.path, p.owner) for p in found} == {
        (e["name"], e["version"], e["platform"], e["path"], _owner(e["owner"])) for e in expected["gem"]}
    rack = next(p for p in found if p.name == "rack")
    assert (rack.owner, rack.license) == ("deb/ruby-rack", "MIT")
    assert len([p for p in found if p.name == "rake"]) == 2  # Ruby's bundled copy and Debian's rake package


def test_composer_and_nuget_as_written(analysis: ImageAnalysis, expected: dict[str, Any]) -> None:
    composer = expected["composer"]
    assert {(p.namespace, p.name, p.version, p.path) for p in _of(analysis, PackageType.COMPOSER)} == {
        (*e["name"].split("/"), e["version"], composer["path"]) for e in composer["document"]["packages"]}
    nuget = expected["nuget"]
    assert {(p.name, p.version, p.component_type, p.path) for p in _of(analysis, PackageType.NUGET)} == {
        (*key.split("/"), "application" if entry["type"] == "project" else "library", nuget["path"])
        for key, entry in nuget["document"]["libraries"].items()}


def test_layers(analysis: ImageAnalysis) -> None:
    _, apt, pip, npm, docs, _ = analysis.image.diff_ids

    def layers_under(prefix: str) -> set[str | None]:
        return {p.layer_diff_id for p in analysis.merged.packages if p.type != PackageType.DEB
                and p.path.startswith(prefix)}

    assert layers_under("usr/lib/python3/dist-packages/") == {apt}
    assert layers_under("usr/lib/ruby/") == layers_under("usr/share/rubygems-integration/") == {apt}
    assert layers_under("usr/local/lib/python3.11/site-packages/") == {pip}
    assert layers_under("app/") == {npm}
    assert layers_under("var/www/") == layers_under("srv/") == {docs}


def test_sbom_cli(langs: Path, tmp_path: Path) -> None:
    out = tmp_path / "sbom.json"
    assert run(["sbom", f"oci:{langs}", "-o", str(out)]) == 0
    document = out.read_text()
    assert validation_errors(document) is None
    components = json.loads(document)["components"]
    purls = {c["purl"]: c for c in components if "purl" in c}
    for purl in ("pkg:pypi/pyyaml@6.0", "pkg:pypi/pyyaml@5.3.1", "pkg:pypi/django@3.2",
                 "pkg:pypi/jaraco-functools@3.6.0", "pkg:npm/%40types/node@18.11.9", "pkg:npm/ms@2.1.2",
                 "pkg:gem/rack@2.2.22", "pkg:composer/monolog/monolog@2.3.5",
                 "pkg:composer/symfony/polyfill-mbstring@v1.23.1", "pkg:nuget/Newtonsoft.Json@13.0.1"):
        assert purl in purls, purl
        props = {p["name"]: p["value"] for p in purls[purl]["properties"]}
        assert props[PROP_LAYER].startswith("sha256:") and props[PROP_PATH]
    assert purls["pkg:npm/langs-app@2.1.0"]["type"] == "application"
    assert purls["pkg:nuget/app@1.0.0"]["type"] == "application"
    pyyaml = {p["name"]: p["value"] for p in purls["pkg:pypi/pyyaml@6.0"]["properties"]}
    assert pyyaml[f"imagescan:{DECLARED_NAME}"] == "PyYAML"


def test_sbom_command_skips_only_the_secrets_scan(langs: Path, analysis: ImageAnalysis, tmp_path: Path) -> None:
    """`imagescan sbom` leaves the secrets cataloger out (it reads every text file); the components it reports are
    exactly those of a full scan."""
    out = tmp_path / "sbom.json"
    assert run(["sbom", f"oci:{langs}", "-o", str(out)]) == 0
    sbom_refs = {c["bom-ref"] for c in json.loads(out.read_text())["components"]}
    full_refs = {c["bom-ref"] for c in json.loads(sbom_json(analysis))["components"]}
    assert sbom_refs == full_refs and len(sbom_refs) > 200
    assert "secrets" in analysis.layers[0].analyzers
