"""pyip/pytc against ip/tc 6.1: the same command lines on twin veths in their own namespaces.

Each scenario runs its command lines in order through iproute2 in one namespace and through
pybpftool in another (each with its own bpffs). For every line: same exit code, same stdout
(program ids normalised), and the same stderr for the messages iproute2 owns (where ip's text
comes from libbpf, the last line must match, since pybpftool has its own loader). After each
line the kernel state must match too: XDP mode and the attached program's name and tag, and
the filters with their flags.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import bpfobjs
import pytest
from scripts import BIN

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"


@dataclass
class Side:
    netns: str
    tools: dict[str, list[str]]
    env: dict[str, str]


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


@pytest.fixture
def twins(netns: str) -> Iterator[tuple[Side, Side]]:
    """twins: iproute2's side (the netns fixture) and pybpftool's (a second netns)."""
    other = f"{netns}-py"
    _run("ip", "netns", "add", other)
    mounts = [tempfile.mkdtemp(prefix="pybpftool-bpffs-") for _ in range(2)]
    try:
        _run("ip", "-n", other, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
        _run("ip", "-n", other, "link", "set", "v0", "up")
        _run("ip", "-n", other, "link", "set", "v1", "up")
        for m in mounts:
            _run("mount", "-t", "bpf", "bpf", m)
        theirs = Side(netns, {"ip": ["ip"], "tc": ["tc"]}, {**os.environ, "TC_BPF_MNT": mounts[0]})
        ours = Side(
            other,
            {"ip": [str(BIN / "pyip")], "tc": [str(BIN / "pytc")]},
            {**os.environ, "TC_BPF_MNT": mounts[1]},
        )
        yield theirs, ours
    finally:
        for m in mounts:
            subprocess.run(["umount", m], capture_output=True)
            os.rmdir(m)
        subprocess.run(["ip", "netns", "del", other], capture_output=True)


STRICTER = " #stricter"  # marks a line where pybpftool's own message replaces iproute2's


def run_line(side: Side, line: str, objects: dict[str, str]) -> tuple[int, str, str]:
    tool, *words = shlex.split(line.removesuffix(STRICTER).format(**objects))
    cmd = [*side.tools[tool], "-n", side.netns, *words]
    done = subprocess.run(cmd, capture_output=True, text=True, env=side.env, timeout=60)
    return done.returncode, done.stdout, done.stderr


def normalise(text: str) -> str:
    """normalise: what legitimately differs between the twins: ids, load times, MACs, and
    the packets htb sent directly (the veths' own IPv6 chatter)."""
    text = re.sub(r"\b(id|load_time|btf_id|direct_packets_stat) \d+", r"\1 N", text)
    text = re.sub(r'"(id|load_time|btf_id|direct_packets_stat)": ?\d+', r'"\1":N', text)
    return re.sub(
        r"\b(?!00:00:00:00:00:00|ff:ff:ff:ff:ff:ff)(?:[0-9a-f]{2}:){5}[0-9a-f]{2}\b", "MAC", text
    )


def kernel_state(side: Side) -> object:
    """kernel_state: XDP on v0 and the clsact filters, read with iproute2 itself."""
    links = json.loads(
        subprocess.run(
            ["ip", "-n", side.netns, "-j", "link", "show", "dev", "v0"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    xdp = links[0].get("xdp")
    if xdp is not None:
        xdp = {"mode": xdp["mode"], "name": xdp["prog"]["name"], "tag": xdp["prog"]["tag"]}
    filters = {}
    for parent in ("ingress", "egress"):
        shown = subprocess.run(
            ["tc", "-n", side.netns, "-j", "filter", "show", "dev", "v0", parent],
            capture_output=True,
            text=True,
        )
        filters[parent] = normalise(shown.stdout) if shown.returncode == 0 else shown.stderr
    return xdp, filters, graft_slot(side)


def settled_states(
    ours: Side, theirs: Side, read: Callable[[Side], object] | None = None
) -> tuple[object, object]:
    """settled_states: both sides' state (`read`, kernel_state by default), read again for up
    to 5 s while they differ: a replaced filter's old actions (and a deleted qdisc's filters'
    actions) are released by deferred kernel work, so an action's ref and bind counts drop,
    or the action goes, a moment after the command returns (ours ran last)."""
    import time

    read = read or kernel_state
    for _ in range(50):
        states = read(ours), read(theirs)
        if states[0] == states[1]:
            break
        time.sleep(0.1)
    return states


def graft_slot(side: Side) -> object:
    """graft_slot: name and tag of the program in slot 0 of the pinned jmp_tc, if any."""
    pin = Path(side.env["TC_BPF_MNT"]) / "tc/globals/jmp_tc"
    if not pin.exists():
        return None
    dump = json.loads(
        subprocess.run(
            ["bpftool", "-j", "map", "dump", "pinned", str(pin)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    if not dump:
        return []
    ids = [int.from_bytes(bytes(int(b, 16) for b in e["value"]), sys.byteorder) for e in dump]
    progs = [
        json.loads(
            subprocess.run(
                ["bpftool", "-j", "prog", "show", "id", str(i)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for i in ids
    ]
    return [(p["name"], p["tag"]) for p in progs]


def stderr_matches(theirs: str, ours: str, status: int) -> bool:
    if "libbpf" in theirs and status == 0:
        return True  # `verbose`: libbpf's debug log, ours is the loader's own report
    if "libbpf" in theirs:
        last = [line for line in theirs.splitlines() if line.strip()][-1:]
        return last == [line for line in ours.splitlines() if line.strip()][-1:]
    return theirs == ours


XDP_LINES = [
    "ip link show",
    "ip link set dev v0 xdp obj {xdp} sec xdp",
    "ip link show dev v0",
    "ip -d link show",
    "ip -j link show dev v0",
    "ip -j -p -d link show",
    "ip link show dev nope",
    "ip link set dev v0 xdp obj {xdp} sec xdp",  # already attached
    "ip -force link set dev v0 xdp obj {xdp} sec xdp",
    "ip link set dev v0 xdpgeneric obj {xdp} sec xdp",  # native and generic at once
    "ip link set dev v0 xdp off",
    "ip link set dev v0 xdpgeneric obj {xdp} sec xdp",
    "ip -d link show dev v0",
    "ip link set dev v0 xdp off",  # leaves the generic program attached
    "ip link set dev v0 xdpgeneric off",
    "ip link set dev v0 xdpdrv obj {xdp}",  # default section "prog"
    "ip link set dev v0 xdpdrv off",
    "ip link set v0 xdp object-file {xdp} section xdp verbose",
    "ip link set dev v0 xdp none",
    "ip link set dev nope xdp obj {xdp} sec xdp",
    "ip link set dev v0 xdp bogus {xdp}",
    "ip link set dev v0 xdp off up",
    "ip link set dev v0 xdp obj",
    "ip link set dev v0 xdp obj /nonexistent.o",
    "ip link set dev v0 xdp pinned /nonexistent",
    "ip link set dev v0 xdp obj {xdp} sec nosuch",
    "ip link set dev v0 xdp bytecode 1,6",
    "ip link set dev v0 dev v1 xdp off",  # duparg2
    "ip link show dev v0 dev v1",
    "ip link set dev v0 xdp obj {xdp} sec xdp export /tmp/uds",  # xdp takes no export
]

TC_LINES = [
    "tc filter add dev v0 ingress bpf da obj {tc}",  # no clsact yet
    "tc qdisc add dev v0 clsact",
    "tc qdisc add dev v0 clsact",
    "tc filter add dev v0 ingress bpf da obj {tc} sec classifier",
    "tc filter show dev v0 ingress",
    "tc -j filter show dev v0 ingress",
    "tc -j -p filter show dev v0 ingress",
    "tc filter add dev v0 ingress pref 10 handle 7 bpf obj {tc} da skip_hw flowid 1:2",
    "tc filter show dev v0 ingress pref 10",
    "tc filter add dev v0 ingress pref 10 handle 7 bpf obj {tc} da",
    "tc filter replace dev v0 ingress pref 10 handle 7 bpf obj {tc} sec tail da",
    "tc filter show dev v0 ingress",
    "tc filter add dev v0 egress bpf run obj {tc} da",
    "tc -j filter show dev v0 egress",
    "tc filter del dev v0 ingress pref 10",
    "tc filter show dev v0 ingress",
    "tc filter add dev v0 ingress bpf obj {tc} da verbose",
    "tc filter add dev nope ingress bpf da obj {tc}",
    "tc filter add dev v0 ingress bpf da obj {tc} sec nosuch",
    "tc filter del dev v0 egress",
    "tc filter show dev v0 egress",
    # no act_bpf nor act_gact in this kernel: the error, and nothing left attached
    "tc filter add dev v0 egress bpf da obj {tc} action bpf obj {tc} sec tail",
    "tc filter add dev v0 egress bpf da obj {tc} action drop",
    "tc filter add dev v0 egress bpf da obj {tc} action gact pass",
    "tc filter add dev v0 egress bpf da obj {tc} action foo",
    "tc filter show dev v0 egress",
    "tc qdisc del dev v0 clsact",
    "tc qdisc del dev v0 clsact",
]


BATCH = """\
# attach, fail on a second attach, then detach; quotes and continuation lines work
link set dev v0 xdp obj '{xdp}' sec xdp
link set dev v0 \\
    xdp obj {xdp} sec xdp   # already attached: fails
link set dev v0 xdp off
"""

BATCH_LINES = [
    "ip -batch {batch}",  # stops at line 3 with "Command failed"
    "ip link set dev v0 xdp off",
    "ip -force -batch {batch}",  # -force: replaces instead of failing
    "ip link set dev v0 xdp off",
    "ip -batch /nonexistent-batch",
]


GRAFT_LINES = [
    "tc qdisc add dev v0 clsact",
    "tc filter add dev v0 ingress bpf da obj {graft} sec classifier",  # pins jmp_tc
    "tc exec bpf graft m:globals/jmp_tc key 0 obj {graft} sec aaa",
    "tc exec bpf graft m:globals/jmp_tc key 0 obj {graft} section bbb",
    "tc exec bpf graft m:globals/jmp_tc obj {graft} sec bbb",  # no key in the section name
    "tc exec bpf graft m:globals/nope key 0 obj {graft} sec aaa",
    "tc exec bpf graft m:globals/jmp_tc key 5 obj {graft} sec aaa",
    "tc exec bpf graft m:globals/jmp_tc key 0 obj {graft} sec zzz",
    "tc exec bpf graft m:globals/jmp_tc key x obj {graft} sec aaa",
    # The loader refuses to reuse a pinned prog array owned by another program type (issue 3),
    # where tc reuses it and fails on the update: same exit status, our own message.
    "tc exec bpf graft m:globals/jmp_tc key 0 obj {graft} type xdp sec aaa" + STRICTER,
    "tc exec",
    "tc exec bpf",
    "tc exec bpf dbg",
]


CBPF_LINES = [
    "tc qdisc add dev v0 clsact",
    "tc filter add dev v0 ingress pref 20 bpf bytecode '1,6 0 0 4294967295' flowid 1:1",
    "tc filter add dev v0 ingress pref 21 bpf bc '2,6 0 0 1,6 0 0 0'",
    "tc filter add dev v0 egress bpf bytecode-file {bytecode}",
    "tc filter show dev v0 ingress",
    "tc -j filter show dev v0 ingress",
    "tc -j -p filter show dev v0 egress",
    "tc filter add dev v0 ingress bpf bytecode '2,6 0 0 1'",
    "tc filter add dev v0 ingress bpf bytecode '1,6 0 0 1,6 0 0 2'",
    "tc filter add dev v0 ingress bpf bytecode '1 6 0 0 1'",
    "tc filter add dev v0 ingress bpf bytecode 1,6 0 0 1",  # unquoted: stops at the blank
    "tc filter add dev v0 ingress bpf bytecode '0,6 0 0 1'",
    "tc filter add dev v0 ingress bpf bytecode-file /nonexistent",
]


# tc's file-scope filter_* variables outlive a batch line: what one `show` selected is left
# out of the next lines' output (and still selects in `qdisc show`).
TC_BATCH = """\
filter add dev v0 egress pref 4 bpf bytecode '1,6 0 0 0'
filter show dev v0 egress chain 0
filter get dev v0 egress pref 4 protocol all handle 1 bpf
qdisc show dev v0 clsact
qdisc show
filter del dev v0 egress pref 4
"""

# Usage texts: where tc prints them (stderr), and what it does next (exit 0, or go on).
HELP_LINES = [
    "tc filter help",
    "tc filter show help",  # usage, then the (empty) listing: exit 0
    "tc filter get help",
    "tc filter add dev v0 help",
    "tc filter bogus",
    "tc qdisc help",
    "tc qdisc show help",  # usage on stderr and the listing on stdout
    "tc qdisc add help",  # usage, then the request: RTNETLINK answers: No such device
    "tc qdisc bogus",
    "tc exec help",
    "tc exec bpf help",
    "tc qdisc add dev v0 clsact help",
    "tc qdisc add dev v0 root handle 1: htb help",
    "tc qdisc add dev v0 root handle 1: pfifo help",
]

# Explicit handles everywhere: the kernel's automatic ones (8001:, ...) are global.
QDISC_LINES = [
    "tc qdisc",
    "tc qdisc show dev v0",
    "tc -j qdisc show",
    "tc -s qdisc show dev v0",
    "tc -s -j qdisc show dev v0",
    "tc qdisc add dev v0 clsact",
    "tc qdisc add dev v1 ingress",
    "tc qdisc show",
    "tc -j -p qdisc show ingress",
    "tc -r qdisc show dev v1",
    "tc -o qdisc show dev v0",
    "tc qdisc replace dev v1 root handle 1: pfifo_fast",
    "tc qdisc show dev v1 root",
    "tc -j -p qdisc show dev v1",
    "tc qdisc replace dev v1 root handle 2: htb default 10 r2q 5 direct_qlen 50",
    "tc -d qdisc show dev v1 handle 2:",
    "tc -j -d qdisc show dev v1 root",
    "tc qdisc replace dev v1 root handle 3: bfifo limit 10kb",
    "tc qdisc show dev v1 parent ffff:fff1",
    "tc qdisc replace dev v1 root handle 4: mq",
    "tc -j qdisc show dev v1",
    "tc qdisc replace dev v1 root handle 5: pfifo limit 7",
    "tc qdisc show invisible",
    "tc qdisc show dev nope",
    "tc qdisc show dev v0 root ingress",
    "tc qdisc show dev v0 handle xyz",
    "tc qdisc show dev v0 bogus",
    "tc qdisc add dev v0 clsact foo",
    "tc qdisc add dev v0 root clsact",
    "tc qdisc add dev v0 root pfifo_fast x",
    "tc qdisc add dev v0 root noqueue x",
    "tc qdisc add dev v0 handle 1: handle 2: root pfifo",
    "tc qdisc add dev v1 root handle 6: htb r2q x",
    "tc qdisc add dev v1 root handle 6: bfifo limit x",
    "tc qdisc add dev nope root pfifo",
    "tc qdisc add dev v0 root handle 7: fq_codel",  # not in this kernel
    "tc qdisc del dev v0 root",
    "tc qdisc del dev v1 root",
    "tc qdisc del dev v1 ingress",
    "tc qdisc del dev v0 clsact",
    "tc qdisc show",
]

# filter get, chains, and selectors as each of tc's loops words them; shared blocks.
FILTER_LINES = [
    "tc qdisc add dev v0 clsact",
    "tc filter add dev v0 ingress bpf run obj {tc} run",  # NEXT_ARG before the duplicate check
    "tc filter add dev v0 ingress bpf da obj",  # fatal inside bpf_parse: no second line
    "tc filter add dev v0 ingress bpf obj {tc} sec",
    "tc filter add dev v0 ingress pref 10 handle 7 bpf da obj {tc}",
    "tc filter add dev v0 ingress pref 20 chain 3 handle 0x10 bpf da obj {tc} flowid 1:",
    "tc filter add dev v0 egress pref 5 protocol ipv6 handle 010 bpf bytecode '1,6 0 0 0'",
    "tc filter show dev v0 ingress",
    "tc filter show dev v0 ingress chain 3",
    "tc -j filter show dev v0 ingress chain 0",
    "tc filter show dev v0 egress protocol ipv6",
    "tc filter show dev v0 egress protocol ip",
    "tc -N filter show dev v0 egress",
    "tc filter get dev v0 ingress pref 10 protocol all handle 7 bpf",
    "tc -j -p filter get dev v0 ingress pref 20 protocol all handle 16 chain 3 bpf",
    "tc filter get dev v0 egress pref 5 protocol ipv6 handle 8 bpf",
    "tc filter get dev v0 ingress pref 20 protocol all handle 16 bpf",  # chain 0: not found
    "tc filter get dev v0 ingress pref 10 handle 7 bpf",
    "tc filter get dev v0 ingress protocol all handle 7 bpf",
    "tc filter get dev v0 pref 10 protocol all handle 7 bpf",
    "tc filter get dev v0 ingress pref 10 protocol all bpf",
    "tc filter get dev v0 ingress pref 10 protocol all handle 7",
    "tc filter get ingress pref 10 protocol all handle 7 bpf",
    "tc filter get dev nope ingress pref 10 protocol all handle 7 bpf",
    "tc filter get dev v0 ingress pref 10 protocol all handle 8 bpf",
    "tc filter get dev v0 ingress pref 10 protocol all handle 7 bpf da",
    "tc filter get dev v0 ingress pref 10 protocol all handle zz bpf",
    "tc filter get dev v0 ingress pref 10 protocol all handle 7 nosuchkind",
    "tc filter show",
    "tc filter show dev v0 ingress bogus",
    "tc filter show dev v0 ingress chain 3 chain 4",
    "tc filter show dev v0 ingress pref x",
    "tc filter add dev v0 ingress chain x bpf da obj {tc}",
    "tc filter add dev v0 ingress egress bpf da obj {tc}",
    "tc filter add dev v0 ingress pref 99999 bpf da obj {tc}",
    "tc filter add dev v0 ingress protocol foo bpf da obj {tc}",
    "tc filter add dev v0 ingress",
    "tc filter del dev v0 ingress pref 20 chain 3",
    "tc filter show dev v0 ingress chain 3",
    "tc filter del dev v0 egress pref 5 handle 8 bpf",
    "tc filter del dev v0 ingress handle 7 pref 10",  # a handle needs a kind
    "tc qdisc add dev v1 ingress_block 22 clsact",
    "tc filter add block 22 pref 3 bpf da obj {tc}",
    "tc filter show block 22",
    "tc filter show dev v1 ingress",
    "tc filter get block 22 ingress pref 3 protocol all handle 1 bpf",
    "tc filter show block 23",
    "tc qdisc del dev v1 clsact",
    "tc -batch {tc_batch}",
]


# -batch and iproute2's exit()s: incomplete_command, invarg, duparg and the other helpers that
# exit() (and ip's exit(-1) after any xdp parse or load failure) end the whole batch at once,
# even with -force, without "Command failed FILE:LINE"; a returned error does not.
FATAL_BATCHES = {
    # duparg: line 3 never runs
    "tc_duparg": "qdisc show dev v0\nqdisc add dev v0 handle 1: handle 2: root pfifo\n"
    "qdisc show dev v0\n",
    # returned -1: "Command failed", and -force goes on
    "tc_returned": "qdisc add dev v0 root root pfifo\nqdisc show dev v0\n",
    # tc_qdisc.c's filter_parent outlives the line: the second `root` is invarg's
    "tc_sticky_invarg": "qdisc show root\nqdisc show root\nqdisc show dev v0\n",
    "tc_filter_invarg": "filter add dev v0 ingress pref x bpf da obj {tc}\nqdisc show dev v0\n",
    "tc_exec_incomplete": "exec bpf run\nqdisc show dev v0\n",
    "tc_graft_incomplete": "exec bpf graft m:globals/jmp_tc key 0\nqdisc show dev v0\n",
    "tc_graft_returned": "exec bpf graft m:globals/jmp_tc obj /nonexistent.o\nqdisc show dev v0\n",
    # makeargs() exit(1)s when it reaches the line, after the lines before it ran
    "tc_unterminated": "qdisc show dev v0\nqdisc bogus\nqdisc show 'dev\nqdisc show dev v0\n",
    # getcmdline(): the batch ends with the status it had
    "tc_continuation": "qdisc bogus\nqdisc show dev v0 \\\n",
    # ip: every xdp parse/load failure is exit(-1); the attached program stays
    "ip_xdp_mode": "link set dev v0 xdpgeneric obj {xdp} sec xdp\nlink set dev v0 xdp bogus\n"
    "link set dev v0 xdpgeneric off\n",
    "ip_xdp_load": "link set dev v0 xdp obj /nonexistent.o\nlink show dev v0\n",
    "ip_incomplete": "link show dev\nlink show dev v0\n",
    "ip_no_dev_arg": "link set xdp off\nlink show dev v0\n",
    # ip's returned errors: Cannot find device (1) and ipvrf_show's `return 1` (255)
    "ip_returned": "link set dev nope xdp off\nvrf show nope\nlink show dev v0\n",
    "ip_vrf_invarg": "vrf identify abc\nlink show dev v0\n",
}

# each batch file through its tool (the name's prefix), without and with -force
FATAL_LINES = [
    f"{name.split('_')[0]} {force}-batch {{{name}}}"
    for name in FATAL_BATCHES
    for force in ("", "-force ")
]
FATAL_LINES.append("ip link set dev v0 xdpgeneric off")  # what ip_xdp_mode left attached

# tc exec bpf: NEXT_ARG's incomplete command wherever e_bpf.c / bpf_do_parse need a word.
EXEC_LINES = [
    "tc exec bpf run",
    "tc exec bpf import",
    "tc exec bpf import /nonexistent.sock run",
    "tc exec bpf import /nonexistent.sock import",
    "tc exec bpf import /nonexistent.sock graft m:globals/jmp_tc",
    "tc exec bpf import /nonexistent.sock bogus",
    "tc exec bpf import /nonexistent.sock debug",  # debug runs at once: no tracefs here
    "tc exec bpf run import /nonexistent.sock",  # run takes the rest: no import seen
    "tc exec bpf db",
    "tc exec bpf graft",
    "tc exec bpf graft m:globals/jmp_tc",
    "tc exec bpf graft m:globals/jmp_tc key",
    "tc exec bpf graft m:globals/jmp_tc key 0",
    "tc exec bpf graft m:globals/jmp_tc key 0 obj",
    "tc exec bpf graft m:globals/jmp_tc obj {graft} type",
    "tc exec bpf graft m:globals/jmp_tc obj {graft} sec",
    "tc exec bpf graft m:globals/jmp_tc obj {graft} program",
    "tc exec bpf graft m:globals/jmp_tc obj {graft} type cls export",
    "tc exec bpf graft m:globals/jmp_tc pinned",
    "tc exec bpf graft m:globals/jmp_tc key 0x100000000 obj {graft} sec aaa",
    "tc exec bpf graft m:globals/jmp_tc key -1 obj {graft} sec aaa",
    "tc exec bpf graft m:globals/jmp_tc key -0 obj /nonexistent.o",  # open() fails: 255
    "tc exec bpf graft m:globals/jmp_tc obj /tmp",  # not ELF: -EINVAL, 234
]

# `-n NAME` switches while the global options are parsed: a missing namespace fails before
# any later option, the object or its arguments (the harness puts `-n TWIN` first).
NO_NS = "pybpftool-no-such-netns"
NETNS_LINES = [
    f"tc -n {NO_NS} qdisc bogus",
    f"tc -n {NO_NS} -V",
    f"tc -n {NO_NS} -bogus",
    f"tc -n {NO_NS} -help",
    f"tc -n {NO_NS}",
    f"tc -n {NO_NS} -batch /nonexistent-batch",
    f"tc -n {NO_NS} exec bpf run",
    f"tc -n {NO_NS} filter add dev nope ingress pref x bpf da obj",
    "tc -n",  # NEXT_ARG lets argv's NULL through: "(null)"
    f"ip -n {NO_NS} bogus",
    f"ip -n {NO_NS} -V",
    f"ip -n {NO_NS} link set dev v0 xdp obj",
    f"ip -n {NO_NS} -batch /nonexistent-batch",
    "ip -n",
    # the other global options, in ip.c / tc.c order
    "tc -bogus -n " + NO_NS,
    "tc -help -bogus",
    "tc -batch",  # usage() twice, exit 0
    "tc -cf",
    "tc -c=never qdisc show dev v0",
    "tc -color=bogus qdisc show dev v0",
    "tc - qdisc show dev nope",  # "-" is a prefix of -stats
    "ip -batch",
    "ip -family",
    "ip -family bogus link show dev v0",
    "ip -rcvbuf x link show dev v0",
    "ip -rcvbuf 18446744073709551617 link show dev v0",  # strtoul's overflow, not a wrap
    "ip --bogus",
    "ip - 3 link show dev v0",  # "-" is a prefix of -loops
]


@pytest.mark.parametrize(
    "lines",
    [
        XDP_LINES,
        TC_LINES,
        BATCH_LINES,
        GRAFT_LINES,
        CBPF_LINES,
        HELP_LINES,
        QDISC_LINES,
        FILTER_LINES,
        FATAL_LINES,
        EXEC_LINES,
        NETNS_LINES,
    ],
    ids=[
        "xdp",
        "tc",
        "batch",
        "graft",
        "cbpf",
        "help",
        "qdisc",
        "filter",
        "fatal",
        "exec",
        "netns",
    ],
)
def test_command_lines_match_iproute2(
    twins: tuple[Side, Side], lines: list[str], tmp_path: Path
) -> None:
    theirs, ours = twins
    objects = {
        "xdp": str(bpfobjs.build("xdp_pass", HOST)),
        "tc": str(bpfobjs.build("twin_btf", HOST)),
        "graft": str(bpfobjs.build("graft", HOST)),
    }
    batch = tmp_path / "batch"
    batch.write_text(BATCH.format(**objects))
    objects["batch"] = str(batch)
    tc_batch = tmp_path / "tc_batch"
    tc_batch.write_text(TC_BATCH)
    objects["tc_batch"] = str(tc_batch)
    for name, text in FATAL_BATCHES.items():
        (tmp_path / name).write_text(text.format(**objects))
        objects[name] = str(tmp_path / name)
    bytecode = tmp_path / "bytecode"
    bytecode.write_text("2,6 0 0 1\n6 0 0 0\n")
    objects["bytecode"] = str(bytecode)
    for line in lines:
        rc_t, out_t, err_t = run_line(theirs, line, objects)
        rc_o, out_o, err_o = run_line(ours, line, objects)
        assert rc_o == rc_t, f"{line}: exit {rc_o} != {rc_t}\nip: {err_t}\npy: {err_o}"
        assert normalise(out_o) == normalise(out_t), line
        assert line.endswith(STRICTER) or stderr_matches(err_t, err_o, rc_t), (
            f"{line}:\nip: {err_t!r}\npy: {err_o!r}"
        )
        state_o, state_t = settled_states(ours, theirs)
        assert state_o == state_t, line


# --- standalone `tc actions` and the `tc chain` object -------------------------------------
# This kernel has act_mirred but neither act_gact nor act_bpf: gact and bpf lines end in the
# kernel's refusal (their requests are checked byte for byte in tests/unit/test_tcactions.py),
# mirred fills a table to list, get, delete and flush. Chain templates exist only for flower,
# so a template of kind bpf is refused by the kernel, after tc parsed it (and loaded its
# program), as pytc does.

ACTIONS_LINES = [
    "tc actions",
    "tc actions help",
    "tc actions list",
    "tc actions ls action",
    "tc actions list action gact",  # no act_gact: an empty dump
    "tc -j actions ls action bpf",
    "tc actions ls action mirred",
    "tc -j actions ls action mirred",
    "tc actions ls action mirred since x",
    "tc actions flush action gact",  # exit 1
    "tc actions flush action mirred",
    "tc actions get action gact index 1",  # ... then tc rereads `action` as a command
    "tc actions get action foo index 1",
    "tc actions get action mirred index 1",
    "tc actions delete action mirred index 1",
    "tc actions get action mirred index 0",
    "tc actions get action mirred index x",
    "tc actions get action mirred",
    "tc actions get gact index 1",  # the word after get is skipped, whatever it is
    "tc actions get action help",
    "tc actions get",
    "tc -j actions get",
    "tc actions bogus",
    "tc actions add action gact pass",
    "tc actions add action drop index 4",
    "tc actions replace action gact goto chain 3",
    "tc actions change action pass cookie 0a0b hw_stats immediate",
    "tc actions add action foo",  # an unknown kind is gact: Bad action type
    "tc actions add action gact pass index x",
    "tc actions add action gact jump",
    "tc actions add action",
    "tc actions add",
    "tc actions add action gact pass random determ drop 20000",
    "tc actions add action pass cookie abc",
    "tc actions add action pass hw_stats bogus",
    "tc actions add action bpf",
    "tc actions add action bpf help",
    "tc actions add action bpf bytecode '1,6 0 0 0' drop index 3",
    "tc actions add action bpf bytecode '2,6 0 0 0'",
    "tc actions add action bpf bytecode '1,6 0 0 0' jump x",
    "tc actions add action bpf bytecode '1,6 0 0 0' pass index 3 foo",
    "tc actions add action bpf obj {tc} sec tail",  # loads, then: no act_bpf
    "tc actions add action bpf obj {tc}",  # no section "action"
    "tc actions add action bpf obj {tc} sec tail verbose pass",
    "tc actions add action bpf obj {tc} sec tail export /nonexistent-sock pass index 3",
    "tc actions add action bpf obj /nonexistent.o",
    "tc actions add action bpf pinned /nonexistent",
    "tc actions add action bpf bogus {tc}",
    "tc actions add action mirred egress redirect dev v1",
    "tc actions add action mirred egress mirror dev v1 index 5 cookie aabb",
    "tc actions add action mirred ingress mirror dev v1 pass index 7 hw_stats delayed",
    "tc actions add action mirred egress mirror dev v1 index 8 no_percpu skip_hw"
    " action mirred egress redirect dev v0 index 9",
    "tc actions add action mirred egress mirror dev v1 index 5",  # exists
    "tc actions add action mirred egress mirror dev nope",
    "tc actions add action mirred egress foo",
    "tc actions replace action mirred egress redirect dev v0 index 5",
    "tc actions ls action mirred",
    "tc -j actions ls action mirred",
    "tc -j -p actions list action mirred",
    "tc -s actions ls action mirred",
    "tc -s -j actions ls action mirred",
    "tc -br actions ls action mirred",
    "tc -o actions ls action mirred",
    "tc actions get action mirred index 5 action mirred index 9",
    "tc -j actions get action mirred index 7",
    "tc actions get action mirred index 5 action mirred index 99",
    "tc actions delete action mirred index 7",
    "tc actions delete action mirred index 7",
    "tc actions add action mirred egress redirect dev v1 index 20 add action pass",  # 1st done
    "tc actions flush action mirred",
    "tc actions ls action mirred",
    "tc -batch {actions_batch}",  # a kernel refusal ends it with "Command failed"
    "tc -force -batch {actions_batch}",  # ... gact's usage() exits at once, -force or not
    "tc actions flush action mirred",
]

# mirred add, a refused get, a parse failure, then an exit()ing usage: the last line never runs
ACTIONS_BATCH = """\
actions add action mirred egress redirect dev v1 index 3
actions get action mirred index 99
actions add action bpf bytecode '2,6 0 0 0'
actions add action foo
actions ls action mirred
"""

CHAIN_BATCH = """\
chain add dev v0 egress chain 11
filter show dev v0 egress chain 11
chain show dev v0 egress
chain get dev v0 egress chain 11
chain del dev v0 egress chain 11
chain show dev v0 egress chain 11
"""

CHAIN_LINES = [
    "tc chain show dev v0 ingress",  # no qdisc yet
    "tc chain",
    "tc chain help",
    "tc chain bogus",
    "tc qdisc add dev v0 clsact",
    "tc chain add dev v0 ingress chain 5",
    "tc chain add dev v0 ingress chain 5",
    "tc chain add dev v0 ingress chain 6 bpf",  # templates: not for cls_bpf
    "tc chain add dev v0 ingress chain 6 bpf da obj {tc}",
    "tc chain add dev v0 ingress chain 6 bpf bytecode '1,6 0 0 0' action drop flowid 1:1",
    "tc chain add dev v0 ingress chain 6 bpf help",
    "tc chain add dev v0 ingress chain 6 u32",
    "tc chain add dev v0 ingress chain 6 foo",
    "tc chain add dev v0 ingress chain 6 foo bar",
    "tc filter add dev v0 ingress pref 3 chain 7 bpf da obj {tc}",
    "tc filter add dev v0 egress pref 3 chain 9 bpf da obj {tc}",
    "tc chain show dev v0 ingress",
    "tc chain ls dev v0 egress",
    "tc chain show dev v0 ingress chain 5",
    "tc -j chain show dev v0 ingress",
    "tc -j -p chain show dev v0 egress",
    "tc chain get dev v0 ingress chain 7",
    "tc -j chain get dev v0 egress chain 9",
    "tc chain get dev v0 ingress",
    "tc chain get dev v0 ingress chain 8",
    "tc chain get dev v0 chain 5",
    "tc chain get ingress chain 5",
    "tc chain get dev v0 ingress chain 5 bpf da",
    "tc chain get dev nope ingress chain 5",
    "tc chain add dev nope ingress chain 3",
    "tc chain add dev v0 ingress chain x",
    "tc chain add dev v0 ingress handle 3 chain 4",
    "tc chain add dev v0 chain 3",
    "tc chain add dev v0 ingress help",
    "tc chain show dev v0 ingress bogus",
    "tc chain show dev v0 ingress help",
    "tc chain delete dev v0 ingress chain 5",
    "tc chain delete dev v0 ingress chain 5",
    "tc chain delete dev v0 ingress chain 7",  # and its filter with it
    "tc chain show dev v0 ingress",
    "tc qdisc add dev v1 ingress_block 22 clsact",
    "tc chain add block 22 chain 3",
    "tc chain show block 22",
    "tc -j chain show block 22",
    "tc chain get block 22 ingress chain 3",
    "tc chain show dev v1 ingress",
    "tc chain add block 23 chain 3",
    "tc chain show block 23",
    "tc chain delete block 22 chain 3",
    "tc qdisc del dev v1 clsact",
    "tc -batch {chain_batch}",  # filter and chain share tc's filter_* variables
    "tc qdisc del dev v0 clsact",
]


# Actions inside bpf filters, read by the one action grammar: mirred for real (the filters and
# the mirred table are compared after each line), gact and bpf up to the kernel's refusal
# (their requests are compared byte for byte in tests/unit/test_filter_actions.py).
FILTER_ACTION_LINES = [
    "tc qdisc add dev v0 clsact",
    "tc filter add dev v0 egress bpf da obj {tc} action mirred egress redirect dev v1",
    "tc filter add dev v0 egress pref 7 bpf da obj {tc} action mirred egress mirror dev v1"
    " index 4 cookie aabb action mirred egress redirect dev v1 index 9 hw_stats disabled"
    " no_percpu",
    "tc filter add dev v0 ingress pref 3 bpf bytecode '1,6 0 0 0' action mirred ingress mirror"
    " dev v1 pass index 5 classid 1:1",
    "tc filter replace dev v0 ingress pref 3 handle 1 bpf bytecode '1,6 0 0 1' action mirred"
    " egress redirect dev v1 index 5",
    "tc filter add dev v0 ingress pref 4 bpf bytecode '1,6 0 0 0' action flowid 1:1",
    "tc filter add dev v0 ingress pref 5 bpf bytecode '1,6 0 0 0' action mirred egress"
    " redirect dev v1 index 4",  # binds the existing action 4
    "tc filter add dev v0 egress bpf da obj {tc} action gact drop index 5",  # no act_gact
    "tc filter add dev v0 egress bpf da obj {tc} action trap",
    "tc filter add dev v0 egress bpf da obj {tc} action pass cookie 0a0b",
    "tc filter add dev v0 egress bpf da obj {tc} action goto chain 3 index 2",
    "tc filter add dev v0 egress bpf da obj {tc} action bpf obj {tc} sec tail index 4",
    # two objects on one line: the sandbox, entered at the first load, lets the second be read
    "tc filter add dev v0 egress bpf da obj {tc} action bpf obj {tc_copy} sec tail",
    "tc filter add dev v0 egress bpf da obj {tc} action mirred bogus",
    "tc filter add dev v0 egress bpf da obj {tc} action mirred egress redirect dev nope",
    "tc filter add dev v0 egress bpf da obj {tc} action help",
    "tc filter add dev v0 egress bpf da obj {tc} action drop action",
    "tc filter add dev v0 egress bpf da obj {tc} action drop da",
    "tc filter add dev v0 egress bpf da obj {tc} action",
    "tc filter add dev v0 egress bpf da obj {tc} action bpf obj /nonexistent.o",
    "tc filter add dev v0 egress bpf da obj {tc} action gact pass random determ drop 20000",
    "tc filter add dev v0 egress bpf da obj {tc} action pass cookie abc",
    "tc filter get dev v0 egress pref 7 protocol all handle 1 bpf action gact index x",
    "tc chain add dev v0 ingress chain 6 bpf da obj {tc} action mirred egress redirect dev v1",
    "tc actions ls action mirred",
    "tc filter del dev v0 egress pref 7",
    "tc actions ls action mirred",
    "tc -batch {filter_actions_batch}",
    "tc qdisc del dev v0 clsact",
    "tc actions flush action mirred",
]

# a filter's action list in a batch: its failure is a failed command (status 1), not an exit
FILTER_ACTIONS_BATCH = """\
filter add dev v0 egress pref 2 bpf bytecode '1,6 0 0 0' action mirred egress redirect dev v1
filter add dev v0 egress pref 3 bpf bytecode '1,6 0 0 0' action mirred egress redirect dev nope
filter add dev v0 egress pref 4 bpf bytecode '1,6 0 0 0' action mirred egress mirror dev v1
"""


def _timeless(text: str) -> str:
    """_timeless: an action's age in seconds may tick between the twins' lines."""
    text = re.sub(r"\b(installed|used|firstused|expires) \d+ sec", r"\1 N sec", text)
    return re.sub(r'"(installed|last_used|first_used|expires)": ?\d+', r'"\1":N', text)


def action_state(side: Side) -> object:
    """action_state: the mirred table and the chains of v0, read with tc itself."""
    state = []
    for words in (
        ["actions", "ls", "action", "mirred"],
        ["chain", "show", "dev", "v0", "ingress"],
        ["chain", "show", "dev", "v0", "egress"],
    ):
        shown = subprocess.run(
            ["tc", "-n", side.netns, "-j", *words], capture_output=True, text=True
        )
        state.append((shown.returncode, _timeless(shown.stdout), shown.stderr))
    return state


@pytest.mark.parametrize(
    "lines",
    [ACTIONS_LINES, CHAIN_LINES, FILTER_ACTION_LINES],
    ids=["actions", "chain", "filter-actions"],
)
def test_actions_and_chains_match_iproute2(
    twins: tuple[Side, Side], lines: list[str], tmp_path: Path
) -> None:
    theirs, ours = twins
    objects = {"tc": str(bpfobjs.build("twin_btf", HOST))}
    tc_copy = tmp_path / "twin_copy.o"
    tc_copy.write_bytes(Path(objects["tc"]).read_bytes())
    objects["tc_copy"] = str(tc_copy)
    chain_batch = tmp_path / "chain_batch"
    chain_batch.write_text(CHAIN_BATCH)
    objects["chain_batch"] = str(chain_batch)
    actions_batch = tmp_path / "actions_batch"
    actions_batch.write_text(ACTIONS_BATCH)
    objects["actions_batch"] = str(actions_batch)
    filter_actions_batch = tmp_path / "filter_actions_batch"
    filter_actions_batch.write_text(FILTER_ACTIONS_BATCH)
    objects["filter_actions_batch"] = str(filter_actions_batch)
    for line in lines:
        rc_t, out_t, err_t = run_line(theirs, line, objects)
        rc_o, out_o, err_o = run_line(ours, line, objects)
        assert rc_o == rc_t, f"{line}: exit {rc_o} != {rc_t}\ntc: {err_t}\npy: {err_o}"
        assert _timeless(normalise(out_o)) == _timeless(normalise(out_t)), line
        assert stderr_matches(err_t, err_o, rc_t), f"{line}:\ntc: {err_t!r}\npy: {err_o!r}"
        state_o, state_t = settled_states(ours, theirs)
        assert state_o == state_t, line
        actions_o, actions_t = settled_states(ours, theirs, action_state)
        assert actions_o == actions_t, line
