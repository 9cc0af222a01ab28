"""One run, one context: a -batch builds its sandbox policy once, however many lines it has.

Each line that loads a program enters the sandbox; the process is confined by the first one
and stays so. Before, every such line built the policy again from every file word of the
whole batch (a path check per word per line: 1,000 lines cost 28 times 100). Counted here,
not timed (benchmarks/bench_attach.py prints the times); the lines run in this process,
which the test suite keeps unconfined, so the policy is built but not enforced.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bpfobjs
import pytest

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"


# A console run of pytc in a process of its own (it confines itself), counting the policies
# it builds: only a console run confines, an in-process main() never does.
COUNTING_RUN = """
import os
import sys
import pybpftool.sandbox
from pybpftool.cli.tc.main import main

built = []
real = pybpftool.sandbox.command_policy

def counting(inputs, pin_root, output_dir=None):
    built.append(tuple(inputs))
    return real(inputs, pin_root, output_dir)

pybpftool.sandbox.command_policy = counting
status = main(sys.argv[1:], console=True)
print(status, len(built), built[0].count(os.environ["COUNTED"]) if built else 0)
"""


@pytest.mark.parametrize("lines", [1, 5, 40])
def test_a_batch_builds_its_sandbox_policy_once(
    lines: int, netns: str, env: dict[str, str], tmp_path: Path
) -> None:
    subprocess.run(["tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    obj = bpfobjs.build("twin_btf", HOST)
    batch = tmp_path / "batch"
    line = f"filter replace dev v0 ingress pref 1 handle 1 bpf da obj {obj} sec classifier\n"
    batch.write_text(line * lines)
    ours = subprocess.run(
        [sys.executable, "-c", COUNTING_RUN, "-n", netns, "-batch", str(batch)],
        capture_output=True,
        text=True,
        env={**env, "PYBPFTOOL_SANDBOX": "on", "COUNTED": str(obj)},
    )
    # status, policies built, how often the one object is among the files the policy reads
    assert (ours.stdout.split(), ours.stderr) == (["0", "1", "1"], "")


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
