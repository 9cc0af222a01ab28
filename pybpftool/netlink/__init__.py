"""netlink: the only package that imports pyroute2: links and XDP, qdiscs, cls_bpf filters,
chains and actions.

Only pyroute2's message codecs are used (codecs.py, with its fixes), on an rtnetlink socket
of our own (core.Netlink): its IPRoute would add asyncio, ssl and unittest (~70 ms) to every
cold start. pyroute2 is pinned to 0.9.x in pyproject.toml because the codecs are used this
way. Constants live in uapi.py; results are plain records (named tuples).

The names below are loaded on first use (PEP 562), so an XDP attach does not import the tc
half, nor `pybpftool.netlink.uapi` anything at all.
"""

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the console's start-up)
if TYPE_CHECKING:
    from pybpftool.netlink.attrs import rtattrs
    from pybpftool.netlink.codecs import bpf_filter_message
    from pybpftool.netlink.core import Netlink
    from pybpftool.netlink.linkattrs import Link, XdpState
    from pybpftool.netlink.tc import (
        ActionRequests,
        BpfFilter,
        ChainRequests,
        Qdisc,
        RawMessage,
        TcRequests,
    )

_HOMES = {
    "bpf_filter_message": "codecs",
    "Link": "linkattrs",
    "Netlink": "core",
    "XdpState": "linkattrs",
    **dict.fromkeys(
        ("ActionRequests", "BpfFilter", "ChainRequests", "Qdisc", "RawMessage", "TcRequests"),
        "tc",
    ),
    "rtattrs": "attrs",
}

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


from pybpftool.lazyexports import lazy_exports  # noqa: E402 (after the names it serves)

__getattr__, __dir__ = lazy_exports(
    __name__, {name: f"{__name__}.{home}" for name, home in _HOMES.items()}, globals()
)
