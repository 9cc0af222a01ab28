"""bench_bounds: what a rejected program with a huge verifier log costs, beside tc.

Objects hold 1, 2 and 4 classifiers that the verifier walks for LEN straight instructions
and then refuses (tests/bpf/long_log.c: about 50 bytes of level-1 log per instruction, so
LEN=300,000 gives a 15 MB log each). Rows: `pybpftool object verify --json` (every program),
`pytc filter add ... verbose` beside `tc filter add ... verbose` (the first program; tc
6.1 with libbpf 1.1.2 loads BTF objects like these) with peak RSS and wall time, and
`object verify` with a raised `--log-size`, and pytc and tc on the object of 4 (the first
program loaded, all 4 parsed). The target (issue 20): a rejected program costs at most 64 MiB
of RSS for the whole command, and verify grows linearly with the rejected programs.
Run as root: .venv/bin/python benchmarks/bench_bounds.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bytecode import installed_bytecode  # noqa: E402

BIN = Path(sys.executable).parent
LEN = 300_000
PROGRAM = """
SEC("classifier") int long_path_{i}(struct __sk_buff *skb)
{{
    asm volatile("r0 = 0\\n.rept {len}\\nr0 += 1\\n.endr\\n"
        "r0 = *(u32 *)(r2 + 0)\\n" ::: "r0", "r2");
    return 0;
}}
"""


def sh(*cmd: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(cmd, check=True, capture_output=True, env=env)


def build(folder: Path, programs: int) -> str:
    """build: an object of `programs` rejected classifiers with LEN-instruction paths."""
    source = folder / f"long{programs}.c"
    body = "".join(PROGRAM.format(i=i, len=LEN) for i in range(programs))
    source.write_text(f'#include "bpf_defs.h"\n{body}char LICENSE[] SEC("license") = "GPL";\n')
    out = folder / f"long{programs}.o"
    include = f"-I{ROOT}/tests/bpf/include"
    sh("clang-14", "-O2", "-g", "-target", "bpf", include, "-c", str(source), "-o", str(out))
    return str(out)


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """measure: peak RSS (MiB), wall time (s) and exit status of one run of `cmd`."""
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True, env=env
    )
    wall = time.perf_counter() - start
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    return peak_kib / 1024, wall, done.returncode


def row(name: str, rss: float, wall: float, note: str = "") -> None:
    print(f"  {name:<44} {rss:7.1f} MiB {wall:7.2f} s  {note}")


def main() -> None:
    ns = f"pybpftool-bench-{os.getpid()}"
    mnt = tempfile.mkdtemp(prefix="pybpftool-bench-")
    with tempfile.TemporaryDirectory() as tmp, installed_bytecode():
        objects = {n: build(Path(tmp), n) for n in (1, 2, 4)}
        sh("ip", "netns", "add", ns)
        try:
            sh("mount", "-t", "bpf", "bpf", mnt)
            env = {**os.environ, "TC_BPF_MNT": mnt}
            sh("ip", "-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
            sh("tc", "-n", ns, "qdisc", "add", "dev", "v0", "clsact")
            print(f"rejected programs with a {LEN * 50 / 1e6:.0f} MB verifier log each")
            print("pybpftool object verify --type sched_cls --json (target <= 64 MiB per program)")
            verify = [str(BIN / "pybpftool"), "object", "verify", "--type", "sched_cls", "--json"]
            for n, obj in objects.items():
                rss, wall, _ = measure([*verify, obj], env)
                row(f"{n} rejected", rss, wall, f"{rss / n:5.1f} MiB and {wall / n:5.2f} s each")
            rss, wall, _ = measure([*verify, "--log-size", "16M", objects[1]], env)
            row("1 rejected, --log-size 16M", rss, wall)
            print("filter add ... verbose of a rejected program (tc 6.1 beside pytc)")
            argv = ["-n", ns, "filter", "add", "dev", "v0", "ingress", "bpf", "da", "obj"]
            args = [*argv, objects[1], "sec", "classifier", "verbose"]
            tc_rss, tc_wall, _ = measure(["tc", *args], env)
            row("tc", tc_rss, tc_wall)
            rss, wall, _ = measure([str(BIN / "pytc"), *args], env)
            row("pytc", rss, wall, f"{rss / tc_rss:4.2f}x RSS, {wall / tc_wall:4.2f}x time")
            rss, wall, _ = measure([str(BIN / "pytc"), *args[:-1]], env)
            row("pytc (no verbose)", rss, wall)
            args = [*argv, objects[4], "sec", "classifier", "verbose"]  # parses all 4
            tc_rss, tc_wall, _ = measure(["tc", *args], env)
            row("tc, object of 4 rejected", tc_rss, tc_wall)
            rss, wall, _ = measure([str(BIN / "pytc"), *args], env)
            note = f"{rss / tc_rss:4.2f}x RSS, {wall / tc_wall:4.2f}x time"
            row("pytc, object of 4 rejected", rss, wall, note)
        finally:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            subprocess.run(["umount", mnt], capture_output=True)
            os.rmdir(mnt)


if __name__ == "__main__":
    main()
