# SPDX-License-Identifier: MIT
"""Prints one C initializer for tests/unit/py_linetable_fixture.h: the
location table of a few functions as this interpreter compiled them, and
the line it gives each instruction (co_positions() on 3.11+, co_lines() on
3.10), for the decoder's unit test. Run by tools/pylinetable/gen.sh under
every CPython 3.10+ at hand; the output is facts about each version."""
import sys

# Shapes that exercise every entry kind: short and one-line forms, lines
# far apart (multi-chunk varints), going back (loops, finally), long lines
# (columns past 127: the long form), instructions with no location.
SOURCE = (
    "def plain(a, b):\n"
    "    c = a + b\n"
    "    return c * 2\n"
    "\n"
    "def far(x):\n"
    "    y = x\n" + "    # filler\n" * 300 +
    "    z = y + 1\n" + "    # filler\n" * 70 +
    "    return z\n"
    "\n"
    "def loops(items):\n"
    "    total = 0\n"
    "    for i in items:\n"
    "        if i % 2:\n"
    "            total += i\n"
    "        else:\n"
    "            total -= 1\n"
    "    while total > 100:\n"
    "        total //= 3\n"
    "    return total\n"
    "\n"
    "def guarded(f):\n"
    "    try:\n"
    "        return f()\n"
    "    except ValueError as e:\n"
    "        return str(e)\n"
    "    finally:\n"
    "        print('done')\n"
    "\n"
    "def wide(v):\n"
    "    return " + " + ".join(["v"] * 60) + " + len(str(v)) + max(v, 1, 2, 3)\n"
    "\n"
    "def spread(a,\n"
    "           b):\n"
    "    return (a +\n"
    "            b\n"
    "            )\n"
    "\n"
    "async def waits(o):\n"
    "    async with o as p:\n"
    "        await p\n"
    "\n"
    "def gen(n):\n"
    "    yield from range(n)\n"
    "    yield n\n"
)


def lines_of(code):
    """The line of each code unit (2 bytes), -1 for none."""
    if sys.version_info >= (3, 11):
        return [-1 if p[0] is None else p[0] for p in code.co_positions()]
    out = [-1] * (len(code.co_code) // 2)
    for start, end, line in code.co_lines():
        for b in range(start, end, 2):
            out[b // 2] = -1 if line is None else line
    return out


def main():
    ns = {}
    exec(compile(SOURCE, "fixture.py", "exec"), ns)
    minor = sys.version_info[1]
    for name in ("plain", "far", "loops", "guarded", "wide", "spread", "waits", "gen"):
        code = ns[name].__code__
        table = code.co_linetable
        lines = lines_of(code)
        print("\t{ %d, \"%s\", %d, %d, (const uint8_t[]){ %s }, %d, (const int[]){ %s } },"
              % (minor, name, code.co_firstlineno, len(table),
                 ", ".join(str(b) for b in table) or "0", len(lines),
                 ", ".join(str(v) for v in lines)))


main()
