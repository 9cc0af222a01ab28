"""netlink: the only package that imports pyroute2: links and XDP, qdiscs, cls_bpf filters,
chains and actions.

Only pyroute2's message codecs are used (codecs.py, with its fixes), on an rtnetlink socket
of our own (core.Netlink): its IPRoute would add asyncio, ssl and unittest (~70 ms) to every
cold start. pyroute2 is pinned to 0.9.x in pyproject.toml because the codecs are used this
way. Constants live in uapi.py; results are plain records (named tuples).
"""

from pybpftool.netlink.codecs import bpf_filter_message
from pybpftool.netlink.core import Link, Netlink, XdpState
from pybpftool.netlink.tc import (
    ActionRequests,
    BpfFilter,
    ChainRequests,
    Qdisc,
    RawMessage,
    TcRequests,
    rtattrs,
)

__all__ = [
    "ActionRequests",
    "BpfFilter",
    "ChainRequests",
    "Link",
    "Netlink",
    "Qdisc",
    "RawMessage",
    "TcRequests",
    "XdpState",
    "bpf_filter_message",
    "rtattrs",
]
