"""Seeded generators of tricky version strings, one per scheme, and of pairs to compare.

Pairs mix: random pairs from a pool of related versions (shared prefixes make the comparators walk deep),
a version against a one-edit mutation of itself (near misses, often invalid), and a version against itself.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

Pair = tuple[str, str]
Generator = Callable[[random.Random], str]


def pairs(seed: int, generate: Generator, count: int, *, alphabet: str, pool_size: int | None = None) -> list[Pair]:
    """``count`` pairs of versions built by ``generate`` and mutated with characters from ``alphabet``."""
    rng = random.Random(seed)
    pool = [generate(rng) for _ in range(pool_size or max(20, count // 6))]
    out: list[Pair] = []
    while len(out) < count:
        roll = rng.random()
        a = rng.choice(pool)
        if roll < 0.55:
            b = rng.choice(pool)
        elif roll < 0.9:
            b = mutate(rng, a, alphabet)
        elif roll < 0.95:
            b = a
        else:
            b = generate(rng)
        out.append((a, b) if rng.random() < 0.5 else (b, a))
    return out


def mutate(rng: random.Random, text: str, alphabet: str) -> str:
    """One random edit: change, insert, delete or duplicate a character, or append a tail."""
    op = rng.randrange(5)
    i = rng.randrange(len(text) + 1)
    if op == 0 and text:
        i = min(i, len(text) - 1)
        return text[:i] + rng.choice(alphabet) + text[i + 1 :]
    if op == 1:
        return text[:i] + rng.choice(alphabet) + text[i:]
    if op == 2 and text:
        i = min(i, len(text) - 1)
        return text[:i] + text[i + 1 :]
    if op == 3 and text:
        i = min(i, len(text) - 1)
        return text[:i] + text[i] + text[i:]
    return text + rng.choice(alphabet) + rng.choice(alphabet)


def number(rng: random.Random, *, zeros: bool = True, big: bool = True) -> str:
    roll = rng.random()
    if roll < 0.35:
        return str(rng.randrange(3))
    if roll < 0.7:
        return str(rng.randrange(20))
    if zeros and roll < 0.8:
        return "0" * rng.randrange(1, 3) + str(rng.randrange(10))
    if big and roll < 0.85:
        return str(rng.randrange(10**18, 10**25))
    return str(rng.randrange(1000))


def joined(rng: random.Random, parts: Sequence[str], seps: Sequence[str], low: int, high: int) -> str:
    items = [rng.choice(parts) for _ in range(rng.randint(low, high))]
    return "".join(rng.choice(seps) + item if n else item for n, item in enumerate(items))


# --- Debian ---------------------------------------------------------------------------------------------------

DPKG_ALPHABET = "0123456789abzAZ~+.-:_ "
_DPKG_WORDS = ["a", "b", "z", "A", "Z", "rc", "beta", "dfsg", "ubuntu", "deb", "git", "+b", "~", "~~", "~rc", ".", "+"]


def dpkg_version(rng: random.Random) -> str:
    def fragment() -> str:
        out = number(rng)
        for _ in range(rng.randrange(4)):
            roll = rng.random()
            out += rng.choice(_DPKG_WORDS) if roll < 0.5 else "." + number(rng)
            if rng.random() < 0.4:
                out += number(rng)
        return out

    version = fragment()
    if rng.random() < 0.2:
        version = rng.choice(["0", "1", "2", "01", "10"]) + ":" + version
    if rng.random() < 0.6:
        version += "-" + fragment() + (rng.choice(["", "ubuntu1", "+deb12u1", "~bpo11+1", "build1"]))
    return version


# --- RPM ------------------------------------------------------------------------------------------------------

RPM_ALPHABET = "0123456789aAzZ~^._+-:"
_RPM_PARTS = ["0", "00", "1", "01", "2", "10", "a", "A", "rc", "beta", "git", "el8", "el9", "fc38", "Z", "1a", "a1"]
_RPM_SEPS = [".", ".", ".", "_", "+", "~", "^", "~~", "^^", "", "%"]


def rpm_version(rng: random.Random) -> str:
    return joined(rng, _RPM_PARTS, _RPM_SEPS, 1, 5)


def rpm_evr(rng: random.Random) -> str:
    evr = rpm_version(rng)
    if rng.random() < 0.3:
        evr = rng.choice(["0", "1", "2", "00", "01", ""]) + ":" + evr
    if rng.random() < 0.7:
        evr += "-" + rpm_version(rng)
    return evr


# --- npm / Cargo (SemVer) -------------------------------------------------------------------------------------

SEMVER_ALPHABET = "0123456789.-+abvxAZ= "
_PRE_IDS = ["alpha", "beta", "rc", "0", "1", "2", "10", "01", "a1", "1a", "-", "x-y", "A", "9007199254740993"]


def semver_version(rng: random.Random, *, loose: bool) -> str:
    def n() -> str:
        return number(rng, zeros=loose, big=rng.random() < 0.2)

    version = f"{n()}.{n()}.{n()}"
    if rng.random() < 0.5:
        sep = rng.choice(["-", "-", ""]) if loose else "-"
        version += sep + joined(rng, _PRE_IDS, ["."], 1, 3)
    if rng.random() < 0.25:
        version += "+" + joined(rng, ["build", "001", "sha", "5", "x-y"], ["."], 1, 2)
    if loose and rng.random() < 0.2:
        version = rng.choice(["v", "=", "v=", " ", "=v", "\t"]) + version
    return version


def npm_version(rng: random.Random) -> str:
    return semver_version(rng, loose=True)


def cargo_version(rng: random.Random) -> str:
    return semver_version(rng, loose=False)


# --- Go -------------------------------------------------------------------------------------------------------

GO_ALPHABET = "0123456789.-+avxiA"


def go_version(rng: random.Random) -> str:
    def n() -> str:
        return number(rng, zeros=rng.random() < 0.1, big=rng.random() < 0.1)

    roll = rng.random()
    if roll < 0.1:
        version = n() + ("." + n() if rng.random() < 0.5 else "")
    else:
        version = f"{n()}.{n()}.{n()}"
        if rng.random() < 0.25:
            stamp = f"2021{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{rng.randrange(10**6):06d}"
            base = rng.choice(["", "0.", "pre.0.", "rc.1.0."])
            version = (f"0.0.0-{stamp}" if not base else version + "-" + base + stamp) + "-abcdef123456"
        elif rng.random() < 0.4:
            version += "-" + joined(rng, _PRE_IDS, ["."], 1, 3)
        if rng.random() < 0.15:
            version += "+incompatible"
    return ("v" if rng.random() < 0.5 else "") + version


# --- Maven ----------------------------------------------------------------------------------------------------

MAVEN_ALPHABET = "0123456789.-abmcrsgfARSMx_"
_MAVEN_TOKENS = [
    "0", "00", "1", "01", "2", "10", "0123", "99999999999", "12345678901234567890123",
    "alpha", "a", "beta", "b", "milestone", "m", "rc", "cr", "snapshot", "SNAPSHOT", "ga", "GA", "final", "FINAL",
    "release", "RELEASE", "sp", "SP", "foo", "abc", "jre", "android", "x", "Ü",
]  # fmt: skip


def maven_version(rng: random.Random) -> str:
    return joined(rng, _MAVEN_TOKENS, [".", ".", "-", "", "--", ".-"], 1, 6)


# --- RubyGems -------------------------------------------------------------------------------------------------

GEM_ALPHABET = "0123456789.-aAbzZ_ "


def gem_version(rng: random.Random) -> str:
    version = joined(
        rng, ["0", "1", "2", "10", "01", "00", "a", "b", "pre", "rc1", "beta2", "Alpha", "0a"], ["."], 1, 5
    )
    if not version[0].isdigit():
        version = number(rng) + "." + version
    if rng.random() < 0.2:
        version += "-" + joined(rng, ["1", "pre", "a", "x-y", "0"], ["."], 1, 2)
    if rng.random() < 0.05:
        version = rng.choice([" ", "\t", "\n"]) + version + rng.choice(["", " "])
    return version


# --- Composer -------------------------------------------------------------------------------------------------

COMPOSER_ALPHABET = "0123456789.-_vVxXabpRCdev*@+ "
_COMPOSER_MODIFIERS = [
    "", "", "", "-beta", "-beta2", "beta.3", "-b1", "b", "RC1", "-rc.2", "-RC", "alpha1", "-a3", "a", "-alpha.1.2",
    "-patch1", "pl2", "-p", "p3", "-stable", "-STABLE", "-dev", ".x-dev", "-beta1-dev", "@dev", "@stable", "+build.1",
    "_beta1", "-beta-2", ".dev", "dev", "-Beta",
]  # fmt: skip


def composer_version(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.08:
        return rng.choice(
            ["master", "dev-master", "dev-feature/x", "trunk", "1.x-dev", "2.*-dev", "1.0.x-dev", "v2.X-dev"]
        )
    if roll < 0.16:
        sep = rng.choice(["", "-", ".", ":"])
        date = f"20{rng.randrange(10, 30)}{sep}{rng.randrange(1, 13):02d}{sep}{rng.randrange(1, 29):02d}"
        return date + rng.choice(_COMPOSER_MODIFIERS)
    parts = [number(rng, big=False) for _ in range(rng.randint(1, 5))]
    version = ("v" if rng.random() < 0.2 else "") + ".".join(parts) + rng.choice(_COMPOSER_MODIFIERS)
    if rng.random() < 0.03:
        version += " as 1.0.0"
    return version


# --- NuGet (used by the property tests) -------------------------------------------------------------------------

NUGET_ALPHABET = "0123456789.-+aBzZ "


def nuget_version(rng: random.Random) -> str:
    version = ".".join(number(rng, big=False) for _ in range(rng.randint(1, 4)))
    if rng.random() < 0.5:
        version += "-" + joined(rng, ["alpha", "Beta", "RC", "0", "1", "10", "-1", "a-b", "X"], ["."], 1, 3)
    if rng.random() < 0.2:
        version += "+" + joined(rng, ["meta", "001", "A"], ["."], 1, 2)
    return version


# --- PEP 440 --------------------------------------------------------------------------------------------------

PEP440_ALPHABET = "0123456789.-_+!abcrdevpostlocalv "
_PEP440_PRE = ["a", "b", "rc", "c", "alpha", "beta", "pre", "preview", "A", "RC"]


def pep440_version(rng: random.Random) -> str:
    version = ".".join(number(rng, big=False) for _ in range(rng.randint(1, 4)))
    if rng.random() < 0.15:
        version = f"{rng.randrange(3)}!{version}"
    if rng.random() < 0.3:
        version += rng.choice(["", ".", "-", "_"]) + rng.choice(_PEP440_PRE) + rng.choice(["", "0", "1", "12"])
    if rng.random() < 0.2:
        version += rng.choice([".post", "-post", "post", "-", ".r", "rev"]) + rng.choice(["", "1", "2"])
    if rng.random() < 0.2:
        version += rng.choice([".dev", "dev", "-dev"]) + rng.choice(["", "0", "3"])
    if rng.random() < 0.15:
        version += "+" + joined(rng, ["ubuntu", "1", "abc", "01", "x"], [".", "-", "_"], 1, 3)
    if rng.random() < 0.1:
        version = rng.choice(["v", "V", " ", "\t"]) + version
    return version


# --- Alpine ---------------------------------------------------------------------------------------------------

APK_ALPHABET = "0123456789._-~abcfprz"
_APK_SUFFIXES = ["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p", "foo", ""]


def apk_version(rng: random.Random) -> str:
    version = ".".join(number(rng, big=rng.random() < 0.05) for _ in range(rng.randint(1, 4)))
    if rng.random() < 0.15:
        version += rng.choice("abcz")
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        version += "_" + rng.choice(_APK_SUFFIXES) + rng.choice(["", "", "1", "2", "20240101", "01"])
    if rng.random() < 0.1:
        version += "~" + rng.choice(["1234abcd", "abc", "0f", "x"])
    if rng.random() < 0.7:
        version += "-r" + rng.choice(["0", "1", "2", "10", "01", ""])
    return version


SEMVER_SPEC_ORDER: list[tuple[str, str, int]] = [
    ("1.0.0-alpha", "1.0.0-alpha.1", -1),
    ("1.0.0-alpha.1", "1.0.0-alpha.beta", -1),
    ("1.0.0-alpha.beta", "1.0.0-beta", -1),
    ("1.0.0-beta", "1.0.0-beta.2", -1),
    ("1.0.0-beta.2", "1.0.0-beta.11", -1),
    ("1.0.0-beta.11", "1.0.0-rc.1", -1),
    ("1.0.0-rc.1", "1.0.0", -1),
]
"""The precedence example of SemVer 2.0.0 (section 11), each pair with ``compare(a, b)``: every SemVer comparator
orders them so."""
