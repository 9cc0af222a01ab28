"""bench_growth: `pybpftool object show` of objects that grow along one dimension.

Rows: programs (each in its own section), BTF maps, static slots (map-in-maps with 10
statically filled slots each), callers of one 5,000-instruction subprogram, and issue 20's
object (2,500 programs calling one 25,000-instruction subprogram, no debug info). For each
size: the object's bytes, the cold command's wall time (median of 3) and peak RSS, and, from
the previous size on, the time and memory each added unit costs: flat columns mean linear
growth. Each size is shown twice: as tables (rich renders every row) and with --json (the
parse and the document alone), so the table's share of the time is visible.
Targets (issue 20): any object up to 1 MB shown within 2 s and 200 MiB; time and
memory at most linear in programs, maps and slots.
Objects are built with clang-14 (tests/genobj.py) into a temporary folder, removed at the end.
Run: .venv/bin/python benchmarks/bench_growth.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

import bpfobjs  # noqa: E402
import genobj  # noqa: E402
from bytecode import installed_bytecode  # noqa: E402

PYBPFTOOL = Path(sys.executable).parent / "pybpftool"
RUNS = 3
LIMIT_BYTES, LIMIT_S, LIMIT_MIB = 1 << 20, 2.0, 200

DIMENSIONS: list[tuple[str, Callable[[int], str], tuple[int, ...], bool]] = [
    ("programs", genobj.many_programs, (125, 250, 500, 1000), True),
    ("maps", genobj.many_maps, (625, 1250, 2500, 5000), True),
    ("slots", lambda n: genobj.map_in_maps(n // 10, 10), (2500, 5000, 10000, 20000), True),
    ("callers", lambda n: genobj.shared_subprogram(n, 5000), (250, 500, 1000, 2000), True),
    ("issue 20", lambda n: genobj.shared_subprogram(n, 25000), (2500,), False),
]


def show(path: Path, *options: str) -> tuple[float, float]:
    """show: wall seconds and peak RSS (MiB) of one cold `pybpftool object show`, piped."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(PYBPFTOOL), "object", "show", *options, str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    assert proc.stderr is not None
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"object show {path} failed: {proc.stderr.read().decode()}")
    proc.stderr.close()
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    print(f"{'dimension':10} {'n':>6} {'bytes':>9} {'output':6} {'ms':>7} {'MiB':>6}", end="")
    print("   per 1,000 more: ms   MiB")
    worst: list[str] = []
    try:
        with installed_bytecode():
            for name, source, sizes, debug in DIMENSIONS:
                previous: dict[str, tuple[int, float, float]] = {}
                for n in sizes:
                    data = genobj.build(source(n), debug=debug)
                    path = bpfobjs.cache_dir() / f"growth-{name.replace(' ', '-')}-{n}.o"
                    path.write_bytes(data)
                    for output, options in (("table", ()), ("json", ("--json",))):
                        samples = [show(path, *options) for _ in range(RUNS)]
                        ms = statistics.median(s[0] for s in samples) * 1000
                        mib = max(s[1] for s in samples)
                        slope = ""
                        if output in previous:
                            before = previous[output]
                            dn = (n - before[0]) / 1000
                            slope = f"{(ms - before[1]) / dn:17.0f} {(mib - before[2]) / dn:6.1f}"
                        row = f"{name:10} {n:6} {len(data):9} {output:6} {ms:7.0f} {mib:6.0f}"
                        print(f"{row}   {slope}")
                        previous[output] = (n, ms, mib)
                        if len(data) <= LIMIT_BYTES and (ms > LIMIT_S * 1000 or mib > LIMIT_MIB):
                            worst.append(f"{name} {n} {output}: {ms:.0f} ms, {mib:.0f} MiB")
    finally:
        bpfobjs.cleanup()
    verdict = "met" if not worst else "NOT met: " + "; ".join(worst)
    print(f"target: objects up to 1 MiB within {LIMIT_S:.0f} s and {LIMIT_MIB} MiB: {verdict}")


if __name__ == "__main__":
    main()
