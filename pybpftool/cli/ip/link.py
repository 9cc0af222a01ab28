"""link: `pyip link set [dev] DEV {xdp|xdpgeneric|xdpdrv|xdpoffload} XDPSPEC` (ip/iplink_xdp.c).

    XDPSPEC := off | none                      (only as the last word)
             | obj|object-file FILE [section S] [program P] [verbose]
             | pinned|object-pinned|fd PATH [ignored OPTS]

The object is loaded while the line is parsed, before the device is looked up (iproute2's
order), with XDP_FLAGS_UPDATE_IF_NOEXIST unless -force. A failure after the load undoes it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from pybpftool.cli.common.bpfsource import BpfSource, parse_mode
from pybpftool.cli.common.failures import load_failure_text, netlink_message, no_device
from pybpftool.cli.common.grammar import GlobalOptions, IprouteExit, matches
from pybpftool.cli.common.words import Words, duparg, duparg2
from pybpftool.errors import LinkNotFound, NetlinkFailure, PyBpfError
from pybpftool.netlink.uapi import (
    XDP_FLAGS_DRV_MODE,
    XDP_FLAGS_HW_MODE,
    XDP_FLAGS_SKB_MODE,
    XDP_FLAGS_UPDATE_IF_NOEXIST,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Callable

    from pybpftool.cli.common.attach import Prepared
    from pybpftool.cli.common.context import RunContext
    from pybpftool.loader import LoadedObject

# The mode words and their XDP_FLAGS_*_MODE (`xdp`: none, the kernel picks).
XDP_MODES = {
    "xdp": 0,
    "xdpgeneric": XDP_FLAGS_SKB_MODE,
    "xdpdrv": XDP_FLAGS_DRV_MODE,
    "xdpoffload": XDP_FLAGS_HW_MODE,
}
# ip link set's own keywords (iplink_parse), which pyip refuses rather than misread as a device.
OTHER_LINK_OPTIONS = frozenset(
    [
        "up",
        "down",
        "name",
        "type",
        "mtu",
        "address",
        "broadcast",
        "brd",
        "peer",
        "netns",
        "link",
        "arp",
        "multicast",
        "allmulticast",
        "promisc",
        "trailers",
        "dynamic",
        "txqueuelen",
        "txqlen",
        "qlen",
        "master",
        "nomaster",
        "vrf",
        "alias",
        "group",
        "mode",
        "state",
        "addrgenmode",
        "protodown",
        "protodown_reason",
        "gso_max_size",
        "gso_max_segs",
        "gro_max_size",
        "vf",
        "numtxqueues",
        "numrxqueues",
    ]
)
LINK_COMMANDS = ("add", "delete", "set", "change", "replace", "show", "list", "lst", "help")


@dataclass
class XdpRequest:
    dev: str
    mode_flags: int
    source: BpfSource | None  # None: detach (off / none)


def link_command(run: RunContext, args: list[str]) -> int:
    """link_command: `pyip link ...`; only `set` with XDP is handled."""
    if not args:
        raise IprouteExit('pyip link: only "pyip link set DEV xdp ..." is implemented', 255)
    command = next((c for c in LINK_COMMANDS if matches(args[0], c)), None)
    if command in ("set", "change"):
        return link_set(run, args[1:])
    if command in ("show", "list", "lst"):
        return link_show(run.opts, args[1:])
    if command is None:
        raise IprouteExit(f'Command "{args[0]}" is unknown, try "ip link help".', 255)
    raise IprouteExit(f"pyip link {command}: not implemented by pyip in this version.", 255)


def link_set(run: RunContext, args: list[str]) -> int:
    words = Words(args)
    dev: str | None = None
    request: XdpRequest | None = None
    prepared = None
    try:
        while words:
            word = words.take()
            if word in XDP_MODES:
                if request is not None:
                    raise duparg("xdp", word)
                flags = XDP_MODES[word] | (0 if run.opts.force else XDP_FLAGS_UPDATE_IF_NOEXIST)
                if words.left() == 1 and words.peek() in ("off", "none"):
                    words.take()  # iproute2 knows off/none only as the very last word
                    request = XdpRequest("", flags, None)
                else:
                    source = parse_mode(
                        words, allow_bytecode=False, allow_type=False, allow_export=False
                    )
                    request = XdpRequest("", flags, source)
                    prepared = _prepare(run, source)  # loaded before the device is looked up
            elif word in OTHER_LINK_OPTIONS:
                raise IprouteExit(
                    f'pyip link set: "{word}" is not implemented by pyip in this version '
                    "(only the xdp options are); use ip for it.",
                    255,
                )
            else:
                name = words.take() if matches(word, "dev") else word
                if dev is not None:
                    raise duparg2("dev", name)
                dev = name
        if dev is None:
            raise IprouteExit('Not enough information: "dev" argument is required.', 255)
        if request is None:
            return 0
        _apply(dev, request, prepared)
        if prepared is not None:
            prepared.close()
        prepared = None
        return 0
    finally:
        if prepared is not None:
            prepared.discard()


def link_show(opts: GlobalOptions, args: list[str]) -> int:
    """link_show: `pyip link show [[dev] DEV]`."""
    from pybpftool.cli.ip.linkshow import render
    from pybpftool.netlink import Netlink

    words = Words(args)
    dev: str | None = None
    while words:
        word = words.take()
        if word == "dev":
            word = words.take()
        elif word in ("up", "type", "master", "vrf", "group", "alias") or word.startswith("-"):
            raise IprouteExit(f'pyip link show: "{word}" is not implemented by pyip.', 255)
        if dev is not None:
            raise duparg2("dev", word)
        dev = word
    with Netlink() as nl:
        everything = nl.links()
        if dev is None:
            chosen = everything
        else:
            chosen = [link for link in everything if link.name == dev]
            if not chosen:
                raise IprouteExit(f'Device "{dev}" does not exist.', 1)
        sys.stdout.write(render(chosen, everything, opts))
    return 0


def _prepare(run: RunContext, source: BpfSource) -> Prepared:
    from pybpftool.cli.common.attach import prepare
    from pybpftool.uapi import BpfProgType  # loaded with the loader in any case

    try:
        return prepare(run, source, BpfProgType.BPF_PROG_TYPE_XDP, "prog", "xdp")
    except PyBpfError as err:
        raise IprouteExit(load_failure_text(err), 255) from None


def _apply(dev: str, request: XdpRequest, prepared: Prepared | None) -> None:
    """_apply: look the device up, then commit the load around the XDP attach, both as the
    API does them (api.links.link_index, api.xdp.set_xdp); failures in ip's words."""
    from pybpftool.api.links import link_index
    from pybpftool.api.xdp import set_xdp
    from pybpftool.netlink import Netlink

    with Netlink() as nl:
        try:
            index = link_index(nl, dev)
        except LinkNotFound:
            raise IprouteExit(no_device(dev), 1) from None

        def attach() -> None:
            fd = int(prepared.fd) if prepared is not None else -1
            try:
                set_xdp(nl, index, fd, request.mode_flags)
            except NetlinkFailure as err:
                raise IprouteExit(netlink_message(err), 2) from None

        if prepared is None or prepared.loaded is None:
            attach()
        else:
            _commit(prepared.loaded, attach)


def _commit(loaded: LoadedObject, attach: Callable[[], None]) -> None:
    """_commit: publish the load's pins and run `attach` under the pin-folder locks; a failed
    publish (bpffs trouble) reads like a failed load, in ip's words."""
    try:
        loaded.commit(attach)
    except IprouteExit:
        raise
    except PyBpfError as err:
        raise IprouteExit(load_failure_text(err), 255) from None
