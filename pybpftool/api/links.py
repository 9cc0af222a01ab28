"""links: network devices by name, looked up on a netlink socket of the right namespace."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybpftool.errors import LinkNotFound

if TYPE_CHECKING:
    from pybpftool.netlink import Netlink


def open_netlink(netns: str | None) -> Netlink:
    """open_netlink: an rtnetlink socket in `netns` (a name under /run/netns or a path, as
    api.args.netns_arg checked it; None: the calling thread's); only the socket enters the
    namespace."""
    from pybpftool.netlink import Netlink

    return Netlink(netns)


def link_index(nl: Netlink, dev: str) -> int:
    """link_index: the ifindex of `dev`; LinkNotFound if there is no such device."""
    index = nl.link_index(dev)
    if index is None:
        raise LinkNotFound(dev)
    return index
