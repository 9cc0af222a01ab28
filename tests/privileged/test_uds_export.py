"""export UDS / tc exec bpf import: maps handed over a Unix socket, iproute2's protocol.

tc 6.1 itself is the importer in the first test: pybpftool's exporter speaks its protocol.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import bpfobjs
from scripts import BIN, filter_argv, run

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
REPORT = (
    "env | grep ^BPF_ | sort; for v in $(env | grep ^BPF_MAP | cut -d= -f2); do "
    "readlink /proc/self/fd/$v; done"
)


def importer(cmd: list[str], sock: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [*cmd, "exec", "bpf", "import", str(sock), "run", "sh", "-c", REPORT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    for _ in range(100):  # until it is bound
        if sock.exists():
            return proc
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"importer did not bind: {proc.communicate()}")


def export(
    netns: str, env: dict[str, str], sock: Path, pref: int
) -> subprocess.CompletedProcess[str]:
    obj = str(bpfobjs.build("legacy_maps", HOST))
    return run(*filter_argv(netns, "add", obj, pref=pref), "export", str(sock), env=env)


def test_tc_importer_receives_our_maps(netns: str, env: dict[str, str], tmp_path: Path) -> None:
    subprocess.run(["tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    sock = tmp_path / "uds"
    proc = importer(["tc"], sock, env)
    done = export(netns, env, sock, 1)
    out, err = proc.communicate(timeout=30)
    assert done.returncode == 0, done.stderr
    lines = out.split()
    assert "BPF_NUM_MAPS=6" in lines and "BPF_MAP42" in out and "BPF_MAP7" in out, err
    assert lines.count("anon_inode:bpf-map") == 3  # ids 0, 7 and 42


def test_our_importer_runs_the_command_with_the_maps(
    netns: str, env: dict[str, str], tmp_path: Path
) -> None:
    subprocess.run(["tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    sock = tmp_path / "uds"
    proc = importer([str(BIN / "pytc")], sock, env)
    done = export(netns, env, sock, 1)
    out, err = proc.communicate(timeout=30)
    assert done.returncode == 0, done.stderr
    assert "BPF_NUM_MAPS=6" in out.split() and out.count("anon_inode:bpf-map") == 3, err
    assert not sock.exists()  # the importer removes its socket


def test_failed_export_adds_no_filter_and_no_pin(
    netns: str, env: dict[str, str], bpffs: str, tmp_path: Path
) -> None:
    subprocess.run(["tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    done = export(netns, env, tmp_path / "nobody-listens", 1)
    assert done.returncode == 1
    assert (
        done.stderr == f"Cannot connect to {tmp_path}/nobody-listens: No such file or directory\n"
    )
    shown = subprocess.run(
        ["tc", "-n", netns, "filter", "show", "dev", "v0", "ingress"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout == ""
    pins = [
        p
        for p in Path(bpffs).rglob("*")
        if not p.is_dir() and not p.is_symlink() and not p.name.endswith(".debug")
    ]
    assert pins == []
    assert os.listdir(tmp_path) == []
