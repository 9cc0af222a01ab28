"""bench_txn: what the pin transaction costs, and how late the race test's failure comes.

Rows, side by side with tc (on twin_btf, whose counter and map-in-map are pinned by name; tc
cannot load txn_btf, whose static prog array names programs libbpf does not load for tc):
- `filter replace` on an empty bpffs (a first load: maps created, filled and published under
  the pin-folder lock) and with the pins in place (reused, checked again under the lock);
- txn_slow, the late failure of tests/privileged/test_concurrency.py: the verifier's time on
  its classifier without a log (the first load) and the whole `pytc filter add` until it is
  refused (with the logged retries that fetch the verifier's log). The race test needs this
  to be seconds, so that eight commands run while it verifies.
Run as root: .venv/bin/python benchmarks/bench_txn.py
"""

from __future__ import annotations

import os
import shutil
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
RUNS = 11


def sh(*cmd: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(cmd, check=True, capture_output=True, env=env)


def build(name: str, out: Path) -> str:
    src = ROOT / "tests" / "bpf" / f"{name}.c"
    sh("clang-14", "-O2", "-g", "-target", "bpf", f"-I{ROOT}/tests/bpf/include", "-c", str(src),
       "-o", str(out))  # fmt: skip
    return str(out)


def timed_ms(cmd: list[str], env: dict[str, str], before: list[list[str]]) -> float:
    for prep in before:
        subprocess.run(prep, capture_output=True, env=env)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return (time.perf_counter() - start) * 1000


def paired(theirs: list[str], ours: list[str], env: dict[str, str], fresh: str | None) -> None:
    """paired: both commands alternately (`fresh`: the pin folder emptied before each)."""
    wipe = [["sh", "-c", f"rm -f {fresh}/*"]] if fresh else []
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(RUNS):
        samples[0].append(timed_ms(theirs, env, wipe))
        samples[1].append(timed_ms(ours, env, wipe))
    t, o = statistics.median(samples[0]), statistics.median(samples[1])
    what = "first load" if fresh else "pins reused"
    print(f"filter replace, {what:<12} tc {t:8.1f} ms  pytc {o:8.1f} ms  {o / t:5.2f}x")


def slow_verification(obj: str) -> float:
    """slow_verification: seconds the kernel spends refusing txn_slow's classifier (no log)."""
    from pybpftool.kernel.bpf import Kernel
    from pybpftool.loader.maps import MapContext, create_maps
    from pybpftool.loader.programs import program_request
    from pybpftool.loader.txn import Transaction
    from pybpftool.parser import parse_object

    kernel, spec, txn = Kernel(), parse_object(obj), Transaction()
    try:
        maps = create_maps(kernel, txn, spec.maps, MapContext(pin_paths={}))
        main = next(p for p in spec.programs if p.section == "classifier")
        fds = {name: int(m.fd) for name, m in maps.items()}
        req = program_request(spec, main, 3, fds, 0, None)  # BPF_PROG_TYPE_SCHED_CLS
        start = time.perf_counter()
        result = kernel.prog_load(req)
        spent = time.perf_counter() - start
    finally:
        txn.rollback()
    assert result.fd is None, "txn_slow must be refused"
    return spent


def main() -> None:
    ns = f"pybpftool-bench-{os.getpid()}"
    mnt = tempfile.mkdtemp(prefix="pybpftool-bench-")
    with tempfile.TemporaryDirectory() as tmp, installed_bytecode():
        btf = build("twin_btf", Path(tmp) / "twin_btf.o")
        slow = build("txn_slow", Path(tmp) / "txn_slow.o")
        sh("ip", "netns", "add", ns)
        try:
            sh("mount", "-t", "bpf", "bpf", mnt)
            env = {**os.environ, "TC_BPF_MNT": mnt}
            sh("ip", "-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
            sh("tc", "-n", ns, "qdisc", "add", "dev", "v0", "clsact")
            sh("tc", "-n", ns, "qdisc", "add", "dev", "v1", "clsact")
            line = ["-n", ns, "filter", "replace", "dev", "v0", "ingress", "pref", "1",
                    "handle", "1", "bpf", "da", "obj", btf]  # fmt: skip
            globals_dir = f"{mnt}/tc/globals"
            sh(str(BIN / "pytc"), *line, env=env)
            paired(["tc", *line], [str(BIN / "pytc"), *line], env, globals_dir)
            paired(["tc", *line], [str(BIN / "pytc"), *line], env, None)
            print(f"txn_slow: verifier refuses its classifier after {slow_verification(slow):.2f} s"
                  " (no log)")  # fmt: skip
            start = time.perf_counter()
            add = [str(BIN / "pytc"), "-n", ns, "filter", "add", "dev", "v1", "ingress", "bpf",
                   "da", "obj", slow]  # fmt: skip
            done = subprocess.run(add, capture_output=True, env=env)
            assert done.returncode != 0
            print(f"txn_slow: pytc filter add is refused after {time.perf_counter() - start:.2f} s"
                  " (with the logged retries)")  # fmt: skip
        finally:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            subprocess.run(["umount", mnt], capture_output=True)
            shutil.rmtree(mnt, ignore_errors=True)


if __name__ == "__main__":
    main()
