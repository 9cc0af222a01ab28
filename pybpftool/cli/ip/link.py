"""link: `pyip link set [dev] DEV {xdp|xdpgeneric|xdpdrv|xdpoffload} XDPSPEC` (iplink_parse,
ip/iplink_xdp.c); linkcmd.py picks the command of a `pyip link` line.

    XDPSPEC := off | none                      (only as the last word)
             | obj|object-file FILE [section S] [program P] [verbose]
             | pinned|object-pinned|fd PATH [ignored OPTS]

The words of `link set` are read in iplink_parse's order, with its exact and prefix matches,
so a word is a device exactly where ip takes it for one. Each xdp keyword loads its object
while the line is parsed, before the device is looked up (iproute2's order), with
XDP_FLAGS_UPDATE_IF_NOEXIST unless -force; when a line has several, the kernel keeps the
last. A failure after a load undoes it. ip's other link options are refused by name.
"""

# Annotations are evaluated here (no `from __future__ import annotations`): a NamedTuple
# field given as a string costs typing a compile() when the class is made.

from typing import TYPE_CHECKING, NamedTuple

from pybpftool.cli.common.bpfsource import BpfSource, parse_mode
from pybpftool.cli.common.failures import load_failure_text, netlink_message, no_device
from pybpftool.cli.common.grammar import IprouteExit, matches
from pybpftool.cli.common.words import Words, duparg2, incomplete, invarg
from pybpftool.errors import NetlinkFailure, PyBpfError
from pybpftool.netlink.uapi import (
    XDP_FLAGS_DRV_MODE,
    XDP_FLAGS_HW_MODE,
    XDP_FLAGS_SKB_MODE,
    XDP_FLAGS_UPDATE_IF_NOEXIST,
)

if TYPE_CHECKING:
    from pybpftool.cli.common.attach import Prepared
    from pybpftool.cli.common.context import RunContext
    from pybpftool.loader.publish import LoadGroup

# The mode words and their XDP_FLAGS_*_MODE (`xdp`: none, the kernel picks).
XDP_MODES = {
    "xdp": 0,
    "xdpgeneric": XDP_FLAGS_SKB_MODE,
    "xdpdrv": XDP_FLAGS_DRV_MODE,
    "xdpoffload": XDP_FLAGS_HW_MODE,
}

# iplink_parse's other keywords in its order: (word, matched by prefix, words it takes).
OTHER_LINK_OPTIONS: tuple[tuple[str, bool, int], ...] = (
    ("up", False, 0), ("down", False, 0), ("name", False, 1), ("index", False, 1),
    ("link", True, 1), ("address", True, 1), ("broadcast", True, 1), ("brd", False, 1),
    ("txqueuelen", True, 1), ("qlen", False, 1), ("txqlen", True, 1), ("mtu", False, 1),
    ("netns", False, 1), ("multicast", False, 1), ("allmulticast", False, 1),
    ("promisc", False, 1), ("trailers", False, 1), ("arp", False, 1), ("carrier", False, 1),
    ("vf", False, 1), ("master", True, 1), ("vrf", False, 1), ("nomaster", True, 0),
    ("dynamic", True, 1), ("type", True, 1), ("alias", True, 1), ("group", False, 1),
    ("mode", False, 1), ("state", False, 1), ("numtxqueues", True, 1),
    ("numrxqueues", True, 1), ("addrgenmode", True, 1), ("link-netns", True, 1),
    ("link-netnsid", True, 1), ("protodown", False, 1), ("protodown_reason", False, 2),
    ("gso_max_size", False, 1), ("gso_max_segs", False, 1), ("gro_max_size", False, 1),
    ("parentdev", False, 1),
)  # fmt: skip
SPACE = " \t\n\v\f\r"


class XdpRequest(NamedTuple):
    """XdpRequest: one `xdp...` clause of the line: the mode's flags and what to attach."""

    mode_flags: int
    source: BpfSource | None  # None: detach (off / none)


def _other_option(word: str) -> tuple[str, int] | None:
    for keyword, prefix, takes in OTHER_LINK_OPTIONS:
        if matches(word, keyword) if prefix else word == keyword:
            return keyword, takes
    return None


def valid_altifname(name: str) -> bool:
    """valid_altifname: lib/utils.c check_altifname(): not empty, no '/' and no blank."""
    return bool(name) and not any(c == "/" or c in SPACE for c in name)


def link_set(run: "RunContext", args: list[str]) -> int:
    from pybpftool.cli.common.attach import new_group

    words = Words(args)
    dev: str | None = None
    requests: list[XdpRequest] = []
    loads: list[Prepared] = []
    group = new_group()  # every load of the line commits around the one attach
    try:
        while words:
            word = words.take()
            if word in XDP_MODES:
                requests.append(_xdp(run, words, word, dev, loads, group))
            elif (other := _other_option(word)) is not None:
                raise IprouteExit(
                    f'pyip link set: "{other[0]}" is not implemented by pyip in this version '
                    "(only the xdp options are); use ip for it.",
                    255,
                )
            else:
                if matches(word, "help"):
                    from pybpftool.cli.ip.usage import LINK_USAGE

                    raise IprouteExit(LINK_USAGE.rstrip("\n"), 255, fatal=True)
                if word == "dev":
                    word = words.take()
                if dev is not None:
                    raise duparg2("dev", word)
                if not valid_altifname(word):
                    raise invarg('"dev" not a valid ifname', word)
                dev = word
        if dev is None:
            raise IprouteExit('Not enough information: "dev" argument is required.', 255)
        _apply(dev, requests[-1] if requests else None, loads, group)
        for prepared in loads:
            prepared.close()
        loads.clear()
        return 0
    finally:
        for prepared in loads:
            prepared.discard()


def _xdp(
    run: "RunContext",
    words: Words,
    word: str,
    dev: str | None,
    loads: "list[Prepared]",
    group: "LoadGroup",
) -> XdpRequest:
    """_xdp: xdp_parse() for one xdp keyword: `off`/`none` as the last word, else the
    program, loaded now (for the device first with xdpoffload)."""
    if not words:
        raise incomplete()
    flags = XDP_MODES[word] | (0 if run.opts.force else XDP_FLAGS_UPDATE_IF_NOEXIST)
    ifindex = 0
    if flags & XDP_FLAGS_HW_MODE:
        ifindex = _offload_index(dev)
    if words.left() == 1 and words.peek() in ("off", "none"):
        words.take()
        return XdpRequest(flags, None)
    source = parse_mode(words, allow_bytecode=False, allow_type=False, allow_export=False)
    loads.append(_prepare(run, source, ifindex, group))
    return XdpRequest(flags, source)


def _offload_index(dev: str | None) -> int:
    """_offload_index: xdpoffload loads for the device named so far: none yet is
    incomplete_command(), as ll_name_to_index(NULL) gives 0."""
    from pybpftool.cli.common.ifnames import name_to_index
    from pybpftool.netlink import Netlink

    if dev is None:
        raise incomplete()
    with Netlink() as nl:
        index = name_to_index(nl, dev)
    if not index:
        raise incomplete()
    return index


def _prepare(run: "RunContext", source: BpfSource, ifindex: int, group: "LoadGroup") -> "Prepared":
    from pybpftool.cli.common.attach import prepare
    from pybpftool.uapi import BpfProgType  # loaded with the loader in any case

    try:
        return prepare(run, source, BpfProgType.BPF_PROG_TYPE_XDP, "prog", "xdp", group, ifindex)
    except PyBpfError as err:
        raise IprouteExit(load_failure_text(err), 255) from None


def _apply(
    dev: str, request: XdpRequest | None, loads: "list[Prepared]", group: "LoadGroup"
) -> None:
    """_apply: look the device up (ll_name_to_index), then commit the line's loads around
    the XDP attach, sent as the API sends it (api.xdp.set_xdp); failures in ip's words."""
    from pybpftool.api.xdp import set_xdp
    from pybpftool.cli.common.ifnames import name_to_index
    from pybpftool.netlink import Netlink

    with Netlink() as nl:
        index = name_to_index(nl, dev)
        if not index:
            raise IprouteExit(no_device(dev), 1)

        def attach() -> None:
            if request is None:
                return  # RTM_NEWLINK with no attribute: nothing to change
            fd = int(loads[-1].fd) if request.source is not None else -1
            try:
                set_xdp(nl, index, fd, request.mode_flags)
            except NetlinkFailure as err:
                raise IprouteExit(netlink_message(err), 2) from None

        if not any(p.loaded is not None for p in loads):
            attach()
            return
        try:
            group.commit(attach)
        except IprouteExit:
            raise
        except PyBpfError as err:  # a failed publish (bpffs trouble) reads as a failed load
            raise IprouteExit(load_failure_text(err), 255) from None
