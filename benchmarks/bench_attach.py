"""bench_attach: pyip/pytc against ip/tc, side by side in one run, printing ratios.

Rows: cold `-V`; cold attach of a small XDP example and of a verifier-heavy program at two
weights (~0.1 s and ~0.9 s of verification: the ratio is 1 + our fixed cost / theirs); cold
`pytc filter replace`; `-batch` of 100 attach lines (per line); how a `-batch` of `filter
replace` lines scales (1,000 lines against 100: linear is 10x); peak memory of each command;
and where a cold pyip attach spends its time (interpreter, our imports, pyroute2, parse,
kernel and the rest). Targets (issues 4, 8 and 20) are printed beside each row.
Commands run with their bytecode compiled beforehand, as an installed package (bytecode.py).
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
sys.path.insert(0, str(ROOT / "benchmarks"))

from bytecode import installed_bytecode  # noqa: E402

BIN = Path(sys.executable).parent
RUNS = 21
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


def paired_medians(
    theirs: list[str], ours: list[str], env: dict[str, str], runs: int = RUNS
) -> tuple[float, float]:
    """paired_medians: both commands run alternately, so drift on this shared machine hits
    both alike; their medians in ms."""
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for cmd, out in ((theirs, samples[0]), (ours, samples[1])):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, env=env)
            out.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples[0]), statistics.median(samples[1])


def peak_mib(cmd: list[str], env: dict[str, str]) -> float:
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True, env=env, check=True
    )
    return int(out.stderr.strip().splitlines()[-1]) / 1024


def python_ms(code: str) -> float:
    """python_ms: a `python -c code` process that ends as the console scripts do (os._exit,
    no interpreter teardown), so the breakdown's parts subtract from the command's total."""
    return median_ms([sys.executable, "-c", f"{code}\nimport os; os._exit(0)"], dict(os.environ))


def build(src: Path, out: Path, *defines: str) -> str:
    sh(
        "clang-14",
        *defines,
        "-O2",
        "-g",
        "-target",
        "bpf",
        f"-I{ROOT}/tests/bpf/include",
        "-c",
        str(src),
        "-o",
        str(out),
    )
    return str(out)


def row(name: str, theirs: float, ours: float, target: str) -> None:
    print(f"{name:<22} {theirs:8.1f} ms {ours:8.1f} ms {ours / theirs:6.2f}x  {target}")


def main() -> None:
    ns = f"pybpftool-bench-{os.getpid()}"
    mnt = tempfile.mkdtemp(prefix="pybpftool-bench-")
    with tempfile.TemporaryDirectory() as tmp, installed_bytecode():
        small = build(ROOT / "examples/xdp_counter.c", Path(tmp) / "xdp_counter.o")
        heavy = build(ROOT / "benchmarks/bpf/heavy.c", Path(tmp) / "heavy.o")
        heavier = build(ROOT / "benchmarks/bpf/heavy.c", Path(tmp) / "heavier.o", "-DLOOPS=80")
        cls = build(ROOT / "tests/bpf/twin_btf.c", Path(tmp) / "twin_btf.o")
        sh("ip", "netns", "add", ns)
        try:
            sh("mount", "-t", "bpf", "bpf", mnt)
            env = {**os.environ, "TC_BPF_MNT": mnt}
            sh("ip", "-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
            sh("tc", "-n", ns, "qdisc", "add", "dev", "v0", "clsact")
            ip, pyip, tc, pytc = ["ip"], [str(BIN / "pyip")], ["tc"], [str(BIN / "pytc")]
            xdp = ["-n", ns, "-force", "link", "set", "dev", "v0", "xdp", "obj"]
            flt = [
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
            ]
            cases = [
                ("-V", ip, pyip, ["-V"], "pyip <= 25 ms"),
                ("xdp attach (small)", ip, pyip, [*xdp, small, "sec", "xdp"], "pyip <= 90 ms"),
                ("xdp attach (heavy)", ip, pyip, [*xdp, heavy, "sec", "xdp"], "<= 1.15x"),
                ("xdp attach (heavier)", ip, pyip, [*xdp, heavier, "sec", "xdp"], "<= 1.15x"),
                ("filter replace", tc, pytc, flt, "pytc <= 90 ms"),
            ]
            print(f"{'command':<22} {'iproute2':>11} {'pybpftool':>11} {'ratio':>7}  target")
            for name, theirs, ours, args, target in cases:
                row(name, *paired_medians([*theirs, *args], [*ours, *args], env), target)
            batch = Path(tmp) / "batch"
            batch.write_text(f"link set dev v0 xdp obj {small} sec xdp\n" * BATCH_LINES)
            args = ["-n", ns, "-force", "-batch", str(batch)]
            t, o = paired_medians([*ip, *args], [*pyip, *args], env, runs=5)
            row("-batch, per line", t / BATCH_LINES, o / BATCH_LINES, "<= 1.5x")
            batch_scaling(env, ns, cls)
            print("\npeak memory (max RSS)")
            for name, cmd in (
                ("pyip -V", [*pyip, "-V"]),
                ("pyip xdp attach", [*pyip, *xdp, small, "sec", "xdp"]),
                ("pytc filter replace", [*pytc, *flt]),
                ("pyip -batch 100", [*pyip, *args]),
            ):
                print(f"  {name:<22} {peak_mib(cmd, env):6.1f} MiB   target <= 60 MiB")
            breakdown(env, [*pyip, *xdp, small, "sec", "xdp"], small)
        finally:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            subprocess.run(["umount", mnt], capture_output=True)
            os.rmdir(mnt)


def batch_scaling(env: dict[str, str], ns: str, cls: str) -> None:
    """batch_scaling: a -batch of 100 and of 1,000 `filter replace` lines of one object, tc
    and pytc alternating; each tool's time for 1,000 over its time for 100 (10x is linear;
    the per-run sandbox policy used to make pytc's quadratic: 28x)."""
    line = f"filter replace dev v0 ingress pref 1 handle 1 bpf da obj {cls} sec classifier\n"
    times: dict[int, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for count in (100, 1000):
            batch = Path(tmp) / f"batch{count}"
            batch.write_text(line * count)
            args = ["-n", ns, "-batch", str(batch)]
            times[count] = paired_medians(["tc", *args], [str(BIN / "pytc"), *args], env, runs=3)
    (t100, o100), (t1000, o1000) = times[100], times[1000]
    print(
        f"\n-batch of filter replace: 100 lines tc {t100:.0f} ms, pytc {o100:.0f} ms; "
        f"1,000 lines tc {t1000:.0f} ms, pytc {o1000:.0f} ms"
    )
    print(
        f"  1,000 lines / 100 lines: tc {t1000 / t100:.1f}x, pytc {o1000 / o100:.1f}x"
        "   target pytc <= 10.5x"
    )


def first_parse_ms(obj: str) -> float:
    """first_parse_ms: a fresh process's first parse_object of `obj`, timed inside it (a
    difference of two process medians would drown its few milliseconds in noise)."""
    code = (
        "import time; from pybpftool.parser import parse_object; t = time.perf_counter(); "
        f"parse_object({obj!r}); print((time.perf_counter() - t) * 1000)"
    )
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(RUNS)
    ]
    return statistics.median(runs)


def breakdown(env: dict[str, str], cmd: list[str], obj: str) -> None:
    """breakdown: where a cold pyip attach spends its time (medians, subtractive)."""
    total = median_ms(cmd, env)
    interpreter = python_ms("pass")
    ours = (
        python_ms(
            "import pybpftool.cli.ip.main, pybpftool.cli.ip.link, pybpftool.cli.common.attach, "
            "pybpftool.loader, pybpftool.parser, pybpftool.kernel.bpf"
        )
        - interpreter
    )
    # An XDP attach uses the light codecs: pyroute2.netlink only, under the console scripts'
    # cold-start stub (without it, pyroute2's package __init__ imports all of pyroute2).
    stub = (
        "from pybpftool.cli.common.coldstart import install_pyroute2_stub\n"
        "install_pyroute2_stub()"
    )
    codecs = "from pybpftool.netlink.codecs import light_codecs; light_codecs()"
    pyroute2 = python_ms(f"{stub}\n{codecs}")
    pyroute2 -= python_ms(stub)
    parse = first_parse_ms(obj)
    rest = total - interpreter - ours - pyroute2 - parse
    print(
        f"\ncold pyip xdp attach: {total:.1f} ms = interpreter {interpreter:.1f} + our imports "
        f"{ours:.1f} + pyroute2 imports {pyroute2:.1f} + parse {parse:.1f} + kernel and rest "
        f"{rest:.1f}"
    )


if __name__ == "__main__":
    main()
