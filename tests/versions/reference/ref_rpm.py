"""Reference for RPM versions: rpm's Python bindings (Debian's python3-rpm, run with /usr/bin/python3).

``vercmp`` mode compares plain versions (rpmvercmp) with ``rpm.labelCompare`` on bare versions, both prefixed
with "0." (a neutral common segment: labelCompare refuses an empty version). ``evr`` mode splits ``[E:]V[-R]``
with ``rpm.ver`` and compares with ``rpm.labelCompare``; it answers N where rpm refuses to compare (an empty
version part). Protocol: see ref_apt.py.
"""

import sys

import rpm  # type: ignore[import-not-found]


def evr(text: str) -> tuple[str | None, str, str | None]:
    if text == "":
        return (None, "", None)
    version = rpm.ver(text)
    return (version.e, version.v, version.r)


mode = sys.argv[1]
out = []
for line in sys.stdin:
    a, b = (bytes.fromhex(field[1:]).decode() for field in line.split())
    try:
        if mode == "vercmp":
            r = rpm.labelCompare((None, "0." + a, None), (None, "0." + b, None))
        else:
            r = rpm.labelCompare(evr(a), evr(b))
    except ValueError:
        out.append("N")
        continue
    out.append(str((r > 0) - (r < 0)))
sys.stdout.write("\n".join(out) + "\n")
