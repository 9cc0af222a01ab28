"""The pin hierarchy stays on the BPF filesystem: a symlink inside the pin root (`tc`,
`tc/globals`) that leads elsewhere is refused before anything is created through it, also
without the sandbox (which would refuse it only after confinement). iproute2's own `xdp` and
`ip` symlinks to `tc/` stay fine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import bpfobjs
import pytest
from scripts import BIN, filter_argv, run

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder


def add_filter(netns: str, env: dict[str, str], sandbox: str) -> subprocess.CompletedProcess[str]:
    subprocess.run(["tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    obj = str(bpfobjs.build("legacy_maps", HOST))
    return run(*filter_argv(netns, "add", obj), env={**env, "PYBPFTOOL_SANDBOX": sandbox})


@pytest.mark.parametrize("sandbox", ["on", "off"])
@pytest.mark.parametrize("level", ["tc", "tc/globals"])
def test_a_level_leading_off_the_bpffs_is_refused(
    netns: str, env: dict[str, str], bpffs: str, outside: Path, level: str, sandbox: str
) -> None:
    if level == "tc/globals":
        os.mkdir(os.path.join(bpffs, "tc"), 0o700)
    link = os.path.join(bpffs, level)
    os.symlink(outside, link)
    done = add_filter(netns, env, sandbox)
    assert done.returncode == 1
    assert done.stderr == (
        f"pin folder {link} leads out of the BPF filesystem mounted at {bpffs} "
        f"(to {outside}): refusing to pin there\nUnable to load program\n"
    )
    assert list(outside.iterdir()) == []


def test_a_level_on_another_bpffs_is_refused(
    netns: str, env: dict[str, str], bpffs: str, other_bpffs: Path
) -> None:
    link = os.path.join(bpffs, "tc")
    os.symlink(other_bpffs, link)
    before = sorted(other_bpffs.iterdir())  # a fresh bpffs holds maps.debug, progs.debug
    done = add_filter(netns, env, "on")
    assert done.returncode == 1
    assert f"pin folder {link} leads out of the BPF filesystem" in done.stderr
    assert sorted(other_bpffs.iterdir()) == before


def test_iproute2s_own_symlinks_and_links_within_the_bpffs_are_fine(
    netns: str, env: dict[str, str], bpffs: str
) -> None:
    os.mkdir(os.path.join(bpffs, "real-tc"), 0o700)
    os.symlink(os.path.join(bpffs, "real-tc"), os.path.join(bpffs, "tc"))
    done = add_filter(netns, env, "on")
    assert done.returncode == 0, done.stderr
    assert os.path.exists(os.path.join(bpffs, "real-tc/globals/counters"))
    assert os.readlink(os.path.join(bpffs, "xdp")) == os.path.join(bpffs, "tc") + "/"
    xdp = [str(BIN / "pyip"), "-n", netns, "link", "set", "dev", "v1", "xdp", "obj"]
    attached = run(*xdp, str(bpfobjs.build("xdp_pass", HOST)), env=env)
    assert attached.returncode == 0, attached.stderr
