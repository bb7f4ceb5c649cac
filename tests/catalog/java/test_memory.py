"""A 200 MB archive is cataloged with flat memory: its big members are hashed and walked in place, never held."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
import zipfile
from pathlib import Path

from imagescan.catalog.java import JavaArchiveCataloger
from tests.catalog.java.jars import jar, manifest, pom_entry

MiB = 1024 * 1024
BIG = 200 * MiB


def _write_stored(zf: zipfile.ZipFile, name: str, size: int, chunk: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=(2022, 12, 22, 10, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = size
    with zf.open(info, "w") as out:
        for _ in range(size // len(chunk)):
            out.write(chunk)


def _big_jar(path: Path) -> None:
    """app.jar: its pom.properties, a deflated nested library, and a STORED nested jar of ~200 MB that itself holds
    a STORED 200 MB resource and a pom.properties."""
    chunk = os.urandom(MiB)  # incompressible, like the class files and resources of a real fat jar
    inner = path.with_name("big-lib-1.0.jar")
    with zipfile.ZipFile(inner, "w") as zf:
        _write_stored(zf, "assets/model.bin", BIG, chunk)
        zf.writestr(*pom_entry("com.example", "big-lib", "1.0"))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(*manifest(Implementation_Title="app", Implementation_Version="1.0"))
        zf.writestr(*pom_entry("com.example", "app", "1.0"))
        zf.writestr("BOOT-INF/lib/commons-text-1.10.0.jar", jar("org.apache.commons", "commons-text", "1.10.0"))
        info = zipfile.ZipInfo("BOOT-INF/lib/big-lib-1.0.jar", date_time=(2022, 12, 22, 10, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        info.file_size = inner.stat().st_size
        with zf.open(info, "w") as out, open(inner, "rb") as src:
            while block := src.read(MiB):
                out.write(block)
    inner.unlink()


def test_big_archive_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "app.jar"
    _big_jar(path)
    size = path.stat().st_size
    assert size > BIG
    tracemalloc.start()
    try:
        with open(path, "rb") as data:
            record = JavaArchiveCataloger().parse("app/app.jar", data, size)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert record is not None and not record.notes
    assert [(p.name, p.path) for p in record.packages] == [
        ("app", "app/app.jar"),
        ("commons-text", "app/app.jar!/BOOT-INF/lib/commons-text-1.10.0.jar"),
        ("big-lib", "app/app.jar!/BOOT-INF/lib/big-lib-1.0.jar"),
    ]
    whole = hashlib.sha1(path.read_bytes()).hexdigest()
    assert record.packages[0].digests == {"sha1": whole}
    print(f"tracemalloc peak {peak / MiB:.2f} MiB")
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB for a {size / MiB:.0f} MiB archive"
