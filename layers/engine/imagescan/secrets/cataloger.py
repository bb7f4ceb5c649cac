"""The ``secrets`` file scanner: every text-like file of every layer, deleted or replaced later or not.

What it skips, by path (cheap, per tar entry):

- content that is never text: images, fonts, archives and packages, compiled code (``*.pyc``, ``*.so*``, ``*.class``,
  ``*.o``), databases, media;
- package-manager internals (``var/lib/dpkg``, ``var/lib/apt``, ``var/lib/rpm``, ``lib/apk/db``, their caches) and
  lock files full of hashes (``package-lock.json``, ``yarn.lock``, ``go.sum``...);
- documentation and data an OS package ships: ``usr/share/{doc,man,info,locale,i18n,zoneinfo,...}``, locale
  archives, public certificate stores and keyrings;
- language runtimes' own libraries and the distribution's packaged ones (``usr/lib/python3*``, ``usr/lib/ruby``,
  ``usr/local/lib/pythonX.Y`` outside ``site-packages``/``dist-packages``, Perl and Go, npm bundled with node):
  vendor code, full of sample credentials;
- inside third-party package trees (``node_modules``, ``site-packages``, ``dist-packages``, ``vendor``, gems):
  test, fixture, example and documentation directories and markdown files, and ``.dist-info``/``.egg-info``
  metadata (their READMEs show sample tokens). The packages' own code is scanned, by the rules that recognise a
  secret by its shape (token formats, keys); assignments, URLs and command lines in library code are samples and
  mocks (:attr:`Rule.context_only <imagescan.secrets.rules.Rule.context_only>`). Sample and template files
  (``.env.example``, ``config.sample.yml``) get the same treatment.

And by content: a NUL byte in the first 8 KiB means binary (an ELF executable, a database) and the file is skipped.
Files over :data:`MAX_FILE_SIZE` are not read; the walker counts them and the image check reports the count.
"""

from __future__ import annotations

import re
from typing import BinaryIO

from imagescan.models import PathRecord
from imagescan.secrets.scanner import scan

NAME = "secrets"
MAX_FILE_SIZE = 1024 * 1024
BINARY_SNIFF = 8192

_SKIP_EXTENSIONS = frozenset({
    "png", "jpg", "jpeg", "gif", "bmp", "ico", "icns", "webp", "tif", "tiff", "psd", "svg", "svgz", "xcf",
    "ttf", "otf", "woff", "woff2", "eot", "pfb", "pcf",
    "gz", "tgz", "bz2", "tbz2", "xz", "txz", "zst", "lz4", "lzma", "lz", "z", "zip", "jar", "war", "ear", "aar", "whl",
    "egg", "tar", "7z", "rar", "deb", "udeb", "rpm", "apk", "cab", "iso", "img", "squashfs", "snap",
    "pyc", "pyo", "so", "a", "o", "ko", "class", "dll", "exe", "dylib", "node", "wasm", "bin", "elc", "beam", "jmod",
    "db", "sqlite", "sqlite3", "mdb", "dat", "pack", "idx", "mo", "gmo", "qm", "cache",
    "pdf", "mp3", "mp4", "m4a", "wav", "ogg", "oga", "flac", "avi", "mov", "mkv", "webm",
})
_SKIP_NAMES = frozenset({
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "pipfile.lock", "poetry.lock",
    "gemfile.lock", "go.sum", "composer.lock", "cargo.lock", "packages.lock.json", "ld.so.cache",
})
_SKIP_PREFIXES = (
    "usr/share/doc/", "usr/share/man/", "usr/share/info/", "usr/share/locale/", "usr/share/i18n/", "usr/lib/locale/",
    "usr/share/zoneinfo/", "usr/share/mime/", "usr/share/icons/", "usr/share/fonts/", "usr/share/X11/",
    "usr/share/terminfo/", "usr/share/common-licenses/", "usr/share/ca-certificates/", "usr/share/lintian/",
    "usr/share/perl/", "usr/share/perl5/", "usr/share/bash-completion/", "usr/share/zsh/", "usr/share/vim/",
    "usr/share/misc/", "usr/share/pixmaps/", "usr/share/gtk-doc/", "usr/share/help/", "usr/share/keyrings/",
    "usr/share/debconf/", "usr/share/dpkg/", "usr/share/pki/", "usr/share/gnupg/", "usr/share/javascript/",
    "usr/include/", "usr/lib/jvm/", "usr/local/go/", "usr/share/go", "usr/lib/go",
    "var/lib/dpkg/", "var/lib/apt/", "var/cache/apt/", "var/cache/debconf/", "var/cache/ldconfig/",
    "var/lib/rpm/", "usr/lib/sysimage/rpm/", "var/cache/dnf/", "var/cache/yum/", "var/lib/dnf/", "var/lib/yum/",
    "lib/apk/", "var/cache/apk/", "etc/apk/keys/", "usr/share/apk/", "etc/ssl/certs/", "etc/pki/ca-trust/",
    "etc/pki/tls/certs/", "etc/ca-certificates/", "proc/", "sys/", "dev/",
)
_VENDOR_TREES = re.compile(
    r"^usr/lib/python\d[\d.]*/"  # the distribution's Python: standard library and apt-installed packages
    r"|^usr/local/lib/python\d[\d.]*/(?!site-packages/|dist-packages/)"  # CPython built from source
    r"|^usr/(?:lib/[^/]+/)?perl(?:5|-base)?/"  # Perl's
    r"|^usr/lib/ruby/"  # the distribution's Ruby: standard library, bundled and apt-installed gems
    r"|^usr/local/lib/ruby/\d[\d.]*/"  # Ruby built from source (its gems live in usr/local/lib/ruby/gems)
    r"|^usr/(?:local/)?lib/node_modules/(?:npm|corepack)/"  # the npm that ships with node
    r"|^opt/yarn-v[\d.]+/"
    r"|(?:^|/)\.git/(?:objects|refs|logs)/"
    r"|(?:^|/)__pycache__/"
)
_THIRD_PARTY = re.compile(r"/(?:node_modules|site-packages|dist-packages|vendor|gems|bundle)/")
_THIRD_PARTY_NOISE = re.compile(
    r"/(?:tests?|testing|__tests__|testdata|test_data|fixtures?|spec|specs|examples?|samples?|docs?|man"
    r"|benchmarks?|demo|\.github)/"
    r"|\.(?:dist|egg)-info/"
    r"|\.(?:md|markdown|rst|txt|html?)$"
)
_SO = re.compile(r"\.so(?:\.\d+)+$")
_SAMPLE = re.compile(r"(?:^|/)examples?/|[^/]*(?:example|sample|template|\.dist$)[^/]*$")


def wants_path(path: str) -> bool:
    """Whether the secret scanner reads the file at image path ``path`` (see the module docstring)."""
    name = path.rpartition("/")[2]
    lower_name = name.lower()
    _, dot, ext = lower_name.rpartition(".")
    if dot and ext in _SKIP_EXTENSIONS:
        return False
    if lower_name in _SKIP_NAMES or path.startswith(_SKIP_PREFIXES):
        return False
    if _SO.search(lower_name) or _VENDOR_TREES.search(path):
        return False
    return not (_THIRD_PARTY.search("/" + path.rpartition("/")[0] + "/") and _THIRD_PARTY_NOISE.search("/" + path))


def shape_only(path: str) -> bool:
    """Inside a library's package tree, or a sample/template file (``config.example.yml``, ``.env.sample``,
    ``examples-1.json``): only the rules that recognise a secret by its shape run there; assignments in such files
    hold sample values."""
    return bool(_THIRD_PARTY.search("/" + path.rpartition("/")[0] + "/") or _SAMPLE.search(path.lower()))


class SecretsCataloger:
    name = NAME
    version = 1
    """Bump when the rules or the masking change: cached layer results hold findings, not the files."""
    max_file_size = MAX_FILE_SIZE
    warn_oversize = False

    def wants(self, path: str) -> bool:
        return wants_path(path)

    def parse(self, path: str, data: BinaryIO, size: int) -> PathRecord | None:
        head = data.read(BINARY_SNIFF)
        if not head or b"\0" in head:
            return None
        text = head + data.read(MAX_FILE_SIZE)
        matches = scan(text, path, shape_only(path))
        if not matches:
            return None
        return PathRecord(cataloger=NAME, path=path, findings=[m.raw() for m in matches])
