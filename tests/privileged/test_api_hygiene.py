"""A library leaves its caller's process alone. A Python program makes several API calls (or
runs pytc/pyip's main() in-process), one of them failing, and then finds its process as it
was: its own pyroute2 works and is pyroute2 as shipped, it is in its own network namespace,
not confined (it writes /tmp and reads /etc/hostname), with its signal handlers, threads and
exit path untouched. Each program runs in a child process, so that a regression cannot
harm the test run itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import bpfobjs

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"

# The caller's view of its own process: printed before and after our calls.
STATE = """
import os, signal, sys, threading
def state():
    return {
        "netns": os.readlink("/proc/self/ns/net"),
        "thread netns": os.readlink("/proc/thread-self/ns/net"),
        "signals": {int(s): repr(signal.getsignal(s)) for s in signal.valid_signals()},
        "threads": threading.active_count(),
        "no_new_privs": open("/proc/self/status").read().count("NoNewPrivs:\\t1"),
    }
BEFORE = state()
import atexit
atexit.register(lambda: print("the caller's atexit handler ran"))
"""

CHECKS = """
after = state()
for key, value in BEFORE.items():
    assert after[key] == value, (key, value, after[key])
fake = [n for n, m in sys.modules.items()
        if n.split(".")[0] in ("pyroute2", "pybpftool") and m is not None
        and getattr(m, "__spec__", None) is None]
assert not fake, fake  # every module is the real one, loaded by the import system
from pyroute2 import IPRoute
with IPRoute() as ipr:
    assert ipr.get_links()
from pyroute2.netlink.rtnl.tcmsg import sched_bpf, tcmsg
print("nla_map", repr(tcmsg.nla_map))
print("options", sched_bpf.options, repr(sched_bpf.options.nla_map))
scratch = f"/tmp/pybpftool-hygiene-{os.getpid()}"
with open(scratch, "w") as f:  # /tmp itself, whatever pytest's basetemp: not confined
    f.write("ok")
with open(os.path.join(sys.argv[1], "written"), "w") as f, open(scratch) as back:
    f.write(back.read())
os.unlink(scratch)
print("hostname", open("/etc/hostname").read().strip() != "")
sys.exit(7)
"""

API_CALLS = """
import pybpftool
work, netns, pin_root, legacy, rejected, fast = sys.argv[1:7]
with pybpftool.load(legacy, prog_type="sched_cls", pin_root=pin_root) as obj:
    placed = pybpftool.attach_tc("v0", "ingress", obj.program, netns=netns)
    counters = obj.maps["counters"]
    counters.update(bytes(4), bytes(8))
    assert counters.lookup(bytes(4)) == bytes(8)
    pybpftool.detach_tc("v0", "ingress", pref=placed.pref, handle=placed.handle, netns=netns)
with pybpftool.load(fast, section="xdp", pin_root=pin_root) as obj:
    pybpftool.attach_xdp("v1", obj.program, netns=netns)
    assert pybpftool.detach_xdp("v1", netns=netns)
    try:
        pybpftool.attach_xdp("nope0", obj.program, netns=netns)
    except pybpftool.LinkNotFound as err:
        print("failed as expected:", err)
try:
    pybpftool.load(rejected, prog_type="sched_cls", pin_root=pin_root)
except pybpftool.VerifierError as err:
    print("rejected as expected:", "invalid mem access" in err.log)
"""

CLI_CALLS = """
from pybpftool.cli.ip.main import main as pyip
from pybpftool.cli.tc.main import main as pytc
work, netns, pin_root, legacy, rejected, fast = sys.argv[1:7]
assert pytc(["-n", netns, "qdisc", "add", "dev", "v0", "clsact"]) == 0
tc = ["-n", netns, "filter"]
assert pytc([*tc, "add", "dev", "v0", "ingress", "pref", "5", "bpf", "da", "obj", legacy]) == 0
assert pytc([*tc, "delete", "dev", "v0", "ingress", "pref", "5"]) == 0
assert pyip(["-n", netns, "link", "set", "dev", "v1", "xdp", "obj", fast, "sec", "xdp"]) == 0
assert pyip(["-n", netns, "link", "set", "dev", "v1", "xdp", "off"]) == 0
assert pyip(["-n", netns, "link", "set", "dev", "nope0", "xdp", "off"]) == 1
print("failed as expected")
"""


def run_as_a_program(
    body: str, tmp_path: Path, netns: str, bpffs: str, checks: str = CHECKS
) -> subprocess.CompletedProcess[str]:
    objects = [bpfobjs.build(name, HOST) for name in ("legacy_maps", "rejected", "xdp_pass")]
    argv = [str(tmp_path), netns, bpffs, *map(str, objects)]
    # PYBPFTOOL_SANDBOX=on: even asked for everywhere, a library call or an in-process main()
    # never confines its caller (only the console scripts and pybpftool.confine() do).
    env = {**os.environ, "TC_BPF_MNT": bpffs, "PYBPFTOOL_SANDBOX": "on"}
    return subprocess.run(
        [sys.executable, "-c", STATE + body + checks, *argv],
        capture_output=True,
        text=True,
        env=env,
    )


def pyroute2_as_shipped() -> list[str]:
    """pyroute2_as_shipped: the CHECKS lines of a fresh interpreter that never met us."""
    code = (
        "from pyroute2.netlink.rtnl.tcmsg import sched_bpf, tcmsg\n"
        "print('nla_map', repr(tcmsg.nla_map))\n"
        "print('options', sched_bpf.options, repr(sched_bpf.options.nla_map))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def assert_left_alone(done: subprocess.CompletedProcess[str], tmp_path: Path) -> list[str]:
    assert done.returncode == 7, done.stderr  # its own exit status, through its own exit path
    lines = done.stdout.splitlines()
    assert lines[-1] == "the caller's atexit handler ran"
    assert lines[-2] == "hostname True"
    assert lines[-4:-2] == pyroute2_as_shipped()
    assert (tmp_path / "written").read_text() == "ok"
    return lines[:-4]


def test_api_calls_leave_the_callers_process_alone(
    tmp_path: Path, netns: str, bpffs: str
) -> None:
    done = run_as_a_program(API_CALLS, tmp_path, netns, bpffs)
    assert assert_left_alone(done, tmp_path) == [
        'failed as expected: Cannot find device "nope0"',
        "rejected as expected: True",
    ]


def test_cli_main_in_process_leaves_the_callers_process_alone(
    tmp_path: Path, netns: str, bpffs: str
) -> None:
    """`-n` returns to the caller's namespace, and nothing is confined, though the same
    commands confine a pytc/pyip process of their own (tests/privileged/test_sandbox.py)."""
    done = run_as_a_program(CLI_CALLS, tmp_path, netns, bpffs)
    assert assert_left_alone(done, tmp_path) == ["failed as expected"]
    assert 'Cannot find device "nope0"' in done.stderr


# Every class and module-level value of every pyroute2 module the calls load, as the
# caller sees it. The caches pyroute2 fills itself on first use are left out: compiled
# attribute tables (_nlmsg_base__*) and struct formats (pyroute2.netlink.cache_fmt/_hdr).
SNAPSHOT = """
import importlib, sys
def pyroute2_now(names):
    seen = {}
    for name in names:
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if isinstance(value, type) and value.__module__ == name:
                members = {k: repr(v) for k, v in vars(value).items()
                           if not k.startswith("_nlmsg_base__")}
                seen[f"{name}.{attr}"] = members
            elif attr in ("cache_fmt", "cache_hdr") and name == "pyroute2.netlink":
                continue
            elif isinstance(value, (dict, list, tuple, set, frozenset, int, str, bytes)):
                seen[f"{name}.{attr}"] = repr(value)
    return seen
"""
# The calls leave v0's clsact in place, and CLI_CALLS begins by adding one.
DROP_CLSACT = (
    "import subprocess\n"
    "subprocess.run(['tc', '-n', sys.argv[2], 'qdisc', 'del', 'dev', 'v0', 'clsact'],\n"
    "               capture_output=True)\n"
)
LOADED = "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pyroute2'))\n"


def test_no_pyroute2_class_or_module_value_changes(tmp_path: Path, netns: str, bpffs: str) -> None:
    """Beyond tcmsg.nla_map: every class attribute and module-level table of every pyroute2
    module our calls load is the same after the API calls and CLI mains as before them."""
    calls = DROP_CLSACT + API_CALLS + DROP_CLSACT + CLI_CALLS
    listed = run_as_a_program(calls + LOADED, tmp_path, netns, bpffs, checks="")
    assert listed.returncode == 0, listed.stderr
    names = listed.stdout.splitlines()[-2]
    assert "'pyroute2.netlink.rtnl.tcmsg'" in names
    body = (
        SNAPSHOT
        + f"NAMES = {names}\n"
        + "before = pyroute2_now(NAMES)\n"
        + calls
        + "after = pyroute2_now(NAMES)\n"
        + "changed = sorted(k for k in {*before, *after} if before.get(k) != after.get(k))\n"
        + "print('changed', changed, len(before))\n"
    )
    done = run_as_a_program(body, tmp_path, netns, bpffs, checks="")
    assert done.returncode == 0, done.stderr
    report = [line for line in done.stdout.splitlines() if line.startswith("changed ")]
    assert report and report[0].startswith("changed [] "), report
    assert int(report[0].rsplit(" ", 1)[1]) > 100  # many classes compared, not a few


def test_confine_is_there_when_the_caller_asks_for_it(
    tmp_path: Path, netns: str, bpffs: str
) -> None:
    """pybpftool.confine(): the command-line tools' sandbox for a caller that wants it: the
    named object and namespaces stay usable, the rest of the filesystem does not."""
    obj = str(bpfobjs.build("legacy_maps", HOST))
    code = (
        "import sys, pybpftool\n"
        "obj, pin_root, elsewhere, netns = sys.argv[1:5]\n"
        "assert pybpftool.confine(read=[obj, '/run/netns'], pin_root=pin_root)\n"
        "with pybpftool.load(obj, prog_type='sched_cls', pin_root=pin_root) as loaded:\n"
        "    print(loaded.program.name)\n"
        "    placed = pybpftool.attach_tc('v0', 'ingress', loaded.program, netns=netns)\n"
        "    pybpftool.detach_tc('v0', 'ingress', pref=placed.pref, netns=netns)\n"
        "for path in ('/etc/hostname', elsewhere):\n"
        "    try:\n"
        "        open(path, 'w' if path == elsewhere else 'r')\n"
        "    except PermissionError:\n"
        "        print('denied', path == elsewhere)\n"
    )
    env = {**os.environ, "PYBPFTOOL_SANDBOX": "on"}
    done = subprocess.run(
        [sys.executable, "-c", code, obj, bpffs, str(tmp_path / "x"), netns],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["cls_entry", "denied False", "denied True"]
    assert not (tmp_path / "x").exists()
