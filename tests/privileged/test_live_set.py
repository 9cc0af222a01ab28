"""A failed command leaves a live set of pins and its traffic as they were (issue 16).

Object A (txn_legacy) is attached to v0's ingress: its classifier counts packets in the pinned
txn_hits (slot 0, slot 3 when the pinned map-in-map has its inner map) and tail-calls
txn_jmp[0], A's 1/0 program, which counts in slot 1. Object B is the same code with its tail
call counting in slot 2 and the same pins: a command adding B writes B's programs into the
shared txn_jmp at its commit. Raw frames sent from v1 reach v0's ingress.

B's `pytc filter add dev v1 ...` then fails: for real (a tail call out of the array's bounds,
a program the verifier refuses, no clsact on v1) and at every bpf(2) call and netlink request
of a successful run in turn (the n-th call fails with EPERM, as test_fault_injection does).
After each failure, read back through the kernel: every pin's contents and slots are
unchanged, no filter is left on v1, no fd leaked; and frames through v0 still run A's tail
call (slot 1 counts them, slot 2 does not). `delete` and `get` lines naming B never load it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import bpfobjs
import pytest
from faults import NAMES, Plan, install, open_fds, pytc
from pinstate import entries, filter_prog_ids, snapshot

from pybpftool.kernel.bpf import Kernel

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
FRAME = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x88\xb5" + bytes(46)  # local ethertype


def obj(*flags: str) -> str:
    return str(bpfobjs.build("txn_legacy", HOST, *flags))


def add(dev: str, path: str, verb: str = "add") -> tuple[str, ...]:
    """add: `filter VERB dev DEV ingress pref 1 handle 1 bpf da obj PATH`."""
    return ("filter", verb, "dev", dev, "ingress", "pref", "1", "handle", "1", "bpf", "da", "obj",
            path)  # fmt: skip


def hits(bpffs: str) -> list[int]:
    _info, found = entries(Kernel(), f"{bpffs}/tc/globals/txn_hits")
    return [int.from_bytes(found[i.to_bytes(4, sys.byteorder)], sys.byteorder) for i in range(4)]


def traffic_runs_a(bpffs: str, frames: int = 3) -> None:
    """traffic_runs_a: frames into v0 run A's classifier, find the inner map, run A's tail."""
    start = hits(bpffs)
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
        sock.bind(("v1", 0))
        for _ in range(frames):
            sock.send(FRAME)
    deadline = time.monotonic() + 5
    while hits(bpffs)[0] < start[0] + frames and time.monotonic() < deadline:
        time.sleep(0.01)
    now = hits(bpffs)
    assert [n - s for n, s in zip(now, start, strict=True)] == [frames, frames, 0, frames]


def no_filter(netns: str, dev: str) -> bool:
    return filter_prog_ids(netns, dev) == []


@pytest.fixture
def live(in_netns: str, bpffs: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """live: A attached to v0's ingress, its pins in place; no IPv6, so only our frames count."""
    for dev in ("all", "default", "v0", "v1"):
        subprocess.run(
            ["ip", "netns", "exec", in_netns, "sysctl", "-qw",
             f"net.ipv6.conf.{dev}.disable_ipv6=1"],
            check=True,
        )  # fmt: skip
    subprocess.run(["tc", "-n", in_netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    monkeypatch.setenv("TC_BPF_MNT", bpffs)
    status, err = pytc(*add("v0", obj()))
    assert status == 0, err
    traffic_runs_a(bpffs)
    return in_netns


@pytest.mark.parametrize(
    ("flags", "clsact", "message"),
    [
        pytest.param(("-DTAIL_OUT_OF_BOUNDS",), True, "Tail call key 5 for map 1 out of bounds?",
                     id="tail-call-out-of-bounds"),
        pytest.param(("-DTAIL_REJECTED",), True, "invalid bpf_context access",
                     id="verifier-rejects-a-tail-call"),
        pytest.param((), False, "Parent Qdisc doesn't exists", id="no-clsact-on-the-device"),
    ],
)  # fmt: skip
def test_a_real_late_failure_changes_nothing_shared(
    live: str, bpffs: str, flags: tuple[str, ...], clsact: bool, message: str
) -> None:
    if clsact:
        subprocess.run(["tc", "-n", live, "qdisc", "add", "dev", "v1", "clsact"], check=True)
    before, fds = snapshot(bpffs), open_fds()
    status, err = pytc(*add("v1", obj("-DTAIL_KEY=2", *flags)))
    assert status != 0 and message in err, err
    assert snapshot(bpffs) == before
    assert open_fds() == fds
    assert no_filter(live, "v1")
    traffic_runs_a(bpffs)


def test_every_failing_step_changes_nothing_shared(
    live: str, bpffs: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    subprocess.run(["tc", "-n", live, "qdisc", "add", "dev", "v1", "clsact"], check=True)
    b_line = add("v1", obj("-DTAIL_KEY=2"))
    plan = Plan()
    install(monkeypatch, plan)
    assert pytc(*b_line)[0] == 0  # count the calls of a successful B
    totals = dict(plan.counts)
    assert {"map_lookup", "prog_by_id", "map_update", "filter"} <= set(totals)
    # Undo it: A's programs back into txn_jmp (a replace of A), B's filter gone.
    assert pytc(*add("v0", obj(), "replace"))[0] == 0
    assert pytc("filter", "del", "dev", "v1", "ingress", "pref", "1")[0] == 0
    traffic_runs_a(bpffs)
    before, fds = snapshot(bpffs), open_fds()
    tried = 0
    for op, total in totals.items():
        for n in range(1, total + 1):
            plan.counts.clear()
            plan.target = (op, n)
            status, err = pytc(*b_line)
            plan.target = None
            where = f"{op} #{n}"
            assert status != 0, f"{where}: the command succeeded"
            assert any(name in err for name in NAMES[op]), f"{where}: {err!r}"
            assert snapshot(bpffs) == before, f"{where}: pinned state changed"
            assert open_fds() == fds, f"{where}: fds leaked"
            assert no_filter(live, "v1"), f"{where}: a filter was left"
            traffic_runs_a(bpffs)
            before = snapshot(bpffs)  # the frames counted: the new baseline
            tried += 1
    assert tried == sum(totals.values()) >= 20


def test_delete_and_get_do_not_load_the_object_they_name(
    live: str, bpffs: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    subprocess.run(["tc", "-n", live, "qdisc", "add", "dev", "v1", "clsact"], check=True)
    b = obj("-DTAIL_KEY=2")
    plan = Plan()
    install(monkeypatch, plan)
    before = snapshot(bpffs)
    lines = [
        ("filter", "get", "dev", "v0", "ingress", "pref", "1", "protocol", "all", "handle", "1",
         "bpf", "da", "obj", b),
        ("filter", "delete", "dev", "v1", "ingress", "pref", "1", "handle", "1", "bpf", "da",
         "obj", b),
        ("filter", "show", "dev", "v0", "ingress"),
    ]  # fmt: skip
    for line in lines:
        plan.counts.clear()
        pytc(*line)
        changing = set(plan.counts) & {"map_create", "map_update", "obj_pin", "pin_rename"}
        assert "prog_load" not in plan.counts and not changing, f"{line[1]}: {plan.counts}"
        assert snapshot(bpffs) == before, line[1]
    assert Path(b).exists()
    traffic_runs_a(bpffs)
