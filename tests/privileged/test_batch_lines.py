"""A -batch of filter lines against tc's: what a run keeps from line to line (the bpffs mount
and its folders, the netlink socket, the parsed object, the request pyroute2 encoded) changes
nothing a line does. Lines that fail between lines that attach leave the same exit status,
messages, filters and pins as tc -batch's; each attaching line loads its program anew."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import bpfobjs
import pytest
from mounts import private_bpffs

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"


@pytest.fixture
def twin() -> Iterator[tuple[str, str]]:
    """twin: a second namespace with v0 <-> v1 and clsact on v0 and a private bpffs, for tc."""
    name = f"pybpftool-twin-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        with private_bpffs() as folder:
            yield name, folder
    finally:
        subprocess.run(["ip", "netns", "del", name], check=True)


def scene(netns: str) -> None:
    run = ["ip", "-n", netns]
    if subprocess.run([*run, "link", "show", "v0"], capture_output=True).returncode:
        subprocess.run([*run, "link", "add", "v0", "type", "veth", "peer", "name", "v1"])
    subprocess.run(["tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)


def batch_of(obj: Path) -> str:
    replace = f"filter replace dev v0 ingress pref {{}} handle 1 bpf da obj {obj}"
    return "\n".join(
        [
            replace.format(1),
            replace.format(1).replace("dev v0", "dev nodev"),  # no such device
            replace.format(1).replace("replace", "add"),  # the kernel: it exists
            replace.format(2),
            f"filter replace dev v0 ingress pref 3 handle 1 bpf da obj {obj} sec nosuch",
            replace.format(3),
            replace.format(1),
            "",
        ]
    )


def raw_show(netns: str) -> str:
    return subprocess.run(
        ["tc", "-n", netns, "filter", "show", "dev", "v0", "ingress"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def shown(netns: str) -> str:
    return re.sub(r" id \d+", " id N", raw_show(netns))


def pins(root: str) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*"))


def test_a_batch_of_filter_lines_ends_as_tcs(
    netns: str, env: dict[str, str], twin: tuple[str, str], tmp_path: Path
) -> None:
    from scripts import BIN

    obj = bpfobjs.build("twin_btf", HOST)
    batch = tmp_path / "lines"
    batch.write_text(batch_of(obj))
    theirs_ns, theirs_root = twin
    for name in (netns, theirs_ns):
        scene(name)
    argv = ["-force", "-batch", str(batch)]
    ours = subprocess.run(
        [str(BIN / "pytc"), "-n", netns, *argv], capture_output=True, text=True, env=env
    )
    theirs = subprocess.run(
        ["tc", "-n", theirs_ns, *argv],
        capture_output=True,
        text=True,
        env={**env, "TC_BPF_MNT": theirs_root},
    )
    assert ours.returncode == theirs.returncode == 1
    failed = [line for line in ours.stderr.splitlines() if line.startswith("Command failed")]
    assert failed == [f"Command failed {batch}:{n}" for n in (2, 3, 5)]
    assert [line for line in theirs.stderr.splitlines() if line.startswith("Command")] == failed
    for message in ('Cannot find device "nodev"', "Error: Filter already exists."):
        assert message in ours.stderr and message in theirs.stderr
    assert shown(netns) == shown(theirs_ns)
    assert shown(netns).count(" handle 0x1 ") == 3  # pref 1, 2 and 3
    # the last line loaded pref 1's program anew, after pref 3's
    ids = {
        int(pref): int(prog)
        for pref, prog in re.findall(r"pref (\d+) bpf .*? id (\d+)", raw_show(netns), re.S)
    }
    assert ids[1] > ids[3] > ids[2]
    assert pins(env["TC_BPF_MNT"]) == pins(theirs_root)
