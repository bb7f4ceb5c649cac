"""The gem cataloger: RubyGems' generated gemspecs read without running Ruby, checked against RubyGems itself."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagescan.catalog.base import CatalogError
from imagescan.catalog.ruby import GemCataloger, parse_gemspec, parse_value
from imagescan.models import PackageType, PathRecord
from tests.catalog.mutate import apply_edits, edits
from tests.needs import missing

CATALOGER = GemCataloger()
SPECS = "usr/local/bundle/specifications"
# The layout Gem::Specification#to_ruby writes (RubyGems 3.x), as installed in specifications/.
RACK = b'''# -*- encoding: utf-8 -*-
# stub: rack 2.2.22 ruby lib

Gem::Specification.new do |s|
  s.name = "rack".freeze
  s.version = "2.2.22"

  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=
  s.require_paths = ["lib".freeze]
  s.authors = ["Leah Neukirchen".freeze]
  s.description = "Rack provides a minimal interface \\"between\\" webservers.\\n".freeze
  s.licenses = ["MIT".freeze]
  s.summary = "A modular Ruby webserver interface.".freeze

  s.installed_by_version = "3.3.15" if s.respond_to? :installed_by_version

  if s.respond_to? :add_runtime_dependency then
    s.add_development_dependency(%q<minitest>.freeze, ["~> 5.0"])
  end
end
'''
# RubyGems 1.x-2.x wrote %q{} literals and a single license.
OLD = b'''# -*- encoding: utf-8 -*-

Gem::Specification.new do |s|
  s.name = %q{nokogiri}
  s.version = "1.4.4"
  s.platform = %q{x86_64-linux}
  s.license = %q{MIT}
end
'''


def parse(path: str, data: bytes) -> PathRecord:
    record = CATALOGER.parse(path, io.BytesIO(data), len(data))
    assert record is not None and record.cataloger == "gem" and record.path == path
    return record


@pytest.mark.parametrize(("path", "wanted"), [
    (f"{SPECS}/rack-2.2.22.gemspec", True),
    ("usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec", True),
    ("var/lib/gems/3.1.0/specifications/puma-6.0.0.gemspec", True),
    ("usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec", True),
    ("app/vendor/bundle/ruby/3.1.0/specifications/nokogiri-1.15.0-x86_64-linux.gemspec", True),
    ("usr/local/bundle/gems/rack-2.2.22/rack.gemspec", False),  # the gem's own source gemspec
    ("specifications/x.gemspec", True),
    (f"{SPECS}/.gemspec", False),
    (f"{SPECS}/rack-2.2.22.gemspec.bak", False),
    ("usr/lib/ruby/gems/3.1.0/default/x.gemspec", False),
])  # fmt: skip
def test_wants(path: str, wanted: bool) -> None:
    assert CATALOGER.wants(path) is wanted


def test_generated_gemspec() -> None:
    (pkg,) = parse(f"{SPECS}/rack-2.2.22.gemspec", RACK).packages
    assert (pkg.type, pkg.name, pkg.version, pkg.license, pkg.qualifiers) == (PackageType.GEM, "rack", "2.2.22",
                                                                              "MIT", {})
    assert pkg.path == f"{SPECS}/rack-2.2.22.gemspec"


def test_old_style_literals_and_platform() -> None:
    pkg = parse_gemspec(OLD, "p")
    assert (pkg.name, pkg.version, pkg.license, pkg.qualifiers) == ("nokogiri", "1.4.4", "MIT",
                                                                    {"platform": "x86_64-linux"})


def test_stub_line_stands_in_and_nul_separated_extensions() -> None:
    data = (b"# stub: json 2.6.1 ruby lib\n# stub: ext/json/ext/generator/extconf.rb\x00ext/json/extconf.rb\n"
            b"Gem::Specification.new do |s|\n  s.licenses = [\"Ruby\".freeze, 'BSD-2-Clause']\nend\n")
    pkg = parse_gemspec(data, "p")
    assert (pkg.name, pkg.version, pkg.license, pkg.qualifiers) == ("json", "2.6.1", "Ruby, BSD-2-Clause", {})
    pkg = parse_gemspec(b"# stub: ffi 1.15.5 x86_64-linux lib\n", "p")
    assert (pkg.name, pkg.qualifiers) == ("ffi", {"platform": "x86_64-linux"})


def test_assignment_wins_over_stub_and_computed_values_fall_back() -> None:
    data = b'# stub: a 1.0 ruby lib\ns.name = "b"\ns.version = VERSION\n'
    pkg = parse_gemspec(data, "p")
    assert (pkg.name, pkg.version) == ("b", "1.0")


@pytest.mark.parametrize(("text", "values"), [
    ('"x".freeze', ["x"]), ("'x'", ["x"]), ("%q{a{b}c}", ["a{b}c"]), ("%q<x>", ["x"]), ("%Q(y)", ["y"]),
    ("%q|z|", ["z"]), ("%{w}", ["w"]), (r'"a\"b\\c\n"', ['a"b\\c\n']), (r"'a\'b\n'", ["a'b\\n"]),
    ('["MIT".freeze, "Ruby".freeze]', ["MIT", "Ruby"]), ("[]", []), ('[ "a" , %q{b} ]', ["a", "b"]),
    ('Gem::Version.new("1.2.3")', ["1.2.3"]),
])  # fmt: skip
def test_literals(text: str, values: list[str]) -> None:
    assert parse_value(text) == values


@pytest.mark.parametrize("text", ['"open', "%q{open", '["a"', '["a" "b"]', "VERSION", "%", "%qx", "", '["a",'])
def test_unsupported_literals(text: str) -> None:
    with pytest.raises(ValueError):
        parse_value(text)


@pytest.mark.parametrize("data", [b"", b"Gem::Specification.new do |s|\nend\n", b's.name = "x"\n',
                                  b's.version = "1"\n', b's.name = "a b"\ns.version = "1"\n',
                                  b's.name = "a/b"\ns.version = "1"\n'])
def test_malformed(data: bytes) -> None:
    with pytest.raises(CatalogError):
        parse_gemspec(data, "p")


RUBY = shutil.which("ruby")
HOST_SPECS = sorted(Path("/").glob("usr/lib/ruby/gems/*/specifications/**/*.gemspec")) + sorted(
    Path("/").glob("usr/share/rubygems-integration/*/specifications/*.gemspec"))
LOAD = ('ARGV.each { |f| s = Gem::Specification.load(f); '
        'puts [f, s.name, s.version, s.platform, s.licenses.join(", ")].join("\\t") }')


def test_real_gemspecs_agree_with_rubygems() -> None:
    """Every gemspec installed on this machine reads as RubyGems itself loads it."""
    if RUBY is None or not HOST_SPECS:
        missing("ruby and its default gems (Debian package ruby)")
    out = subprocess.run([str(RUBY), "-e", LOAD, *map(str, HOST_SPECS)], capture_output=True, text=True,
                         check=True).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    assert len(rows) == len(HOST_SPECS)
    for path, name, version, platform, licenses in rows:
        pkg = parse_gemspec(Path(path).read_bytes(), path.lstrip("/"))
        assert (pkg.name, pkg.version, pkg.qualifiers.get("platform", "ruby"), pkg.license or "") == (
            name, version, platform, licenses), path


def _parse_or_error(data: bytes) -> None:
    try:
        record = parse(f"{SPECS}/x.gemspec", data)
    except CatalogError:
        return
    for pkg in record.packages:
        assert pkg.name and pkg.version and not any(c.isspace() for c in pkg.name + pkg.version)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    _parse_or_error(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=edits, base=st.sampled_from([RACK, OLD]))
def test_mutated_gemspec(changes: list[tuple[int, bytes, int]], base: bytes) -> None:
    _parse_or_error(apply_edits(base, changes))


@settings(max_examples=300, deadline=None)
@given(value=st.text(alphabet="\"'%q{}<>()[]|,.\\ freezaGm:Vrsion.nw1", max_size=30))
def test_random_literals(value: str) -> None:
    _parse_or_error(f"# stub: a 1 ruby lib\ns.name = {value}\ns.licenses = {value}\n".encode())
