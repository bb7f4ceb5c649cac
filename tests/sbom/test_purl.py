"""Package URLs are written for any package name a damaged database can hold."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from packageurl import PackageURL

from imagescan.models import Package, PackageType
from imagescan.sbom.purl import package_purl


@given(st.sampled_from(list(PackageType)), st.text(max_size=12), st.text(min_size=1, max_size=8))
def test_any_name_gives_a_purl_that_reads_back(kind: PackageType, name: str, version: str) -> None:
    purl = package_purl(Package(type=kind, name=name, version=version, path="p"), None).to_string()
    assert PackageURL.from_string(purl).type == str(kind)


def test_a_blank_or_slash_name_is_kept_encoded() -> None:
    assert package_purl(Package(type=PackageType.PYPI, name="/", version="1", path="p"), None).to_string() \
        == "pkg:pypi/%252f@1"
    assert package_purl(Package(type=PackageType.NPM, name="lodash", version="4.17.21", path="p"), None).to_string() \
        == "pkg:npm/lodash@4.17.21"
