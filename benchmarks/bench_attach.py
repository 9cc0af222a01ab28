"""bench_attach: cold `pyip link set ... xdp obj` and `pytc filter replace ... bpf da obj`
against ip/tc, side by side in one run, on a throwaway namespace; prints medians and ratios.

Targets (issue 4): at most 100 ms median per cold pyip/pytc command; `-batch` with 100
attach lines at most 2x iproute2's `-batch` per line.
Run as root: .venv/bin/python benchmarks/bench_attach.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RUNS = 15
BATCH_LINES = 100


def sh(*cmd: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(cmd, check=True, capture_output=True, env=env)


def median_ms(cmd: list[str], env: dict[str, str], runs: int = RUNS) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    sh("make", "-s", "-C", str(ROOT / "examples"))
    xdp = str(ROOT / "examples/xdp_counter.o")
    ns = f"pybpftool-bench-{os.getpid()}"
    mnt = tempfile.mkdtemp(prefix="pybpftool-bench-")
    with tempfile.TemporaryDirectory() as tmp:
        cls = f"{tmp}/twin_btf.o"
        sh(
            "clang-14",
            "-O2",
            "-g",
            "-target",
            "bpf",
            f"-I{ROOT}/tests/bpf/include",
            "-c",
            str(ROOT / "tests/bpf/twin_btf.c"),
            "-o",
            cls,
        )
        sh("ip", "netns", "add", ns)
        try:
            sh("mount", "-t", "bpf", "bpf", mnt)
            env = {**os.environ, "TC_BPF_MNT": mnt}
            sh("ip", "-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
            sh("tc", "-n", ns, "qdisc", "add", "dev", "v0", "clsact")
            pairs = [
                (
                    "link set xdp",
                    ["ip"],
                    [str(BIN / "pyip")],
                    [
                        "-n",
                        ns,
                        "-force",
                        "link",
                        "set",
                        "dev",
                        "v0",
                        "xdp",
                        "obj",
                        xdp,
                        "sec",
                        "xdp",
                    ],
                ),
                (
                    "filter replace",
                    ["tc"],
                    [str(BIN / "pytc")],
                    [
                        "-n",
                        ns,
                        "filter",
                        "replace",
                        "dev",
                        "v0",
                        "ingress",
                        "pref",
                        "1",
                        "handle",
                        "1",
                        "bpf",
                        "da",
                        "obj",
                        cls,
                        "sec",
                        "classifier",
                    ],
                ),
            ]
            print(f"{'command':<16} {'iproute2':>10} {'pybpftool':>10} {'ratio':>7}  target")
            for name, theirs, ours, args in pairs:
                t = median_ms([*theirs, *args], env)
                o = median_ms([*ours, *args], env)
                print(f"{name:<16} {t:8.1f} ms {o:8.1f} ms {o / t:6.1f}x  <= 100 ms")
            batch = Path(tmp) / "batch"
            line = f"link set dev v0 xdp obj {xdp} sec xdp\n"
            batch.write_text(line * BATCH_LINES)
            args = ["-n", ns, "-force", "-batch", str(batch)]
            t = median_ms(["ip", *args], env, runs=5) / BATCH_LINES
            o = median_ms([str(BIN / "pyip"), *args], env, runs=5) / BATCH_LINES
            print(f"{'-batch per line':<16} {t:8.1f} ms {o:8.1f} ms {o / t:6.1f}x  <= 2x")
        finally:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            subprocess.run(["umount", mnt], capture_output=True)
            os.rmdir(mnt)


if __name__ == "__main__":
    main()
