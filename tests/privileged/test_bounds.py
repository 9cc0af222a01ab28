"""Bounded work on hostile objects, measured loosely in the kernel's own accounting (the peak
resident size of a child): a rejected program with a huge verifier log, and maps bigger than
`object verify` will create. Timings live in benchmarks/bench_bounds.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import bpfobjs
from scripts import BIN, filter_argv

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
RSS_LIMIT_MIB = 64  # a rejected program, for the whole command


def peak_mib(
    argv: list[str], env: dict[str, str]
) -> tuple[float, subprocess.CompletedProcess[str]]:
    """peak_mib: run `argv` in a child of a child (so that no earlier child's peak counts) and
    return its peak RSS in MiB with its outcome."""
    probe = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(peak, done.returncode, len(done.stdout), file=sys.stderr)\n"
        "sys.stdout.write(done.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *argv], capture_output=True, text=True, env=env
    )
    peak_kib, _status, _out = done.stderr.split()
    return int(peak_kib) / 1024, done


def test_a_rejected_program_with_a_huge_log_stays_small_in_object_verify(
    env: dict[str, str],
) -> None:
    obj = str(bpfobjs.build("long_log", HOST))
    argv = [str(BIN / "pybpftool"), "object", "verify", "--type", "sched_cls", "--json", obj]
    peak, _ = peak_mib(argv, env)
    assert peak < RSS_LIMIT_MIB


def four_rejected(tmp_path: Path) -> str:
    """four_rejected: long_log.c's program four times over (a 15 MB log each)."""
    body = (bpfobjs.BPF_DIR / "long_log.c").read_text()
    head, program = body.split('SEC("classifier")', 1)
    program, tail = program.split("char LICENSE", 1)
    copies = "".join(
        'SEC("classifier")' + program.replace("long_path", f"long_path_{i}") for i in range(4)
    )
    source = tmp_path / "four.c"
    source.write_text(head + copies + "char LICENSE" + tail)
    out = tmp_path / "four.o"
    include = f"-I{bpfobjs.BPF_DIR / 'include'}"
    cmd = [bpfobjs.CLANG, "-O2", "-g", "-target", HOST, include, "-c", str(source), "-o", str(out)]
    subprocess.run(cmd, check=True)
    return str(out)


def test_four_rejected_programs_stay_within_the_bound_together(
    env: dict[str, str], tmp_path: Path
) -> None:
    obj = four_rejected(tmp_path)
    argv = [str(BIN / "pybpftool"), "object", "verify", "--type", "sched_cls", "--json", obj]
    peak, _ = peak_mib(argv, env)
    assert peak < RSS_LIMIT_MIB


def test_a_rejected_program_with_a_huge_log_stays_small_in_pytc(
    netns: str, env: dict[str, str]
) -> None:
    subprocess.run(["tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    obj = str(bpfobjs.build("long_log", HOST))
    peak, done = peak_mib([*filter_argv(netns, "add", obj), "verbose"], env)
    assert "R2 !read_ok" in done.stdout
    assert peak < RSS_LIMIT_MIB


def rejected_log(obj: str, *options: str, env: dict[str, str]) -> str:
    argv = [str(BIN / "pybpftool"), "object", "verify", "--type", "sched_cls", "--json", *options]
    done = subprocess.run([*argv, obj], capture_output=True, text=True, env=env)
    assert done.returncode == 1, done.stderr
    (program,) = json.loads(done.stdout)["programs"]
    log: str = program["log"]
    return log


def test_verify_keeps_the_end_of_a_huge_log_within_log_size(env: dict[str, str]) -> None:
    """The end of the log says why the program was refused; --log-size raises the bound."""
    obj = str(bpfobjs.build("long_log", HOST))  # about 15 MB of log
    small = rejected_log(obj, "--log-size", "64K", env=env)
    assert len(small.encode()) < (64 << 10) + 200
    assert small.startswith("[... ") and "bytes of the verifier log before this" in small
    assert "R2 !read_ok" in small[-2000:]
    assert (1 << 20) - 200 < len(rejected_log(obj, env=env).encode()) < (1 << 20) + 200
    assert len(rejected_log(obj, "--log-size", "4M", env=env).encode()) > (4 << 20) - 200


def verify(obj: str, *options: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "pybpftool"), "object", "verify", *options, obj],
        capture_output=True,
        text=True,
        env=env,
    )


def test_object_verify_refuses_to_create_a_huge_map(env: dict[str, str]) -> None:
    obj = str(bpfobjs.build("big_maps", HOST))  # a 1 GiB array
    done = verify(obj, env=env)
    assert (done.returncode, done.stdout) == (1, "")
    assert json.loads(verify(obj, "--json", env=env).stdout)["error"].startswith("map 'big' ")
    assert done.stderr == (
        "pybpftool: map 'big' would reserve 1 GiB (268435456 entries of 4 bytes); "
        "object verify creates maps of up to 64 MiB each\n"
        "Raise the limit with --max-map-size SIZE (and --max-maps-size SIZE for all maps).\n"
    )


def test_object_verify_refuses_maps_too_big_together(env: dict[str, str]) -> None:
    obj = str(bpfobjs.build("big_maps", HOST, "-DENTRIES=(40<<20)"))  # 160 MiB
    done = verify(obj, "--max-map-size", "256M", "--max-maps-size", "100M", env=env)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.startswith(
        "pybpftool: the object's maps would reserve 176 MiB in all; object verify creates "
        "up to 100 MiB\n"
    )


def test_a_raised_limit_lets_verify_create_the_maps(env: dict[str, str]) -> None:
    obj = str(bpfobjs.build("big_maps", HOST, "-DENTRIES=(20<<20)"))  # 80 MiB
    assert verify(obj, env=env).returncode == 1
    done = verify(obj, "--json", "--max-map-size", "128M", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["accepted"] == 1
