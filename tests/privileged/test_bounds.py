"""Bounded work on hostile objects, measured loosely in the kernel's own accounting (the peak
resident size of a child): a rejected program with a huge verifier log, and maps bigger than
`object verify` will create. Timings live in benchmarks/bench_bounds.py."""

from __future__ import annotations

import json
import subprocess
import sys

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


def test_a_rejected_program_with_a_huge_log_stays_small_in_pytc(
    netns: str, env: dict[str, str]
) -> None:
    subprocess.run(["tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    obj = str(bpfobjs.build("long_log", HOST))
    peak, done = peak_mib([*filter_argv(netns, "add", obj), "verbose"], env)
    assert "R2 !read_ok" in done.stdout
    assert peak < RSS_LIMIT_MIB


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
