"""The root examples of the man pages (those after `# `) run as shown, in order, page by page.

Each page's examples run in a throwaway network namespace (through `ip netns exec`) on its
veth pair, with the pins on a private bpffs: eth0 and veth0 become v0, eth1 v0 and eth2 v1,
the namespace `blue` the test's, /sys/fs/bpf and /run/demo-bpffs the private bpffs, prog.o
and /tmp/vmlinux-6.1.btf the example object and the running kernel's BTF. A pipe into jq is
cut off and the JSON before it parsed instead (jq is not a dependency). Every command must
succeed unless EXPECTED_STATUS says otherwise, and the output a page shows must be what the
command prints.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import bpfobjs
import pytest
from manpages import ROOT, examples

PAGES = ("pyip", "pytc", "pybpftool")
OBJECTS = ("xdp_counter", "tc_legacy_pinned", "tc_tail_calls", "core_task")
# core_task's state_old_only reads a field this kernel lacks: the verifier rejects it.
EXPECTED_STATUS = {"# pybpftool object verify --btf /tmp/vmlinux-6.1.btf core_task.o": 1}


def substituted(command: str, netns: str, bpffs: str) -> str:
    words = {"eth0": "v0", "veth0": "v0", "eth1": "v0", "eth2": "v1", "blue": netns}
    command = re.sub(r"\b(eth0|veth0|eth1|eth2|blue)\b", lambda m: words[m.group(1)], command)
    for old, new in (
        ("/sys/fs/bpf", bpffs),
        ("/run/demo-bpffs", bpffs),
        ("prog.o", "tc_tail_calls.o"),
        ("/tmp/vmlinux-6.1.btf", "/sys/kernel/btf/vmlinux"),
    ):
        command = command.replace(old, new)
    return command


@pytest.mark.parametrize("page", PAGES)
def test_root_examples_run_as_shown(
    page: str, netns: str, bpffs: str, env: dict[str, str], tmp_path: Path
) -> None:
    for name in OBJECTS:
        obj = bpfobjs.build(f"../../examples/{name}")
        (tmp_path / f"{name}.o").write_bytes(obj.read_bytes())
    env = {**env, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    ran = 0
    for command, shown in examples(ROOT / "man" / f"{page}.8"):
        if not command.startswith("# "):
            continue
        line = substituted(command[2:], netns, bpffs)
        piped_to_jq = " | jq " in line
        line = line.split(" | jq ")[0]
        done = subprocess.run(
            ["ip", "netns", "exec", netns, "bash", "-o", "pipefail", "-c", line],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
        )
        assert done.returncode == EXPECTED_STATUS.get(command, 0), (command, done.stderr)
        assert done.stdout.splitlines()[: len(shown)] == shown, command
        if piped_to_jq:
            assert json.loads(done.stdout)["programs"]
        ran += 1
    assert ran >= 4
