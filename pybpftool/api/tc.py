"""tc: cls_bpf filters on a device's clsact qdisc (RTM_NEWTFILTER / RTM_DELTFILTER).

`send_bpf_filter` is the one cls_bpf request both `pybpftool.attach_tc` and `pytc filter
add/change/replace ... bpf` send; pytc passes everything tc's command line decided (parent,
chain, classid, classic bytecode, flags), the API its few keywords. A pytc filter with
actions passes its options as tc's f_bpf.c builds them (netlink/clsbpf.py), which go out
as they are.

Annotations here are evaluated when defined (no `from __future__ import annotations`):
typing.NamedTuple compiles a string annotation into a ForwardRef per field, which a cold
attach, defining these records, paid for.
"""

import errno
import socket
from typing import TYPE_CHECKING, Any, NamedTuple

from pybpftool.api.args import bool_arg, dev_arg, netns_arg
from pybpftool.api.links import link_index, open_netlink
from pybpftool.api.objects import Program, StrPath
from pybpftool.api.progref import program_ref
from pybpftool.errors import NetlinkFailure, UsageError
from pybpftool.netlink.uapi import (
    EGRESS,
    ETH_P_ALL,
    INGRESS,
    NLM_F_CREATE,
    NLM_F_EXCL,
    RTM_DELQDISC,
    RTM_DELTFILTER,
    RTM_NEWQDISC,
    TC_FILTER_FLAGS,
    TC_H_INGRESS,
    TC_H_INGRESS_HANDLE,
    TCM_IFINDEX_MAGIC_BLOCK,
)
from pybpftool.uapi import BpfProgType

if TYPE_CHECKING:
    from pybpftool.netlink import Netlink
    from pybpftool.netlink.clsbpf import ClsBpfOptions

DIRECTIONS = {"ingress": INGRESS, "egress": EGRESS}


class BpfFilterRequest(NamedTuple):
    """BpfFilterRequest: a cls_bpf filter request as tc's f_bpf.c fills it (0/None: unset)."""

    parent: int
    prio: int = 0
    handle: int | None = None
    protocol: int = 0  # host order; sent as given (0: none, which only `change` may leave)
    chain: int | None = None
    fd: int | None = None  # an eBPF program...
    name: str | None = None  # ...and its annotation (TCA_BPF_NAME)
    ops: bytes | None = None  # or classic BPF: struct sock_filter array
    classid: int | None = None
    direct_action: bool = False
    skip_hw: bool = False
    skip_sw: bool = False
    # Or all of the options (program, class ids and actions in the line's order, flags),
    # encoded as tc's f_bpf.c builds them; the fields above then only place the filter.
    options: "ClsBpfOptions | None" = None




class TcFilter(NamedTuple):
    """TcFilter: where attach_tc put its filter: pass `pref` and `handle` to detach_tc."""

    pref: int
    handle: int
    prog_id: int


def send_bpf_filter(
    nl: "Netlink", command: str, ifindex: int, request: BpfFilterRequest, echo: bool = False
) -> tuple[Any, ...]:
    """send_bpf_filter: `command` (add-filter, change-filter, replace-filter) of a cls_bpf
    filter on `ifindex` (TCM_IFINDEX_MAGIC_BLOCK: a shared block); the kernel's echo of the
    filter when `echo`. Raises NetlinkFailure with the kernel's extack text."""
    if request.options is not None:
        _send_options(nl, command, ifindex, request)
        return ()
    kw: dict[str, object] = {"parent": request.parent}
    for key, value in (
        ("prio", request.prio or None),
        ("handle", request.handle),
        ("protocol", request.protocol),  # 0 is sent as 0 (tc's `change` without protocol)
        ("chain", request.chain),
        ("fd", request.fd),
        ("name", request.name),
        ("ops", request.ops),
        ("classid", request.classid),
    ):
        if value is not None:
            kw[key] = value
    for flag in ("direct_action", "skip_hw", "skip_sw"):
        if getattr(request, flag):
            kw[flag] = True
    signed = -1 if ifindex == TCM_IFINDEX_MAGIC_BLOCK else ifindex  # tcm_ifindex is an int
    return nl.filter(command, signed, echo=echo, **kw)


def _send_options(nl: "Netlink", command: str, ifindex: int, request: BpfFilterRequest) -> None:
    """_send_options: the request with its options already built, as tc sends it."""
    from pybpftool.netlink import TcRequests
    from pybpftool.netlink.uapi import RTM_NEWTFILTER

    info = ((request.prio << 16) | socket.htons(request.protocol)) & 0xFFFFFFFF
    TcRequests(nl).filter_modify(
        RTM_NEWTFILTER,
        TC_FILTER_FLAGS[command.removesuffix("-filter")],
        ifindex,
        request.parent,
        info,
        request.chain,
        kind="bpf",
        handle=request.handle or 0,
        options=request.options,
    )


def attach_tc(
    dev: str,
    direction: str,
    prog: Program | StrPath,
    *,
    pref: int | None = None,
    handle: int | None = None,
    direct_action: bool = True,
    replace: bool = False,
    netns: StrPath | None = None,
) -> TcFilter:
    """attach_tc: attach sched_cls program `prog` (a Program or the path of a pinned program)
    as a cls_bpf filter on `dev`'s "ingress" or "egress" hook.

    The device's clsact qdisc is created if it has none, and removed again if the filter
    then fails. `pref` (1-65535) and `handle` place the filter (default: the kernel picks);
    with `replace` an existing filter at that pref and handle gets the new program (without
    them `replace` adds, as `tc filter replace` does). `direct_action` is tc's `da`: the
    program's return value is the verdict. `netns` (a name under /run/netns or a path) is
    where `dev` lives; only the netlink socket enters it. Returns where the filter went.
    """
    parent = _parent(direction)
    _check_range("pref", pref, 0xFFFF)
    _check_range("handle", handle, 0xFFFFFFFF)
    bool_arg("direct_action", direct_action)
    bool_arg("replace", replace)
    name, where = dev_arg(dev), netns_arg(netns)
    with program_ref(prog, BpfProgType.BPF_PROG_TYPE_SCHED_CLS) as ref, open_netlink(where) as nl:
        index = link_index(nl, name)
        request = BpfFilterRequest(
            parent,
            prio=pref or 0,
            handle=handle,
            protocol=ETH_P_ALL,
            fd=ref.fd,
            name=ref.annotation,
            direct_action=direct_action,
        )
        created = ensure_clsact(nl, index)
        try:
            echoed = send_bpf_filter(
                nl, "replace-filter" if replace else "add-filter", index, request, echo=True
            )
        except BaseException:
            if created:
                remove_clsact_if_unused(nl, index)
            raise
    return _placed(echoed, pref, handle)


def detach_tc(
    dev: str,
    direction: str,
    *,
    pref: int | None = None,
    handle: int | None = None,
    netns: StrPath | None = None,
) -> None:
    """detach_tc: delete cls_bpf filters from `dev`'s "ingress" or "egress" hook: the one at
    `pref` and `handle`, every filter at `pref`, or (neither given) every filter of the hook,
    as `tc filter delete` does. The clsact qdisc stays. `netns` as for attach_tc."""
    from pybpftool.netlink import TcRequests

    parent = _parent(direction)
    _check_range("pref", pref, 0xFFFF)
    _check_range("handle", handle, 0xFFFFFFFF)
    if handle is not None and not pref:
        raise UsageError("detach_tc: a handle needs its pref")
    info = (pref << 16 | socket.htons(ETH_P_ALL)) if pref else 0
    name, where = dev_arg(dev), netns_arg(netns)
    with open_netlink(where) as nl:
        index = link_index(nl, name)
        TcRequests(nl).filter_modify(
            RTM_DELTFILTER,
            0,
            index,
            parent,
            info,
            None,
            kind="bpf" if handle is not None else None,
            handle=handle or 0,
        )


def ensure_clsact(nl: "Netlink", ifindex: int) -> bool:
    """ensure_clsact: give `ifindex` a clsact qdisc; False if it had one already (or any
    other qdisc at the ingress parent, which the filter request then judges)."""
    from pybpftool.netlink import TcRequests

    try:
        TcRequests(nl).qdisc_modify(
            RTM_NEWQDISC,
            NLM_F_CREATE | NLM_F_EXCL,
            ifindex,
            TC_H_INGRESS_HANDLE,
            TC_H_INGRESS,
            "clsact",
        )
    except NetlinkFailure as err:
        if err.errno == errno.EEXIST:
            return False
        raise
    return True


def remove_clsact_if_unused(nl: "Netlink", ifindex: int) -> None:
    """remove_clsact_if_unused: delete the clsact qdisc of `ifindex` unless some filter
    (another program's, added meanwhile) uses it; never raises."""
    from pybpftool.netlink import TcRequests

    requests = TcRequests(nl)
    try:
        if any(requests.filter_dump(ifindex, parent, 0, None) for parent in (INGRESS, EGRESS)):
            return
        requests.qdisc_modify(
            RTM_DELQDISC, 0, ifindex, TC_H_INGRESS_HANDLE, TC_H_INGRESS, "clsact"
        )
    except NetlinkFailure:
        pass  # the device went away meanwhile, and its qdisc with it


def _placed(echoed: tuple[Any, ...], pref: int | None, handle: int | None) -> TcFilter:
    """_placed: pref, handle and program id of the new filter, from the kernel's echo."""
    for msg in echoed:
        options = msg.get("TCA_OPTIONS")
        if msg.get("TCA_KIND") == "bpf" and options is not None and int(msg["handle"]):
            prog_id = int(options.get("TCA_BPF_ID") or 0)
            return TcFilter(int(msg["info"]) >> 16, int(msg["handle"]), prog_id)
    return TcFilter(pref or 0, handle or 0, 0)  # an old kernel that does not echo


def _parent(direction: str) -> int:
    parent = DIRECTIONS.get(direction) if isinstance(direction, str) else None
    if parent is None:
        raise UsageError(f"direction must be 'ingress' or 'egress', not {direction!r}")
    return parent


def _check_range(name: str, value: int | None, top: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
        raise UsageError(f"{name} must be an integer from 1 to {top}, not {value!r}")
