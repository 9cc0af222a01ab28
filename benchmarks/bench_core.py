"""bench_core: CO-RE loads against the running kernel's BTF, pybpftool beside bpftool.

Rows: (a) a warm-cache load of every program of tests/bpf/core_kernel.c: `pybpftool object
verify --json` against `bpftool prog loadall` (its pins removed between runs, untimed), and
the same work in process (parse + CO-RE + PROG_LOAD, no interpreter start, no imports);
(b) building the target index from cold (TargetBtf on /sys/kernel/btf/vmlinux, in process);
(c) loading the index from the warm cache (open_target). Targets are printed beside each row,
and the pybpftool command's time is split into interpreter start, imports and the rest.
Commands run with their bytecode compiled beforehand, as an installed package (bytecode.py).
The object is built with clang-14 into a temporary folder, pins go to a private bpffs mounted
on a temporary folder, and the index cache is a private folder: all removed at the end.
Run as root: .venv/bin/python benchmarks/bench_core.py
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bytecode import installed_bytecode  # noqa: E402

BIN = Path(sys.executable).parent
KERNEL_BTF = "/sys/kernel/btf/vmlinux"
RUNS = 15
INDEX_RUNS = 7
# What `pybpftool object verify` imports, eagerly or lazily (CO-RE, the sandbox).
IMPORTS = (
    "import pybpftool.cli.bpftool.main, pybpftool.loader.verify, pybpftool.loader.targetbtf, "
    "pybpftool.btf.target, pybpftool.btf.core, pybpftool.btf.compat, pybpftool.btf.corepatch, "
    "pybpftool.sandbox"
)


def sh(*cmd: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(cmd, check=True, capture_output=True, env=env)


def build(out: Path) -> str:
    sh(
        "clang-14",
        "-O2",
        "-g",
        "-Wall",
        "-Werror",
        "-target",
        "bpfel",
        f"-I{ROOT}/tests/bpf/include",
        "-c",
        str(ROOT / "tests/bpf/core_kernel.c"),
        "-o",
        str(out),
    )
    return str(out)


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(fn: Callable[[], object], runs: int, after: Callable[[], object] | None = None) -> float:
    """timed: the median wall time of `fn` in ms; `after` runs untimed after each call."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
        if after is not None:
            after()
    return median_ms(samples)


def remove_pins(folder: Path) -> None:
    if folder.is_dir():
        for pin in folder.iterdir():
            pin.unlink()
        folder.rmdir()


def row(name: str, theirs: float | None, ours: float, target: str) -> None:
    if theirs is None:
        print(f"{name:<30} {'':>11} {ours:8.1f} ms {'':>7}  {target}")
    else:
        ratio = f"{ours / theirs:6.2f}x"
        print(f"{name:<30} {theirs:8.1f} ms {ours:8.1f} ms {ratio:>7}  {target}")


def in_process(obj: str) -> dict[str, float]:
    """in_process: medians (ms) of parse, CO-RE + requests (target index from the warm cache)
    and PROG_LOAD of every program, imports already paid."""
    from pybpftool.kernel.bpf import Kernel
    from pybpftool.loader.corerelo import CoreRelocator
    from pybpftool.loader.programs import program_request
    from pybpftool.parser import parse_object

    kernel = Kernel()
    phases: dict[str, list[float]] = {"parse": [], "co-re": [], "load": [], "total": []}
    for _ in range(RUNS):
        t0 = time.perf_counter()
        spec = parse_object(obj)
        t1 = time.perf_counter()
        core = CoreRelocator(spec)
        reqs = [program_request(spec, p, p.type or 0, {}, 0, None, core) for p in spec.programs]
        t2 = time.perf_counter()
        for req in reqs:
            result = kernel.prog_load(req)
            if result.fd is None:
                raise SystemExit(f"{req.name}: rejected (errno {result.errno})")
            result.fd.close()
        t3 = time.perf_counter()
        for name, spent in (("parse", t1 - t0), ("co-re", t2 - t1), ("load", t3 - t2)):
            phases[name].append(spent)
        phases["total"].append(t3 - t0)
    return {name: median_ms(samples) for name, samples in phases.items()}


def main() -> None:
    if os.geteuid() != 0:
        raise SystemExit("bench_core: run as root")
    mnt = tempfile.mkdtemp(prefix="pybpftool-bench-")
    cache = tempfile.mkdtemp(prefix="pybpftool-cache-")  # mkdtemp: 0700, ours
    saved = os.environ.get("PYBPFTOOL_CACHE_DIR")
    os.environ["PYBPFTOOL_CACHE_DIR"] = cache
    try:
        with tempfile.TemporaryDirectory() as tmp, installed_bytecode():
            obj = build(Path(tmp) / "core_kernel.o")
            env = dict(os.environ)
            sh("mount", "-t", "bpf", "bpf", mnt)
            try:
                run(obj, Path(mnt) / "core_kernel", Path(cache), env)
            finally:
                remove_pins(Path(mnt) / "core_kernel")
                subprocess.run(["umount", mnt], capture_output=True)
    finally:
        if saved is None:
            del os.environ["PYBPFTOOL_CACHE_DIR"]
        else:
            os.environ["PYBPFTOOL_CACHE_DIR"] = saved
        shutil.rmtree(cache, ignore_errors=True)
        os.rmdir(mnt)


def run(obj: str, pins: Path, cache: Path, env: dict[str, str]) -> None:
    from pybpftool.btf.target import TargetBtf
    from pybpftool.loader.targetbtf import open_target

    verify = [str(BIN / "pybpftool"), "object", "verify", "--json", obj]
    loadall = ["bpftool", "prog", "loadall", obj, str(pins)]
    for _ in range(2):
        sh(*verify, env=env)  # warms the index cache (and the bytecode of stdlib modules)
    if not list(cache.glob("btf-index-*.bin")):
        raise SystemExit("bench_core: the index cache was not written")
    print(f"core_kernel.o, {RUNS} runs, medians; index cache warm\n")
    print(f"{'command':<30} {'bpftool':>11} {'pybpftool':>11} {'ratio':>7}  target")

    def run_bpftool() -> None:
        subprocess.run(loadall, check=True, capture_output=True)

    def run_verify() -> None:
        subprocess.run(verify, check=True, capture_output=True, env=env)

    theirs = timed(run_bpftool, RUNS, after=lambda: remove_pins(pins))
    ours = timed(run_verify, RUNS)
    row("load all (warm cache)", theirs, ours, "<= 1.5x")
    # Both end with os._exit, as the pybpftool console script does (no interpreter teardown).
    fast_exit = "\nimport os; os._exit(0)"
    interpreter = timed(lambda: sh(sys.executable, "-c", "pass" + fast_exit, env=env), RUNS)
    imports = timed(lambda: sh(sys.executable, "-c", IMPORTS + fast_exit, env=env), RUNS)
    imports -= interpreter
    print(
        f"  = interpreter start {interpreter:.1f} + imports {imports:.1f} + command "
        f"{ours - interpreter - imports:.1f} ms"
    )
    phases = in_process(obj)
    row("  in process", theirs, phases["total"], "(no interpreter start, no imports)")
    print(
        f"  = parse {phases['parse']:.1f} + co-re {phases['co-re']:.1f} (index from the "
        f"cache included) + kernel {phases['load']:.1f} ms\n"
    )

    with open(KERNEL_BTF, "rb") as f:
        raw = f.read()
    cold = timed(lambda: TargetBtf(raw), INDEX_RUNS)
    row(f"index from cold ({len(raw) >> 10} KiB)", None, cold, "target <= 400 ms")
    warm = timed(lambda: open_target(KERNEL_BTF), INDEX_RUNS)
    row("index from warm cache", None, warm, "open_target: read + decode")


if __name__ == "__main__":
    main()
