"""long_run: the fuzz invariant over many more cases than CI runs (not collected by pytest).

Every test object, both byte orders, N mutated cases each (tests/mutate.py's mutators, in
turn, other seeds than CI's), through every consumer (tests/fuzz/consumers.py: parse, show
--json and the table, sanitize, each program's load request with CO-RE); then the CO-RE
object against N mutated target BTFs per byte order. Each case must give results or
one-line PyBpfErrors within a second; the slowest case and the peak memory of any single
case are reported, and every other exception is counted by where it was raised (the run
goes on, so one run shows them all), with the case's index for mutate.mutation() to replay
it. Result of a run is kept in README.md here.
Run: .venv/bin/python tests/fuzz/long_run.py [cases per object and byte order]
"""

from __future__ import annotations

import sys
import time
import traceback
import tracemalloc
import zlib
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bpfobjs
from mutate import mutations, target_mutations

from fuzz.consumers import consume, requests, target_btf
from pybpftool.btf.target import TargetBtf
from pybpftool.errors import PyBpfError
from pybpftool.parser import parse_object


class Run:
    """Run: counts, the slowest case and the largest peak, and the failures by place."""

    def __init__(self) -> None:
        self.outcomes: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.examples: dict[str, str] = {}
        self.slowest = self.peak = 0.0
        self.slowest_case = ""

    def case(self, label: str, work: Callable[[], str]) -> None:
        tracemalloc.start()
        start = time.perf_counter()
        try:
            self.outcomes[work()] += 1
        except Exception as err:  # the invariant broken: remember where, go on
            frame = traceback.extract_tb(err.__traceback__)[-1]
            where = f"{type(err).__name__} at {Path(frame.filename).name}:{frame.name}"
            self.failures[where] += 1
            self.examples.setdefault(where, f"{label}: {err}")
        finally:
            elapsed = time.perf_counter() - start
            if elapsed > self.slowest:
                self.slowest, self.slowest_case = elapsed, label
            self.peak = max(self.peak, tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()


def core_case(spec_data: bytes, raw: bytes) -> str:
    try:
        target = TargetBtf(raw)
    except PyBpfError:
        return "target-error"
    spec = parse_object(spec_data)
    return f"target-{requests(spec, target)}-requests"


def main() -> int:
    per = int(sys.argv[1]) if len(sys.argv) > 1 else 2600
    run = Run()
    started = time.perf_counter()
    try:
        targets = {t: TargetBtf(target_btf(t)) for t in bpfobjs.TARGETS}
        for name in bpfobjs.sources():
            for target in bpfobjs.TARGETS:
                data = bpfobjs.build(name, target).read_bytes()
                seed = zlib.crc32(f"long-{name}-{target}".encode())
                for index, (label, mutated) in enumerate(mutations(data, seed, per)):
                    work = partial(consume, mutated, targets[target])
                    run.case(f"{name}/{target} #{index} {label}", work)
        for target in bpfobjs.TARGETS:
            obj = bpfobjs.build("core_reloc", target).read_bytes()
            raw = target_btf(target)
            bo = "<" if target == "bpfel" else ">"
            seed = zlib.crc32(f"long-target-{target}".encode())
            for i, mutated in enumerate(target_mutations(raw, bo, seed, per * 4)):
                run.case(f"target/{target} #{i}", partial(core_case, obj, mutated))
    finally:
        bpfobjs.cleanup()
    total = sum(run.outcomes.values()) + sum(run.failures.values())
    print(
        f"{total} cases: {dict(sorted(run.outcomes.items()))}; "
        f"slowest {run.slowest * 1000:.1f} ms ({run.slowest_case}), "
        f"peak memory per case {run.peak / 2**10:.0f} KiB, "
        f"{time.perf_counter() - started:.0f} s in all"
    )
    for where, count in run.failures.most_common():
        print(f"FAIL {count} x {where}: {run.examples[where]}")
    return 0 if not run.failures and run.slowest < 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
