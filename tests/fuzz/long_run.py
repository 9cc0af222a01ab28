"""long_run: the fuzz invariant over many more cases than CI runs (not collected by pytest).

Every test object, both byte orders, N mutated cases each (the CI mutators, other seeds):
each must give an ObjectSpec or an ObjectError within a second; the slowest case and the
peak memory of any single case are reported. Result of a run is kept in README.md here.
Run: .venv/bin/python tests/fuzz/long_run.py [cases per object and byte order]
"""

from __future__ import annotations

import sys
import time
import tracemalloc
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bpfobjs
from mutate import mutations

from pybpftool.errors import ObjectError
from pybpftool.parser import parse_object


def main() -> int:
    per = int(sys.argv[1]) if len(sys.argv) > 1 else 4200
    total = errors = 0
    slowest = peak = 0.0
    started = time.perf_counter()
    try:
        for name in bpfobjs.sources():
            for target in bpfobjs.TARGETS:
                data = bpfobjs.build(name, target).read_bytes()
                seed = zlib.crc32(f"long-{name}-{target}".encode())
                for label, mutated in mutations(data, seed, per):
                    tracemalloc.start()
                    t0 = time.perf_counter()
                    try:
                        parse_object(mutated)
                    except ObjectError:
                        errors += 1
                    except Exception as err:  # the invariant broken: report and stop
                        print(f"FAIL {name}/{target} {label}: {type(err).__name__}: {err}")
                        return 1
                    elapsed = time.perf_counter() - t0
                    peak = max(peak, tracemalloc.get_traced_memory()[1])
                    tracemalloc.stop()
                    slowest = max(slowest, elapsed)
                    total += 1
    finally:
        bpfobjs.cleanup()
    print(
        f"{total} cases, {errors} ObjectError, {total - errors} specs, "
        f"slowest {slowest * 1000:.1f} ms, peak memory per case {peak / 2**10:.0f} KiB, "
        f"{time.perf_counter() - started:.0f} s in all"
    )
    return 0 if slowest < 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
