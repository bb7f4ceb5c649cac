"""Reference for Debian versions: apt's ``apt_pkg.version_compare`` (run with Debian's /usr/bin/python3).

Protocol of every reference program here: each stdin line is ``xHEX xHEX`` (the two versions, UTF-8, hex
encoded behind an ``x``); each output line is -1, 0, 1, or EA / EB when the first / second is refused.
"""

import sys

import apt_pkg  # type: ignore[import-not-found]

apt_pkg.init_system()
out = []
for line in sys.stdin:
    a, b = (bytes.fromhex(field[1:]).decode() for field in line.split())
    r = apt_pkg.version_compare(a, b)
    out.append(str((r > 0) - (r < 0)))
sys.stdout.write("\n".join(out) + "\n")
