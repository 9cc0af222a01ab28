"""pyip and pytc are clients of the API's core: one code path from object to attached
program. The same spies watch a pytc filter, a pyip XDP attach and their API equivalents:
every load reaches the loader through api.objects.load_object_file, every cls_bpf filter
goes out through api.tc.send_bpf_filter and every XDP attach through api.xdp.set_xdp. The
program runs in a child process, so that its spies cannot leak into the test run."""

from __future__ import annotations

import os
import subprocess
import sys

import bpfobjs

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"

SPIED = """
import sys
import pybpftool, pybpftool.loader, pybpftool.api.tc, pybpftool.api.xdp
from pybpftool.cli.ip.main import main as pyip
from pybpftool.cli.tc.main import main as pytc

netns, legacy, fast = sys.argv[1:4]
calls = []

def spy(module, name, label):
    real = getattr(module, name)
    def watched(*args, **kw):
        calls.append((label, sys._getframe(1).f_code.co_name))
        return real(*args, **kw)
    setattr(module, name, watched)

spy(pybpftool.loader, "load_object", "load")
spy(pybpftool.api.tc, "send_bpf_filter", "filter")
spy(pybpftool.api.xdp, "set_xdp", "xdp")

def step(title, done):
    print(title, done, calls)
    calls.clear()

step("pytc", pytc(["-n", netns, "filter", "add", "dev", "v0", "ingress", "pref", "5",
                   "bpf", "da", "obj", legacy, "sec", "classifier"]))
step("pytc action", pytc(["-n", netns, "filter", "add", "dev", "v0", "ingress", "pref", "6",
                          "bpf", "da", "obj", legacy, "sec", "classifier",
                          "action", "mirred", "egress", "redirect", "dev", "v1"]))
step("pyip", pyip(["-n", netns, "link", "set", "dev", "v1", "xdp", "obj", fast, "sec", "xdp"]))
step("pyip off", pyip(["-n", netns, "link", "set", "dev", "v1", "xdp", "off"]))
with pybpftool.load(legacy, section="classifier", prog_type="sched_cls") as obj:
    step("api tc", pybpftool.attach_tc("v0", "egress", obj.program, netns=netns).pref > 0)
with pybpftool.load(fast, section="xdp") as obj:
    pybpftool.attach_xdp("v1", obj.program, netns=netns)
    step("api xdp", pybpftool.detach_xdp("v1", netns=netns))
"""


def test_the_command_lines_and_the_api_share_one_path(netns: str, bpffs: str) -> None:
    subprocess.run(["tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    objects = [str(bpfobjs.build(name, HOST)) for name in ("legacy_maps", "xdp_pass")]
    done = subprocess.run(
        [sys.executable, "-c", SPIED, netns, *objects],
        capture_output=True,
        text=True,
        env={**os.environ, "TC_BPF_MNT": bpffs},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "pytc 0 [('load', 'load_object_file'), ('filter', '_send')]",
        "pytc action 0 [('load', 'load_object_file'), ('filter', '_send')]",
        "pyip 0 [('load', 'load_object_file'), ('xdp', 'attach')]",
        "pyip off 0 [('xdp', 'attach')]",
        "api tc True [('load', 'load_object_file'), ('filter', 'attach_tc')]",
        "api xdp True [('load', 'load_object_file'), ('xdp', 'attach_xdp'), ('xdp', 'detach_xdp')]",
    ]


def test_no_command_line_module_loads_or_attaches_by_itself() -> None:
    """The paths the spies cannot reach here (act_bpf, which this kernel lacks; tc exec bpf
    graft) go through the same functions: no module of cli/ calls the loader's load_object,
    or sends IFLA_XDP or a cls_bpf filter, except through the API's functions."""
    from pathlib import Path

    cli = Path(__file__).resolve().parents[2] / "pybpftool" / "cli"
    direct = ("load_object(", "import load_object\n", ".xdp_set(", "nl.filter(")
    direct += ("bpf_filter_message(",)
    found = [
        f"{path.relative_to(cli)}: {needle}"
        for path in sorted(cli.rglob("*.py"))
        for needle in direct
        if needle in path.read_text()
    ]
    assert found == []
