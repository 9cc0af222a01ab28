"""Fault injection on the real kernel: every bpf(2) call and netlink request of a
`pytc filter add` fails in turn; after each, nothing the command made is left behind.

The command runs in-process (inside the test's netns) with pybpftool's Kernel and Netlink
wrapped so that the n-th call of one operation fails with EPERM, as the kernel would say it.
The object has pinned maps, a map-in-map, tail calls and is attached to a veth, so the steps
cover map creation, pinning (temporary pin, rename), reuse checks, inner-map and tail-call
updates, program loads and the attach. After every failure: the exit status is not 0, the
message names the step, no new pin exists, the pins that existed keep all their contents
(read through the kernel), no fd leaked, no filter is left.
"""

from __future__ import annotations

import os
import sys

import bpfobjs
import pytest
from faults import NAMES, Plan, install, open_fds, pytc
from pinstate import snapshot

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"


def test_every_step_fails_cleanly(
    in_netns: str, env: dict[str, str], bpffs: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    subprocess.run(["tc", "-n", in_netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    monkeypatch.setenv("TC_BPF_MNT", bpffs)
    obj = str(bpfobjs.build("legacy_maps", HOST))
    add = ("filter", "add", "dev", "v0", "ingress", "pref", "7", "bpf", "da", "obj", obj)
    plan = Plan()
    install(monkeypatch, plan)
    # A first load leaves pins behind (as iproute2's would); give one of them contents.
    status, err = pytc(*add)
    assert status == 0, err
    assert pytc("filter", "del", "dev", "v0", "ingress", "pref", "7")[0] == 0
    from pybpftool.kernel.bpf import Kernel

    with Kernel().obj_get(f"{bpffs}/tc/globals/counters") as counters:
        Kernel().map_update(counters, bytes(4), (41).to_bytes(8, sys.byteorder))
    os.unlink(f"{bpffs}/tc/globals/map_outer")  # this one the next loads must create again
    plan.counts.clear()
    assert pytc(*add)[0] == 0  # count the calls of a full load with pins in place
    totals = dict(plan.counts)
    assert pytc("filter", "del", "dev", "v0", "ingress", "pref", "7")[0] == 0
    os.unlink(f"{bpffs}/tc/globals/map_outer")
    before, fds = snapshot(bpffs), open_fds()  # no filter runs from here on: nothing counts
    assert {"map_create", "obj_pin", "pin_rename", "obj_get", "map_update", "prog_load"} <= set(
        totals
    )
    assert "filter" in totals
    tried = 0
    for op, total in totals.items():
        for n in range(1, total + 1):
            plan.counts.clear()
            plan.target = (op, n)
            status, err = pytc(*add)
            plan.target = None
            where = f"{op} #{n}"
            assert status != 0, f"{where}: the command succeeded"
            assert err.strip(), f"{where}: no message"
            assert any(name in err for name in NAMES[op]), f"{where}: {err!r}"
            assert snapshot(bpffs) == before, f"{where}: pins changed"
            assert open_fds() == fds, f"{where}: fds leaked"
            shown = subprocess.run(
                ["tc", "-n", in_netns, "filter", "show", "dev", "v0", "ingress"],
                capture_output=True,
                text=True,
                check=True,
            )
            assert shown.stdout == "", f"{where}: a filter was left"
            tried += 1
    assert tried == sum(totals.values()) >= 15  # every call of the load, each in turn
