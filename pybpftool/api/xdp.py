"""xdp: attach and detach XDP programs (RTM_NEWLINK with IFLA_XDP).

`set_xdp` is the one request both `pybpftool.attach_xdp` and `pyip link set ... xdp` send,
on a device both look up with api.links.link_index first (before anything is attached: pyip
looks it up before its load commits); pyip passes its flags as ip computes them (mode word,
-force), the API from `mode` and `replace`.
"""

from __future__ import annotations

from pybpftool.api.args import bool_arg, dev_arg, netns_arg
from pybpftool.api.links import link_index, open_netlink
from pybpftool.api.objects import Program, StrPath
from pybpftool.api.progref import program_ref
from pybpftool.errors import UsageError
from pybpftool.netlink.uapi import (
    XDP_FLAGS_DRV_MODE,
    XDP_FLAGS_HW_MODE,
    XDP_FLAGS_SKB_MODE,
    XDP_FLAGS_UPDATE_IF_NOEXIST,
)
from pybpftool.uapi import BpfProgType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pybpftool.netlink import Netlink

# attach_xdp's modes -> XDP_FLAGS_*_MODE (auto: none, the kernel picks driver mode if it can).
XDP_MODES = {
    "auto": 0,
    "generic": XDP_FLAGS_SKB_MODE,
    "driver": XDP_FLAGS_DRV_MODE,
    "offload": XDP_FLAGS_HW_MODE,
}
# XdpState.mode (IFLA_XDP_ATTACHED: 1 drv, 2 skb, 3 hw) -> the flag that detaches it.
_DETACH_FLAGS = {1: XDP_FLAGS_DRV_MODE, 2: XDP_FLAGS_SKB_MODE, 3: XDP_FLAGS_HW_MODE}


def set_xdp(nl: Netlink, ifindex: int, fd: int, flags: int) -> None:
    """set_xdp: attach program `fd` to device `ifindex` (-1: detach) with XDP_FLAGS_*
    `flags`; NetlinkFailure (with the kernel's extack text) if the kernel refuses."""
    nl.xdp_set(ifindex, fd, flags)


def xdp_flags(mode: str, replace: bool) -> int:
    """xdp_flags: XDP_FLAGS_* for attach_xdp's `mode` and `replace`."""
    if not isinstance(mode, str) or mode not in XDP_MODES:
        raise UsageError(f"unknown XDP mode {mode!r}", f"Modes: {', '.join(XDP_MODES)}")
    return XDP_MODES[mode] | (0 if bool_arg("replace", replace) else XDP_FLAGS_UPDATE_IF_NOEXIST)


def attach_xdp(
    dev: str,
    prog: Program | StrPath,
    *,
    mode: str = "auto",
    replace: bool = False,
    netns: StrPath | None = None,
) -> None:
    """attach_xdp: attach XDP program `prog` (a Program or the path of a pinned program) to
    network device `dev`.

    `mode` is "auto" (driver mode where the driver has it, else generic), "generic",
    "driver" or "offload"; offload needs a program the device's driver offloaded (loaded
    for that device, say by another loader, and pinned): `load` binds programs to no device,
    so the kernel refuses its programs there (NetlinkFailure, EINVAL). Without `replace` a
    device that already has a program refuses (NetlinkFailure, EBUSY); with it the program
    is swapped in atomically. `netns` (a name under /run/netns or a path) is where `dev`
    lives; only the netlink socket enters it.
    """
    flags = xdp_flags(mode, replace)
    name, where = dev_arg(dev), netns_arg(netns)
    with program_ref(prog, BpfProgType.BPF_PROG_TYPE_XDP) as ref, open_netlink(where) as nl:
        set_xdp(nl, link_index(nl, name), ref.fd, flags)


def detach_xdp(dev: str, *, netns: StrPath | None = None) -> bool:
    """detach_xdp: remove every XDP program attached to `dev` (in any mode); False if there
    was none. `netns` as for attach_xdp."""
    name, where = dev_arg(dev), netns_arg(netns)
    with open_netlink(where) as nl:
        index = link_index(nl, name)
        state = nl.xdp_state(index)
        if state is None:
            return False
        if state.mode in _DETACH_FLAGS:
            modes = [_DETACH_FLAGS[state.mode]]
        else:  # several at once (IFLA_XDP_ATTACHED 4): each attached mode by its id
            ids = (
                (state.drv_prog_id, XDP_FLAGS_DRV_MODE),
                (state.skb_prog_id, XDP_FLAGS_SKB_MODE),
                (state.hw_prog_id, XDP_FLAGS_HW_MODE),
            )
            modes = [flag for prog_id, flag in ids if prog_id]
        for flag in modes:
            set_xdp(nl, index, -1, flag)
    return True
