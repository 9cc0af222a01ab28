"""examples/demo.sh is a smoke test: it passes on this kernel, fails when a step fails or an
expected refusal does not happen, and leaves no namespace, pin or mount behind either way.

The demo takes a few seconds; each failure case breaks it with a stand-in for one distro
tool (first on PATH) and checks what is left.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.sh"
HEADER = re.compile(r"^# namespaces (\S+) \(v0.*\) and (\S+) \(v1.*\$TC_BPF_MNT=(\S+)$", re.M)


def run_demo(path_prefix: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if path_prefix is not None:
        env["PATH"] = f"{path_prefix}:{env['PATH']}"
    return subprocess.run(["bash", str(DEMO)], capture_output=True, text=True, env=env, timeout=300)


def assert_cleaned_up(stdout: str) -> None:
    found = HEADER.search(stdout)
    assert found, stdout
    ns, peer, mnt = found.groups()
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert ns not in listed.split() and peer not in listed.split()
    assert not any(ns in line.split() for line in listed.splitlines())
    with open("/proc/mounts") as mounts:
        assert mnt not in mounts.read()
    assert not os.path.exists(mnt)


def stand_in(folder: Path, name: str, status: int) -> Path:
    folder.mkdir(exist_ok=True)
    tool = folder / name
    tool.write_text(f"#!/bin/sh\nexit {status}\n")
    tool.chmod(0o755)
    return folder


def test_the_demo_passes_sends_traffic_and_cleans_up() -> None:
    done = run_demo()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "\x1b" not in done.stdout  # piped: no escape codes
    assert "demo: all 7 steps passed" in done.stdout
    refusals = re.findall(r"-> refused \(exit \d+\), as expected: (.*)", done.stdout)
    assert len(refusals) == 3 and "libbpf" in refusals[0] and "__state" in refusals[1]
    assert "PIN_OBJECT_NS" in refusals[2]  # object convert --check
    udp = re.search(r"counted (\d+) UDP packets", done.stdout)
    assert udp and int(udp.group(1)) >= 5
    assert re.search(r"cls_bytes .* counted [1-9]\d* bytes", done.stdout)
    assert str(DEMO.parent) not in done.stdout  # commands show objects by their short names
    assert_cleaned_up(done.stdout)


def test_a_failing_step_fails_the_demo_and_it_still_cleans_up(tmp_path: Path) -> None:
    done = run_demo(stand_in(tmp_path / "bin", "bpftool", 1))  # no map can be read
    assert done.returncode == 1
    assert "demo: FAILED: the program array does not hold the two tail calls" in done.stdout
    assert "steps passed" not in done.stdout
    assert_cleaned_up(done.stdout)


def test_an_expected_refusal_that_does_not_happen_fails_the_demo(tmp_path: Path) -> None:
    done = run_demo(stand_in(tmp_path / "bin", "tc", 0))  # a tc that accepts anything
    assert done.returncode == 1
    assert "filter add dev v0 ingress bpf da obj tc_legacy_pinned.o was expected to be refused" in (
        done.stdout
    )
    assert_cleaned_up(done.stdout)


def test_a_demo_stopped_half_way_cleans_up() -> None:
    proc = subprocess.Popen(
        ["bash", str(DEMO)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("== xdp"):  # the tc filters are attached, their maps pinned
            proc.terminate()
            break
    rest = proc.stdout.read()
    assert proc.wait(timeout=60) == 143
    assert "steps passed" not in rest
    assert_cleaned_up("".join(seen))
