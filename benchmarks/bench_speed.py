"""bench_speed: issue 19's targets, side by side in one run: medians, every ratio printed.

Rows (each pair alternates, run after run, so that this shared machine's drift hits both):
- cold `pytc filter replace`, `pytc filter show`, `pyip link show` against floor.py, a
  stdlib-only script doing the same job (checked first: the same program tag, the same
  output), target 1.5x; tc and ip are shown beside them;
- cold `pyip link set dev D xdpgeneric obj F sec xdp` against ip, target 2x;
- `pyip -V` and `pytc -V` against `python -c pass` on the same interpreter, target 1.2x;
- `-batch` of 100 and 1,000 `filter replace` lines against `tc -batch` (per line, target
  1.5x) and 1,000 against 100 (target 10.5x); the same for ip -batch with XDP lines;
- `pybpftool object verify --json` (and its table) of a CO-RE object, warm index cache,
  against `bpftool prog loadall` (its pins removed between runs, untimed): 3x and 4x;
- what each cold limit leaves once the imports the rules keep are paid (typing for the
  NamedTuples, logging with pyroute2.netlink, click for verify; timed alone, with the
  interpreter's start; for the XDP attach, plus the kernel's time in ip);
- peak RSS of the attach commands (target 20 MiB);
- where each cold command's time goes: the modules it imports that `python -c pass` does not,
  by their own (self) import time from `python -X importtime`, grouped and summarised.
CPU time (user + system) is printed beside wall time: on a loaded machine it moves less.

Run it with the interpreter of the install to measure, as root: the issue's table is a
non-editable install (python3 -m venv /tmp/inst && /tmp/inst/bin/pip install . &&
/tmp/inst/bin/python benchmarks/bench_speed.py); with the checkout's editable .venv the
package's bytecode is compiled in place first (bytecode.py). --quick: fewer runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bytecode import installed_bytecode  # noqa: E402

PY = sys.executable
BIN = Path(PY).parent
FLOOR = str(ROOT / "benchmarks" / "floor.py")
MiB = 1024 * 1024


class Sample(NamedTuple):
    """Sample: the medians of one command's runs: wall and CPU time (ms), peak RSS (MiB)."""

    wall: float
    cpu: float
    rss: float


class Scene(NamedTuple):
    """Scene: where the commands run: a netns with veth v0/v1 (clsact on v0), a private
    bpffs, the objects built from C, and the environment pointing pybpftool at both."""

    ns: str
    mnt: Path
    tmp: Path
    env: dict[str, str]
    tc_obj: str
    xdp_obj: str
    core_obj: str


def run_once(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """run_once: wall ms, CPU ms and peak RSS MiB of one run of `cmd` (output discarded)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - start) * 1000
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if proc.returncode:
        raise SystemExit(f"bench_speed: {' '.join(cmd)} failed ({proc.returncode}): {err[-400:]!r}")
    return wall, (usage.ru_utime + usage.ru_stime) * 1000, usage.ru_maxrss / 1024


def alternate(
    cmds: list[list[str]],
    env: dict[str, str],
    runs: int,
    after: Callable[[], object] | None = None,
) -> list[Sample]:
    """alternate: each command once per round, `runs` rounds; the medians of each.
    `after` runs untimed after every command (removing what it made)."""
    samples: list[list[tuple[float, float, float]]] = [[] for _ in cmds]
    for _ in range(runs):
        for cmd, out in zip(cmds, samples, strict=True):
            out.append(run_once(cmd, env))
            if after is not None:
                after()
    return [
        Sample(*(statistics.median(s[i] for s in out) for i in range(3))) for out in samples
    ]


def output(cmd: list[str], env: dict[str, str]) -> str:
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout


RESULTS: list[tuple[str, str, float, float, float, str]] = []


def ratio_row(name: str, anchor: str, theirs: Sample, ours: Sample, limit: float) -> None:
    """ratio_row: print one target's row (wall ratio; CPU ratio beside) and keep it for the
    summary."""
    ratio = ours.wall / theirs.wall
    met = "met" if ratio <= limit else "NOT met"
    print(
        f"  {name:<34} {anchor:<16} {theirs.wall:8.2f} {ours.wall:8.2f} ms  {ratio:6.2f}x"
        f"  (cpu {theirs.cpu:6.1f} {ours.cpu:6.1f} ms {ours.cpu / theirs.cpu:5.2f}x)"
        f"  <= {limit}x {met}"
    )
    RESULTS.append((name, anchor, theirs.wall, ours.wall, ratio, f"<= {limit}x {met}"))


def info_row(name: str, sample: Sample) -> None:
    print(f"  {name:<51} {sample.wall:8.2f} ms  (cpu {sample.cpu:6.1f} ms)")


# --- the scene ----------------------------------------------------------------------------


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def build(src: Path, out: Path) -> str:
    sh("clang-14", "-O2", "-g", "-target", "bpf", f"-I{ROOT}/tests/bpf/include", "-c", str(src),
       "-o", str(out))  # fmt: skip
    return str(out)


@contextlib.contextmanager
def scene() -> Iterator[Scene]:
    ns = f"pybpftool-speed-{os.getpid()}"
    mnt = Path(tempfile.mkdtemp(prefix="pybpftool-speed-mnt-"))
    cache = tempfile.mkdtemp(prefix="pybpftool-speed-cache-")
    with tempfile.TemporaryDirectory(prefix="pybpftool-speed-") as tmp:
        objs = [
            build(ROOT / src, Path(tmp) / Path(src).with_suffix(".o").name)
            for src in ("benchmarks/bpf/tc_count.c", "tests/bpf/xdp_pass.c",
                        "tests/bpf/core_kernel.c")
        ]  # fmt: skip
        sh("ip", "netns", "add", ns)
        try:
            sh("mount", "-t", "bpf", "bpf", str(mnt))
            sh("ip", "-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
            for dev in ("v0", "v1"):
                sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("tc", "-n", ns, "qdisc", "add", "dev", "v0", "clsact")
            env = {**os.environ, "TC_BPF_MNT": str(mnt), "PYBPFTOOL_CACHE_DIR": cache}
            yield Scene(ns, mnt, Path(tmp), env, *objs)
        finally:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            subprocess.run(["umount", str(mnt)], capture_output=True)
            mnt.rmdir()
            shutil.rmtree(cache, ignore_errors=True)


# --- the rows -----------------------------------------------------------------------------


def replace_args(s: Scene) -> list[str]:
    return ["filter", "replace", "dev", "v0", "ingress", "pref", "1", "handle", "1", "bpf",
            "da", "obj", s.tc_obj, "sec", "tc"]  # fmt: skip


def xdp_args(s: Scene) -> list[str]:
    return ["-force", "link", "set", "dev", "v1", "xdpgeneric", "obj", s.xdp_obj, "sec", "xdp"]


def attached_tag(s: Scene) -> str:
    shown = output(["tc", "-n", s.ns, "filter", "show", "dev", "v0", "ingress"], s.env)
    return shown.split(" tag ")[1].split()[0]


def check_floor(s: Scene) -> None:
    """check_floor: floor.py does the job pybpftool does: the same tag, the same output."""
    pytc, pyip = str(BIN / "pytc"), str(BIN / "pyip")
    tags = []
    for cmd in (
        [PY, FLOOR, "replace", s.ns, "v0", s.tc_obj, "tc"],
        [pytc, "-n", s.ns, *replace_args(s)],
        ["tc", "-n", s.ns, *replace_args(s)],
    ):
        output(cmd, s.env)
        tags.append(attached_tag(s))
    if len(set(tags)) != 1:
        raise SystemExit(f"bench_speed: floor, pytc and tc attach different tags: {tags}")
    output([pyip, "-n", s.ns, *xdp_args(s)], s.env)  # link show then shows an XDP program
    for floor, ours, theirs in (
        (["filter-show", s.ns, "v0"], [pytc, "-n", s.ns, "filter", "show", "dev", "v0",
                                       "ingress"], "tc"),
        (["link-show", s.ns], [pyip, "-n", s.ns, "link", "show"], "ip"),
    ):  # fmt: skip
        texts = {output([PY, FLOOR, *floor], s.env), output(ours, s.env)}
        texts.add(output([theirs, *ours[1:]], s.env))
        if len(texts) != 1:
            raise SystemExit(f"bench_speed: floor.py {floor[0]} prints other text than {ours}")


def cold_rows(s: Scene, runs: int) -> None:
    pytc, pyip, ns = str(BIN / "pytc"), str(BIN / "pyip"), s.ns
    print("cold commands (vs floor.py; tc and ip for reference)")
    jobs = [
        ("pytc filter replace", ["replace", ns, "v0", s.tc_obj, "tc"],
         [pytc, "-n", ns, *replace_args(s)], "tc"),
        ("pytc filter show", ["filter-show", ns, "v0"],
         [pytc, "-n", ns, "filter", "show", "dev", "v0", "ingress"], "tc"),
        ("pyip link show", ["link-show", ns], [pyip, "-n", ns, "link", "show"], "ip"),
    ]  # fmt: skip
    for name, floor, ours, tool in jobs:
        floor_s, ours_s, tool_s = alternate(
            [[PY, FLOOR, *floor], ours, [tool, *ours[1:]]], s.env, runs
        )
        ratio_row(name, "floor.py", floor_s, ours_s, 1.5)
        info_row(f"  {tool} {name.split(' ', 1)[1]}", tool_s)
    ip_s, ours_s = alternate([["ip", "-n", ns, *xdp_args(s)], [pyip, "-n", ns, *xdp_args(s)]],
                             s.env, runs)  # fmt: skip
    ratio_row("pyip link set xdpgeneric obj", "ip", ip_s, ours_s, 2.0)
    base, ip_v, tc_v = alternate([[PY, "-c", "pass"], [pyip, "-V"], [pytc, "-V"]], s.env, runs)
    ratio_row("pyip -V", "python -c pass", base, ip_v, 1.2)
    ratio_row("pytc -V", "python -c pass", base, tc_v, 1.2)


def batch_rows(s: Scene, runs: int) -> None:
    print("-batch (per line; 1000 lines against 100)")
    for tool, ours, line in (
        ("tc", "pytc", " ".join(replace_args(s))),
        ("ip", "pyip", " ".join(xdp_args(s)[1:])),
    ):
        per_line: dict[int, list[Sample]] = {}
        for lines in (100, 1000):
            path = s.tmp / f"{tool}-{lines}.batch"
            path.write_text(f"{line}\n" * lines)
            args = ["-n", s.ns, *(["-force"] if tool == "ip" else []), "-batch", str(path)]
            pair = alternate([[tool, *args], [str(BIN / ours), *args]], s.env, runs)
            per_line[lines] = [Sample(p.wall / lines, p.cpu / lines, p.rss) for p in pair]
            ratio_row(f"{ours} -batch {lines}, per line", f"{tool} -batch", *per_line[lines], 1.5)
        theirs_growth, ours_growth = (
            per_line[1000][i].wall * 1000 / (per_line[100][i].wall * 100) for i in (0, 1)
        )
        met = "met" if ours_growth <= 10.5 else "NOT met"
        print(f"  1000 lines / 100 lines: {tool} {theirs_growth:5.2f}x, {ours} "
              f"{ours_growth:5.2f}x  <= 10.5x {met}")  # fmt: skip
        RESULTS.append((f"{ours} -batch 1000/100 lines", f"{tool} (x, ratio)", theirs_growth,
                        ours_growth, ours_growth, f"<= 10.5x {met}"))  # fmt: skip


def verify_rows(s: Scene, runs: int) -> None:
    pins = s.mnt / "core_kernel"
    verify = [str(BIN / "pybpftool"), "object", "verify", s.core_obj]
    for _ in range(2):
        output([*verify, "--json"], s.env)  # warms the CO-RE index cache
    print("object verify of core_kernel.o (warm CO-RE index cache)")
    theirs, as_json, table = alternate(
        [["bpftool", "prog", "loadall", s.core_obj, str(pins)], [*verify, "--json"], verify],
        s.env,
        runs,
        after=lambda: remove_pins(s),
    )
    ratio_row("object verify --json", "bpftool loadall", theirs, as_json, 3.0)
    ratio_row("object verify (table)", "bpftool loadall", theirs, table, 4.0)


# What the rules keep, imported alone: what floor.py imports (ctypes, socket, struct) and the
# modules no cold command of ours can leave out: typing (every NamedTuple) and logging
# (pyroute2.netlink, which stays the netlink layer, imports it); for object verify, click
# (which stays its CLI) with typing and ctypes.
KEPT_IMPORTS = "import ctypes, socket, struct, typing, logging"
VERIFY_IMPORTS = "import ctypes, typing, click"


def limit_rows(s: Scene, runs: int) -> None:
    """limit_rows: what each cold limit leaves once the imports the rules keep are paid. A
    command that keeps them takes at least as long as importing them alone (the interpreter's
    start included); the XDP attach also waits for the kernel's swap (ip's wall less its CPU).
    What is left under the limit is all pyroute2's, our modules' and the work's."""
    kept_cmds = [[PY, "-c", code] for code in (KEPT_IMPORTS, VERIFY_IMPORTS)]
    floors = [[PY, FLOOR, *job] for job in (["replace", s.ns, "v0", s.tc_obj, "tc"],
                                             ["filter-show", s.ns, "v0"], ["link-show", s.ns])]
    anchors = [["ip", "-n", s.ns, *xdp_args(s)],
               ["bpftool", "prog", "loadall", s.core_obj, str(s.mnt / "core_kernel")]]
    kept, verify_kept, *floor_jobs, ip, loadall = alternate(
        [*kept_cmds, *floors, *anchors], s.env, runs, after=lambda: remove_pins(s)
    )  # fmt: skip
    print("what the limits leave (the imports the rules keep, imported alone)")
    print(f"  python -c '{KEPT_IMPORTS}' {kept.wall:8.2f} ms; "
          f"python -c '{VERIFY_IMPORTS}' {verify_kept.wall:8.2f} ms")
    names = ("pytc filter replace", "pytc filter show", "pyip link show")
    least = [(name, "floor.py", job.wall, 1.5, kept.wall)
             for name, job in zip(names, floor_jobs, strict=True)]
    least.append(("pyip link set xdp", "ip", ip.wall, 2.0, kept.wall + ip.wall - ip.cpu))
    least.append(("object verify --json", "bpftool", loadall.wall, 3.0, verify_kept.wall))
    for name, anchor, theirs, limit, ms in least:
        print(f"  {name:<22} {limit}x {anchor:<8} {theirs:6.2f} = {limit * theirs:6.2f} ms; "
              f"the kept imports{' and the swap' if anchor == 'ip' else ''} {ms:6.2f} ms "
              f"leave {limit * theirs - ms:6.2f} ms for the rest")


def remove_pins(s: Scene) -> None:
    """remove_pins: what `bpftool prog loadall` pinned (untimed, between runs)."""
    pins = s.mnt / "core_kernel"
    if pins.is_dir():
        for pin in pins.iterdir():
            pin.unlink()
        pins.rmdir()


def rss_rows(s: Scene) -> None:
    print("peak RSS of attach commands (target <= 20 MiB)")
    batch = s.tmp / "rss-100.batch"
    batch.write_text(f"{' '.join(replace_args(s))}\n" * 100)
    for name, cmd in (
        ("pyip link set xdpgeneric obj", [str(BIN / "pyip"), "-n", s.ns, *xdp_args(s)]),
        ("pytc filter replace", [str(BIN / "pytc"), "-n", s.ns, *replace_args(s)]),
        ("pytc -batch 100 replace lines", [str(BIN / "pytc"), "-n", s.ns, "-batch", str(batch)]),
    ):
        rss = alternate([cmd], s.env, 3)[0].rss
        met = "met" if rss <= 20 else "NOT met"
        print(f"  {name:<51} {rss:8.1f} MiB  <= 20 MiB {met}")
        RESULTS.append((f"peak RSS {name}", "20 MiB", 20.0, rss, rss / 20, f"<= 20 MiB {met}"))


# --- where the time goes ------------------------------------------------------------------


def import_selves(cmd: list[str], env: dict[str, str], runs: int) -> dict[str, float]:
    """import_selves: the median self import time (ms) of every module `cmd` imports, from
    python's import profile (a module a run did not import counts 0 in that run)."""
    seen: dict[str, list[float]] = defaultdict(list)
    for _ in range(runs):
        err = subprocess.run(
            cmd, env={**env, "PYTHONPROFILEIMPORTTIME": "1"}, capture_output=True, text=True
        ).stderr
        for line in err.splitlines():
            if line.startswith("import time:") and "self [us]" not in line:
                self_us, _, name = line.removeprefix("import time:").split("|")
                seen[name.strip()].append(int(self_us) / 1000)
    return {name: statistics.median([*v, *[0.0] * (runs - len(v))]) for name, v in seen.items()}


GROUPS = ("pyroute2", "click", "rich", "pygments", "markdown_it")


def group_of(module: str) -> str:
    top, _, rest = module.partition(".")
    if top == "pybpftool":
        return "pybpftool." + rest.split(".")[0] if rest else "pybpftool"
    return top if top in GROUPS else "stdlib"


def breakdown(s: Scene, runs: int) -> None:
    """breakdown: for each cold command, its imports beyond `python -c pass` by group and the
    costliest modules (self time under the profiler, which inflates it; the sums compare)."""
    pytc, pyip, ns = str(BIN / "pytc"), str(BIN / "pyip"), s.ns
    base = set(import_selves([PY, "-c", "pass"], s.env, 1))
    print("where cold commands go: imports beyond `python -c pass` (profiled self ms)")
    for name, cmd in (
        ("pytc filter replace", [pytc, "-n", ns, *replace_args(s)]),
        ("pytc filter show", [pytc, "-n", ns, "filter", "show", "dev", "v0", "ingress"]),
        ("pyip link show", [pyip, "-n", ns, "link", "show"]),
        ("pyip link set xdpgeneric", [pyip, "-n", ns, *xdp_args(s)]),
        ("pyip -V", [pyip, "-V"]),
        ("pybpftool object verify --json", [str(BIN / "pybpftool"), "object", "verify",
                                            "--json", s.core_obj]),
    ):  # fmt: skip
        selves = {m: t for m, t in import_selves(cmd, s.env, runs).items() if m not in base}
        groups: dict[str, float] = defaultdict(float)
        for module, spent in selves.items():
            groups[group_of(module)] += spent
        ranked = sorted(groups.items(), key=lambda kv: -kv[1])
        top = sorted(selves.items(), key=lambda kv: -kv[1])[:8]
        print(f"  {name}: {sum(selves.values()):.1f} ms in {len(selves)} modules")
        print("    by group: " + ", ".join(f"{g} {t:.1f}" for g, t in ranked[:9]))
        print("    modules:  " + ", ".join(f"{m} {t:.1f}" for m, t in top))


def summary() -> None:
    print("\nsummary: target, anchor, anchor, ours, ratio, limit")
    for name, anchor, theirs, ours, ratio, verdict in RESULTS:
        print(f"  {name:<38} {anchor:<16} {theirs:8.2f} {ours:8.2f} {ratio:6.2f}x  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs (a first look)")
    parser.add_argument("--only", choices=("cold", "limits", "batch", "verify", "rss", "imports"),
                        action="append", help="run only these parts (repeatable)")  # fmt: skip
    opts = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench_speed: run as root")
    runs, batch_runs, import_runs = (7, 1, 3) if opts.quick else (21, 3, 7)
    import pybpftool

    editable = Path(pybpftool.__file__).resolve().is_relative_to(ROOT)
    install = "editable checkout, bytecode compiled in place" if editable else "non-editable"
    print(f"pybpftool from {Path(pybpftool.__file__).parent} ({install}); python {PY}")
    parts = opts.only or ["cold", "limits", "batch", "verify", "rss", "imports"]
    with installed_bytecode() if editable else contextlib.nullcontext(), scene() as s:
        check_floor(s)
        for part, run in (
            ("cold", lambda: cold_rows(s, runs)),
            ("limits", lambda: limit_rows(s, runs)),
            ("batch", lambda: batch_rows(s, batch_runs)),
            ("verify", lambda: verify_rows(s, runs)),
            ("rss", lambda: rss_rows(s)),
            ("imports", lambda: breakdown(s, import_runs)),
        ):
            if part in parts:
                run()
    summary()


if __name__ == "__main__":
    main()
