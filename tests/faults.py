"""faults: make the n-th call of one kernel or netlink operation fail, as the kernel would.

pybpftool's Kernel and Netlink methods are wrapped (monkeypatch) so that the n-th call of one
operation fails with EPERM; `Plan.counts` counts every call, so a test first counts the
calls of a full run, then fails each in turn. Commands run in-process (`pytc`).
"""

from __future__ import annotations

import errno
import io
import os
from contextlib import redirect_stderr

import pytest

from pybpftool.errors import KernelError, NetlinkFailure
from pybpftool.kernel import bpf as kbpf
from pybpftool.kernel.bpf import LoadResult

BPF_OPS = (
    "map_create",
    "map_update",
    "map_lookup",
    "obj_pin",
    "pin_rename",
    "obj_get",
    "map_info",
    "prog_load",
    "prog_bind_map",
    "prog_by_id",
    "map_by_id",
)
NETLINK_OPS = ("link_index", "filter")
# The kernel layer's own name of each operation (its KernelError says "<name> failed: ...").
KERNEL_NAMES = {
    "map_create": "map create",
    "map_update": "map update",
    "map_lookup": "map lookup",
    "pin_rename": "rename",
    "prog_by_id": "prog get fd by id",
    "map_by_id": "map get fd by id",
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
    "map_lookup": ("cannot read slot",),
    "prog_by_id": ("cannot read slot",),
    "map_by_id": ("cannot read slot",),
    "obj_pin": ("Could not pin",),
    "pin_rename": ("Could not pin",),
    "obj_get": ("Couldn't open pinned map",),
    "map_info": ("get info failed",),
    "prog_load": ("rejected",),
    "prog_bind_map": ("prog bind map failed",),
    # The device lookup is ll_name_to_index(): a refused RTM_GETLINK there is "Cannot find
    # device", as in iproute2; a later lookup (the API's) says RTNETLINK answers.
    "link_index": ("RTNETLINK answers", "Cannot find device"),
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


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))
