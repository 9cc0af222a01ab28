"""Fault injection on the real kernel: every bpf(2) call and netlink request of a
`pytc filter add` fails in turn; after each, nothing the command made is left behind.

The command runs in-process (inside the test's netns) with pybpftool's Kernel and Netlink
wrapped so that the n-th call of one operation fails with EPERM, as the kernel would say it.
The object has pinned maps, a map-in-map, tail calls and is attached to a veth, so the steps
cover map creation, pinning, reuse checks, inner-map and tail-call updates, program loads and
the attach. After every failure: the exit status is not 0, the message names the step, no
new pin exists, the pins that existed keep their contents, no fd leaked, no filter is left.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from contextlib import redirect_stderr
from pathlib import Path

import bpfobjs
import pytest

from pybpftool.errors import KernelError, NetlinkFailure
from pybpftool.kernel import bpf as kbpf
from pybpftool.kernel.bpf import LoadResult

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
BPF_OPS = (
    "map_create",
    "map_update",
    "obj_pin",
    "obj_get",
    "map_info",
    "prog_load",
    "prog_bind_map",
)
NETLINK_OPS = ("link_index", "filter")
# The kernel layer's own name of each operation (its KernelError says "<name> failed: ...").
KERNEL_NAMES = {
    "map_create": "map create",
    "map_update": "map update",
    "obj_pin": "obj pin",
    "obj_get": "obj get",
    "map_info": "get info",
    "prog_bind_map": "prog bind map",
}
# What the command's message says when that step fails: it must name the step.
NAMES = {
    "map_create": ("rejected",),
    "map_update": (
        "Error filling program arrays!",
        "Cannot insert map into map!",
        "cannot set initial data",
    ),
    "obj_pin": ("Could not pin",),
    "obj_get": ("Couldn't open pinned map",),
    "map_info": ("get info failed",),
    "prog_load": ("rejected",),
    "prog_bind_map": ("prog bind map failed",),
    "link_index": ("RTNETLINK answers",),
    "filter": ("RTNETLINK answers",),
}


class Plan:
    """Plan: which call of which operation fails; counts every call."""

    def __init__(self) -> None:
        self.target: tuple[str, int] | None = None
        self.counts: dict[str, int] = {}

    def hit(self, op: str) -> bool:
        self.counts[op] = self.counts.get(op, 0) + 1
        if self.target is None or self.target[0] != op:
            return False
        n = self.counts[op]
        # A refused program is loaded again for its log: the refusal must hold then too.
        return n == self.target[1] or (op == "prog_load" and n == self.target[1] + 1)


def install(monkeypatch: pytest.MonkeyPatch, plan: Plan) -> None:
    import pybpftool.netlink as nl

    def failing(name: str, method):  # type: ignore[no-untyped-def]
        def wrapper(self, *args, **kw):  # type: ignore[no-untyped-def]
            if plan.hit(name):
                if name == "prog_load":
                    return LoadResult(None, errno.EPERM, "injected", 0)
                op = KERNEL_NAMES[name]
                raise KernelError(op, errno.EPERM, f"{op} failed: Operation not permitted")
            return method(self, *args, **kw)

        return wrapper

    for op in BPF_OPS:
        monkeypatch.setattr(kbpf.Kernel, op, failing(op, getattr(kbpf.Kernel, op)))

    def failing_nl(name: str, method):  # type: ignore[no-untyped-def]
        def wrapper(self, *args, **kw):  # type: ignore[no-untyped-def]
            if plan.hit(name):
                raise NetlinkFailure(errno.EPERM, "Operation not permitted")
            return method(self, *args, **kw)

        return wrapper

    for op in NETLINK_OPS:
        monkeypatch.setattr(nl.Netlink, op, failing_nl(op, getattr(nl.Netlink, op)))


def pytc(*args: str) -> tuple[int, str]:
    from pybpftool.cli.tc.main import main

    err = io.StringIO()
    with redirect_stderr(err):
        status = main(list(args))
    return status, err.getvalue()


def snapshot(root: str) -> dict[str, bytes]:
    """snapshot: every pin with the contents of slot 0 (through the kernel, not the file)."""
    from pybpftool.kernel.bpf import Kernel

    kernel = Kernel()
    out = {}
    for p in sorted(Path(root).rglob("*")):
        if p.is_dir() or p.is_symlink() or p.name.endswith(".debug"):
            continue
        with kernel.obj_get(str(p)) as fd:
            info = kernel.map_info(fd)
            value = b""
            if info.type in (1, 2):  # hash, array: their first slot
                value = kernel.map_lookup(fd, bytes(info.key_size), info.value_size) or b""
            out[str(p.relative_to(root))] = value
    return out


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


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
    before, fds = snapshot(bpffs), open_fds()
    plan.counts.clear()
    assert pytc(*add)[0] == 0  # count the calls of a full load with pins in place
    totals = dict(plan.counts)
    assert pytc("filter", "del", "dev", "v0", "ingress", "pref", "7")[0] == 0
    os.unlink(f"{bpffs}/tc/globals/map_outer")
    assert {"map_create", "obj_pin", "obj_get", "map_update", "prog_load", "filter"} <= set(totals)
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
