"""One run, one context: the sandbox policy a run builds (once: test_batch_sandbox.py counts
it) names every file the run names, so a line loading two objects reads both confined."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bpfobjs

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"


def test_every_file_a_line_names_stays_readable(
    netns: str, env: dict[str, str], tmp_path: Path
) -> None:
    """A line that loads two objects (a filter's and its bpf action's) confines the process
    at the first load; the second object is readable too, as every file the line names."""
    from scripts import BIN

    first = bpfobjs.build("twin_btf", HOST)
    second = tmp_path / "action.o"
    second.write_bytes(first.read_bytes())
    subprocess.run(["tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    line = ["filter", "add", "dev", "v0", "ingress", "bpf", "da", "obj", str(first)]
    line += ["action", "bpf", "obj", str(second), "sec", "tail"]
    ours = subprocess.run(
        [str(BIN / "pytc"), "-n", netns, *line],
        capture_output=True,
        text=True,
        env={**env, "PYBPFTOOL_SANDBOX": "on"},
    )
    # this kernel has no act_bpf: both programs loaded, then the kernel's refusal, as tc's
    assert (ours.returncode, ours.stderr) == (
        2,
        "Error: Failed to load TC action module.\nWe have an error talking to the kernel\n",
    )
