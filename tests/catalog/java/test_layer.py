"""The cataloger behind the real layer walker and merge: spooled big files, symlinks, damage as warnings, OS
package ownership of jars and of what is nested in them, whiteouts."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import zipfile

from imagescan.catalog.dpkg import DpkgCataloger
from imagescan.catalog.java import JavaArchiveCataloger
from imagescan.layer.walker import analyze_layer
from imagescan.merge import merge_layers
from imagescan.models import LayerResult, PackageType
from tests.catalog.java.jars import build_zip, jar, pom_entry
from tests.layer.conftest import Entry, make_tar

STATUS = b"Package: liblog4j2-java\nStatus: install ok installed\nVersion: 2.19.0-2\nArchitecture: all\n\n"
LIST = b"/.\n/usr\n/usr/share\n/usr/share/java\n/usr/share/java/log4j-api.jar\n/usr/share/java/bundle.jar\n" \
       b"/usr/share/java/log4j-api-2.19.0.jar\n"
API = jar("org.apache.logging.log4j", "log4j-api", "2.19.0")
BUNDLE = build_zip([pom_entry("org.debian", "bundle", "1"), ("lib/log4j-api-2.19.0.jar", API, zipfile.ZIP_STORED)])
APP = build_zip([
    pom_entry("com.example", "app", "1.0"),
    ("BOOT-INF/lib/log4j-api-2.19.0.jar", API, zipfile.ZIP_DEFLATED),
    ("BOOT-INF/classes/static/video.bin", os.urandom(9 * 1024 * 1024), zipfile.ZIP_STORED),  # over the 8 MiB spool
])  # fmt: skip


def _layer(n: int, entries: list[Entry]) -> LayerResult:
    tar = make_tar(entries)
    blob = gzip.compress(tar, compresslevel=1)
    return analyze_layer(io.BytesIO(blob), diff_id="sha256:" + hashlib.sha256(tar).hexdigest(),
                         catalogers=[DpkgCataloger(), JavaArchiveCataloger()],
                         digest="sha256:" + hashlib.sha256(blob).hexdigest(), size=len(blob))


def test_layers_through_walker_and_merge() -> None:
    base = _layer(1, [
        Entry("var/lib/dpkg/status", STATUS), Entry("var/lib/dpkg/info/liblog4j2-java.list", LIST),
        Entry("usr/share/java/log4j-api.jar", API),
        Entry("usr/share/java/log4j-api-2.19.0.jar", kind=tarfile.SYMTYPE, link="log4j-api.jar"),
        Entry("usr/share/java/bundle.jar", BUNDLE),
        Entry("app/app.jar", APP), Entry("app/old-1.0.jar", jar("com.example", "old", "1.0")),
        Entry("app/broken.war", b"PK\x03\x04 truncated"),
    ])  # fmt: skip
    assert [w.code for w in base.warnings] == ["malformed-file"] and base.warnings[0].path == "app/broken.war"
    deleting = _layer(2, [Entry("app/.wh.old-1.0.jar")])
    image = merge_layers([base, deleting])
    found = {(p.name, p.path, p.owner, p.digests.get("sha1")) for p in image.packages if p.type == PackageType.MAVEN}
    api_sha1 = hashlib.sha1(API).hexdigest()
    assert found == {
        ("log4j-api", "usr/share/java/log4j-api.jar", "deb/liblog4j2-java", api_sha1),
        ("bundle", "usr/share/java/bundle.jar", "deb/liblog4j2-java", hashlib.sha1(BUNDLE).hexdigest()),
        ("log4j-api", "usr/share/java/bundle.jar!/lib/log4j-api-2.19.0.jar", "deb/liblog4j2-java", api_sha1),
        ("app", "app/app.jar", None, hashlib.sha1(APP).hexdigest()),
        ("log4j-api", "app/app.jar!/BOOT-INF/lib/log4j-api-2.19.0.jar", None, api_sha1),
    }
    assert all(p.layer_diff_id == base.diff_id for p in image.packages)
