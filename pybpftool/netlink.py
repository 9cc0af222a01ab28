"""netlink: the only pyroute2 importer: XDP on links, clsact/ingress qdiscs, cls_bpf filters.

pyroute2 0.9 needs three fixes, all made here, once (spec/python.md §1):
- its cls_bpf options stop at TCA_BPF_FLAGS and its sched_bpf plugin ignores skip_hw/skip_sw:
  TCA_BPF_FLAGS_GEN, TCA_BPF_TAG and TCA_BPF_ID are added to the codec (a dump then carries
  the program id and tag), and the options of a request are built here (_bpf_options), with
  the generic flags and classic BPF ops;
- its tcmsg attributes stop at TCA_STAB, so TCA_CHAIN is added;
- its package __init__ imports nearly all of pyroute2 (~300 ms): a stub package is put in
  sys.modules first so that only the rtnetlink modules we use are loaded.

Only pyroute2's message codecs are used, on an rtnetlink socket of our own (Netlink.request):
its IPRoute would add asyncio, ssl and unittest (~70 ms) to every cold start. The hot setters
(link lookup, XDP attach, cls_bpf filter requests without actions) use light codecs built on
pyroute2's nlmsg/nla classes (_light_codecs), which skip pyroute2.config and its plugins;
dumps and the rest use its full ifinfmsg and tcmsg. pyroute2 is pinned to 0.9.x in
pyproject.toml for this reason.

TcRequests builds tcmsg requests by hand where tc's exact flags and attributes matter (qdiscs
of any kind, filter get, dumps filtered by the kernel, kind-less filter requests); qdisc dumps
keep their attributes raw for the renderer.

Sockets are opened with extended acks, so kernel refusals carry the kernel's own text.
Results are plain records (named tuples); NetlinkFailure carries errno and that text.
"""

from __future__ import annotations

import errno
import os
import struct
import sys
import types
from typing import Any, NamedTuple

from pybpftool.errors import NetlinkFailure

TC_H_INGRESS_PARENT = 0xFFFFFFF1  # clsact and ingress qdiscs live here
TC_H_MIN_INGRESS, TC_H_MIN_EGRESS = 0xFFF2, 0xFFF3
INGRESS, EGRESS = 0xFFFFFFF2, 0xFFFFFFF3
ETH_P_ALL = 0x0003
XDP_FLAGS_UPDATE_IF_NOEXIST, XDP_FLAGS_SKB_MODE = 1, 2
XDP_FLAGS_DRV_MODE, XDP_FLAGS_HW_MODE = 4, 8
TCA_BPF_FLAG_ACT_DIRECT = 1
TCA_CLS_FLAGS_SKIP_HW, TCA_CLS_FLAGS_SKIP_SW = 1, 2
TCA_CLS_FLAGS_IN_HW, TCA_CLS_FLAGS_NOT_IN_HW = 4, 8
TC_H_ROOT = 0xFFFFFFFF
IFLA_IFNAME, IFLA_XDP = 3, 43
TCA_KIND, TCA_OPTIONS, TCA_CHAIN = 1, 2, 11


def _import_pyroute2_stub() -> None:
    """_import_pyroute2_stub: an empty `pyroute2` package in sys.modules, so that importing
    one of its modules does not run its eager package __init__."""
    if "pyroute2" not in sys.modules:
        for entry in sys.path:
            folder = os.path.join(entry or ".", "pyroute2")
            if os.path.isfile(os.path.join(folder, "__init__.py")):
                stub = types.ModuleType("pyroute2")
                stub.__path__ = [folder]
                sys.modules["pyroute2"] = stub
                break


def _tc_codecs() -> Any:
    """_tc_codecs: pyroute2's tcmsg class, with the cls_bpf and tcmsg fixes made (once)."""
    _import_pyroute2_stub()
    from pyroute2.netlink.rtnl import tcmsg
    from pyroute2.netlink.rtnl.tcmsg import sched_bpf

    _fix_cls_bpf(sched_bpf)
    _fix_tcmsg(tcmsg.tcmsg)
    return tcmsg.tcmsg


def _fix_cls_bpf(sched_bpf: Any) -> None:
    if getattr(sched_bpf, "_pybpftool_fixed", False):
        return
    base = sched_bpf.options

    class options(base):  # type: ignore[misc, valid-type]
        nla_map = (
            *base.nla_map[:4],
            # pyroute2 declares both as uint32: OPS_LEN is a u16, OPS a sock_filter array.
            ("TCA_BPF_OPS_LEN", "uint16"),
            ("TCA_BPF_OPS", "cdata"),
            *base.nla_map[6:9],
            ("TCA_BPF_FLAGS_GEN", "uint32"),
            ("TCA_BPF_TAG", "hex"),
            ("TCA_BPF_ID", "uint32"),
        )

    sched_bpf.options = options
    sched_bpf._pybpftool_fixed = True


def _fix_tcmsg(msg: Any) -> None:
    names = [name for name, _ in msg.nla_map]
    if "TCA_CHAIN" in names:
        return
    extra = (("TCA_PAD", "hex"), ("TCA_DUMP_INVISIBLE", "flag"), ("TCA_CHAIN", "uint32"))
    msg.nla_map = (*msg.nla_map[:9], *extra)


_LIGHT_CODECS: dict[str, Any] = {}


def _light_codecs() -> dict[str, Any]:
    """_light_codecs: ifinfmsg and tcmsg cut down to what a link lookup, an XDP attach and a
    cls_bpf filter request without actions carry, on pyroute2's own nlmsg/nla classes.

    The full codecs import pyroute2.config (multiprocessing, platform, pickle) and every link
    and tc plugin, a fifth of a cold attach; these import only pyroute2.netlink. They encode
    byte for byte what the full ones do (tests/unit/test_netlink_codecs.py) and keep
    pyroute2's names, so replies decode the same for the fields read from them.
    """
    if _LIGHT_CODECS:
        return _LIGHT_CODECS
    _import_pyroute2_stub()
    from pyroute2.netlink import NLA_F_NESTED, nla, nlmsg

    class link_msg(nlmsg):  # type: ignore[misc]
        prefix = "IFLA_"
        fields = (  # struct ifinfomsg, as pyroute2's ifinfmsg names it
            ("family", "B"),
            ("__align", "x"),
            ("ifi_type", "H"),
            ("index", "i"),
            ("flags", "I"),
            ("change", "I"),
        )
        nla_map = ((IFLA_IFNAME, "IFLA_IFNAME", "asciiz"), (IFLA_XDP, "IFLA_XDP", "xdp"))

        class xdp(nla):  # type: ignore[misc]
            nla_flags = NLA_F_NESTED
            prefix = "IFLA_"
            nla_map = (
                ("IFLA_XDP_UNSPEC", "none"),
                ("IFLA_XDP_FD", "int32"),
                ("IFLA_XDP_ATTACHED", "uint8"),
                ("IFLA_XDP_FLAGS", "uint32"),
                ("IFLA_XDP_PROG_ID", "uint32"),
            )

    class bpf_filter_msg(nlmsg):  # type: ignore[misc]
        prefix = "TCA_"
        fields = (  # struct tcmsg, as pyroute2's tcmsg names it
            ("family", "B"),
            ("pad1", "B"),
            ("pad2", "H"),
            ("index", "i"),
            ("handle", "I"),
            ("parent", "I"),
            ("info", "I"),
        )
        nla_map = (
            (TCA_KIND, "TCA_KIND", "asciiz"),
            (TCA_OPTIONS, "TCA_OPTIONS", "options"),
            (TCA_CHAIN, "TCA_CHAIN", "uint32"),
        )

        class options(nla):  # type: ignore[misc]
            # linux/pkt_cls.h TCA_BPF_*, with the types the kernel's bpf_policy checks.
            nla_map = (
                (3, "TCA_BPF_CLASSID", "uint32"),
                (4, "TCA_BPF_OPS_LEN", "uint16"),
                (5, "TCA_BPF_OPS", "cdata"),
                (6, "TCA_BPF_FD", "uint32"),
                (7, "TCA_BPF_NAME", "asciiz"),
                (8, "TCA_BPF_FLAGS", "uint32"),
                (9, "TCA_BPF_FLAGS_GEN", "uint32"),
            )

    _LIGHT_CODECS.update(link=link_msg, bpf_filter=bpf_filter_msg)
    return _LIGHT_CODECS


def bpf_filter_message(command: str, index: int, **kw: Any) -> tuple[Any, int, int]:
    """bpf_filter_message: (message, type, flags) of a cls_bpf filter request with `kw` as
    pyroute2's sched_bpf takes them, built as pyroute2's tc() builds it. A request with
    actions needs pyroute2's action plugins, so the full tcmsg codec; others the light one."""
    msg_type, flags = _FILTER_COMMANDS[command]
    light = not kw.get("action")
    msg = _light_codecs()["bpf_filter"]() if light else _tc_codecs()()
    msg["family"], msg["index"] = 0, index
    msg["handle"] = kw.get("handle", 0)
    attrs: list[list[Any]] = []
    if command == "del-filter" and not kw.get("prio"):
        msg["parent"], msg["info"] = kw.get("parent", 0), 0  # every filter of the parent
    else:
        msg["parent"] = kw.get("parent", TC_H_ROOT)
        # sched_bpf.fix_request: protocol (ETH_P_ALL unless given) and prio make tcm_info.
        protocol = kw.get("protocol", ETH_P_ALL) & 0xFFFF
        msg["info"] = int.from_bytes(protocol.to_bytes(2, "big"), sys.byteorder) | (
            (kw.get("prio", 0) << 16) & 0xFFFF0000
        )
        attrs = [["TCA_KIND", "bpf"], ["TCA_OPTIONS", _bpf_options(kw, light)]]
    if kw.get("chain") is not None:
        attrs.append(["TCA_CHAIN", kw["chain"]])
    msg["attrs"] = attrs
    return msg, msg_type, flags


def _bpf_options(kw: dict[str, Any], light: bool) -> dict[str, Any]:
    """_bpf_options: TCA_OPTIONS of a cls_bpf request in sched_bpf.get_parameters' order,
    with the generic flags and classic BPF ops it leaves out."""
    attrs: list[list[Any]] = []
    if not light:
        _tc_codecs()
        from pyroute2.netlink.rtnl.tcmsg.common_act import get_tca_action

        attrs.append(["TCA_BPF_ACT", get_tca_action({"kind": "bpf", **kw})])
    flags = kw.get("flags", 0) | (TCA_BPF_FLAG_ACT_DIRECT if kw.get("direct_action") else 0)
    for key, name in (
        ("classid", "TCA_BPF_CLASSID"),
        ("fd", "TCA_BPF_FD"),
        ("name", "TCA_BPF_NAME"),
    ):
        if kw.get(key) is not None:
            attrs.append([name, kw[key]])
    attrs.append(["TCA_BPF_FLAGS", flags])
    gen = (TCA_CLS_FLAGS_SKIP_HW if kw.get("skip_hw") else 0) | (
        TCA_CLS_FLAGS_SKIP_SW if kw.get("skip_sw") else 0
    )
    if gen:
        attrs.append(["TCA_BPF_FLAGS_GEN", gen])
    if kw.get("ops"):
        attrs.append(["TCA_BPF_OPS_LEN", len(kw["ops"]) // 8])
        attrs.append(["TCA_BPF_OPS", kw["ops"]])
    return {"attrs": attrs}


class XdpState(NamedTuple):
    """XdpState: IFLA_XDP of one link: attach mode (1 drv, 2 skb, 3 hw, 4 multi) and ids."""

    mode: int
    prog_id: int
    skb_prog_id: int = 0
    drv_prog_id: int = 0
    hw_prog_id: int = 0


class BpfFilter(NamedTuple):
    """BpfFilter: one entry of a filter dump (the chain head has no handle and no options)."""

    parent: int
    prio: int
    protocol: int
    handle: int
    chain: int
    kind: str
    has_options: bool = False
    name: str = ""
    direct_action: bool = False
    flags_gen: int = 0
    prog_id: int = 0
    tag: str = ""
    classid: int = 0
    ops: tuple[tuple[int, int, int, int], ...] = ()  # classic BPF: (code, jt, jf, k)
    ifindex: int = 0  # tcm_ifindex; TCM_IFINDEX_MAGIC_BLOCK: `parent` is the block index


_MODE_BY_NAME = {None: 0, "xdp": 1, "xdpgeneric": 2, "xdpoffload": 3, "xdpmulti": 4}


class Link(NamedTuple):
    """Link: what `ip link show` prints of one RTM_NEWLINK message."""

    ifindex: int
    name: str
    ifi_type: int
    flags: int
    attrs: dict[str, Any]  # IFLA_* name -> decoded value (nested ones as dicts)
    xdp: XdpState | None
    kind: str | None
    addrgenmode: int | None


RTM_NEWLINK, RTM_GETLINK = 16, 18
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
SOL_NETLINK, NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK = 270, 11, 12
RECV_SIZE = 1 << 20


class Netlink:
    """Netlink: an rtnetlink socket in the current network namespace.

    Requests are pyroute2 messages (its codecs: ifinfmsg, tcmsg and the cls_bpf plugin) sent
    on a plain socket of our own: pyroute2's IPRoute would pull in asyncio, ssl and unittest
    (~70 ms of every cold start) for nothing we need.
    """

    def __init__(self) -> None:
        import socket

        _import_pyroute2_stub()
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1)
        self.sock.bind((0, 0))
        self._seq = 0

    def close(self) -> None:
        self.sock.close()

    def request(self, msg: Any, msg_type: int, flags: int, reply: Any = None) -> tuple[Any, ...]:
        """request: send pyroute2 message `msg` as `msg_type` with `flags` (plus NLM_F_REQUEST)
        and return the decoded replies (as `reply`'s class, by default `msg`'s) up to the ack or
        NLMSG_DONE; a refusal raises NetlinkFailure with the kernel's extack text."""
        from pyroute2.netlink import nlmsgerr

        self._seq += 1
        header = msg["header"]
        header["type"], header["flags"] = msg_type, flags | NLM_F_REQUEST
        header["sequence_number"], header["pid"] = self._seq, 0
        msg.encode()
        self.sock.send(bytes(msg.data))
        decode_as = reply or type(msg)
        found: list[Any] = []
        while True:
            buf = self.sock.recv(RECV_SIZE)
            offset = 0
            while offset + 16 <= len(buf):
                length, kind, _flags, seq = struct.unpack_from("=IHHI", buf, offset)
                if length < 16:
                    raise NetlinkFailure(errno.EBADMSG, "truncated netlink message")
                if seq == self._seq:
                    if kind == NLMSG_DONE:
                        return tuple(found)
                    if kind == NLMSG_ERROR:
                        err = nlmsgerr(buf, offset=offset, length=length)
                        err.decode()
                        code = -int(err["error"])
                        if code:
                            extack = err.get_attr("NLMSGERR_ATTR_MSG") or None
                            raise NetlinkFailure(code, extack or os.strerror(code), extack)
                        return tuple(found)
                    message = decode_as(buf, offset=offset, length=length)
                    message.decode()
                    found.append(message)
                offset += (length + 3) & ~3
            if not flags & NLM_F_DUMP and not flags & NLM_F_ACK and found:
                return tuple(found)

    def _ifinfmsg(
        self, index: int = 0, attrs: list[list[Any]] | None = None, light: bool = False
    ) -> Any:
        if light:
            msg = _light_codecs()["link"]()
        else:
            from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

            msg = ifinfmsg()
        msg["family"], msg["index"] = 0, index
        msg["attrs"] = attrs or []
        return msg

    def __enter__(self) -> Netlink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def link_index(self, name: str) -> int | None:
        """link_index: the ifindex of link `name`, None if there is none."""
        msg = self._ifinfmsg(attrs=[["IFLA_IFNAME", name]], light=True)
        try:
            found = self.request(msg, RTM_GETLINK, NLM_F_ACK)
        except NetlinkFailure as err:
            if err.errno in (errno.ENODEV, errno.EINVAL):  # EINVAL: no such name can exist
                return None
            raise
        return int(found[0]["index"]) if found else None

    def xdp_set(self, index: int, fd: int, flags: int) -> None:
        """xdp_set: RTM_NEWLINK with IFLA_XDP {FD, FLAGS if nonzero}; fd -1 detaches."""
        xdp: list[list[Any]] = [["IFLA_XDP_FD", fd]]
        if flags:
            xdp.append(["IFLA_XDP_FLAGS", flags])
        msg = self._ifinfmsg(index, [["IFLA_XDP", {"attrs": xdp}]], light=True)
        self.request(msg, RTM_NEWLINK, NLM_F_ACK)

    def links(self, index: int | None = None) -> list[Link]:
        """links: every link (or the one with `index`), decoded for `ip link show`."""
        if index is None:
            found = self.request(self._ifinfmsg(), RTM_GETLINK, NLM_F_DUMP)
        else:
            found = self.request(self._ifinfmsg(index), RTM_GETLINK, NLM_F_ACK)
        return [_link(msg) for msg in found]

    def xdp_state(self, index: int) -> XdpState | None:
        return _xdp_state(self.request(self._ifinfmsg(index), RTM_GETLINK, NLM_F_ACK)[0])

    def filter(self, command: str, index: int, **kw: Any) -> None:
        """filter: add/replace/change/del a cls_bpf filter (kw as pyroute2's sched_bpf takes)."""
        self.request(*bpf_filter_message(command, index, **kw))


def _xdp_state(link: Any) -> XdpState | None:
    xdp = link.get("IFLA_XDP")
    if xdp is None:
        return None
    mode = _MODE_BY_NAME.get(xdp.get("IFLA_XDP_ATTACHED"), 0)
    if not mode:
        return None
    return XdpState(
        mode,
        int(xdp.get("IFLA_XDP_PROG_ID") or 0),
        int(xdp.get("IFLA_XDP_SKB_PROG_ID") or 0),
        int(xdp.get("IFLA_XDP_DRV_PROG_ID") or 0),
        int(xdp.get("IFLA_XDP_HW_PROG_ID") or 0),
    )


def _link(msg: Any) -> Link:
    attrs = {name: value for name, value in msg["attrs"] if name != "UNKNOWN"}
    info = msg.get("IFLA_LINKINFO")
    kind = info.get("IFLA_INFO_KIND") if info is not None else None
    mode = None
    spec = msg.get("IFLA_AF_SPEC")
    if spec is not None:
        inet6 = spec.get("AF_INET6")
        if inet6 is not None:
            mode = inet6.get("IFLA_INET6_ADDR_GEN_MODE")
    return Link(
        ifindex=int(msg["index"]),
        name=attrs.get("IFLA_IFNAME", ""),
        ifi_type=int(msg["ifi_type"]),
        flags=int(msg["flags"]),
        attrs=attrs,
        xdp=_xdp_state(msg),
        kind=kind,
        addrgenmode=mode,
    )


def _bpf_filter(msg: Any) -> BpfFilter:
    info = int(msg["info"])
    protocol = int.from_bytes((info & 0xFFFF).to_bytes(2, "little"), "big")
    options = msg.get("TCA_OPTIONS")
    kind = msg.get("TCA_KIND") or ""
    base = BpfFilter(
        parent=int(msg["parent"]),
        prio=info >> 16,
        protocol=protocol,
        handle=int(msg["handle"]),
        chain=int(msg.get("TCA_CHAIN") or 0),
        kind=kind,
    )
    if options is None:
        return base
    tag = options.get("TCA_BPF_TAG") or ""
    return BpfFilter(
        parent=base.parent,
        prio=base.prio,
        protocol=base.protocol,
        handle=base.handle,
        chain=base.chain,
        kind=kind,
        has_options=True,
        name=options.get("TCA_BPF_NAME") or "",
        direct_action=bool((options.get("TCA_BPF_FLAGS") or 0) & TCA_BPF_FLAG_ACT_DIRECT),
        flags_gen=int(options.get("TCA_BPF_FLAGS_GEN") or 0),
        prog_id=int(options.get("TCA_BPF_ID") or 0),
        tag=tag.replace(":", ""),
        classid=int(options.get("TCA_BPF_CLASSID") or 0),
        ops=_sock_filters(options.get("TCA_BPF_OPS")),
    )


def _sock_filters(raw: bytes | None) -> tuple[tuple[int, int, int, int], ...]:
    if not raw:
        return ()
    return tuple(
        (
            int.from_bytes(raw[i : i + 2], sys.byteorder),
            raw[i + 2],
            raw[i + 3],
            int.from_bytes(raw[i + 4 : i + 8], sys.byteorder),
        )
        for i in range(0, len(raw) - 7, 8)
    )


# --- raw tc requests: qdiscs of any kind, kind-less filter requests, filter get and dumps ---

RTM_NEWQDISC, RTM_DELQDISC, RTM_GETQDISC = 36, 37, 38
RTM_NEWTFILTER, RTM_DELTFILTER, RTM_GETTFILTER = 44, 45, 46
NLM_F_REQUEST, NLM_F_ACK, NLM_F_ECHO, NLM_F_DUMP = 0x1, 0x4, 0x8, 0x300
NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE = 0x100, 0x200, 0x400
TCA_STATS, TCA_XSTATS, TCA_STATS2, TCA_STAB = 3, 4, 7, 8
TCA_HW_OFFLOAD, TCA_INGRESS_BLOCK, TCA_EGRESS_BLOCK = 12, 13, 14
_NLMSG_TCMSG_LEN = 16 + 20  # struct nlmsghdr + struct tcmsg
TCM_IFINDEX_MAGIC_BLOCK = 0xFFFFFFFF


def rtattrs(data: bytes) -> dict[int, bytes]:
    """rtattrs: the payloads of a run of netlink attributes by type (NLA_F_* flags masked);
    like iproute2's parse_rtattr the first of duplicates wins and a truncated one ends it."""
    found: dict[int, bytes] = {}
    pos = 0
    while pos + 4 <= len(data):
        length = int.from_bytes(data[pos : pos + 2], sys.byteorder)
        kind = int.from_bytes(data[pos + 2 : pos + 4], sys.byteorder) & 0x3FFF
        if length < 4 or pos + length > len(data):
            break
        found.setdefault(kind, bytes(data[pos + 4 : pos + length]))
        pos += (length + 3) & ~3
    return found


class Qdisc(NamedTuple):
    """Qdisc: one RTM_NEWQDISC message of a dump; attributes kept raw for the renderer."""

    ifindex: int
    handle: int
    parent: int
    info: int  # the qdisc's refcnt
    attrs: dict[int, bytes]  # TCA_* -> payload

    @property
    def kind(self) -> str:
        return self.attrs.get(TCA_KIND, b"").split(b"\0", 1)[0].decode(errors="replace")


def _raw_qdisc(msg: Any) -> Qdisc:
    raw = bytes(msg.data[msg.offset : msg.offset + msg["header"]["length"]])
    return Qdisc(
        ifindex=int(msg["index"]),
        handle=int(msg["handle"]),
        parent=int(msg["parent"]),
        info=int(msg["info"]),
        attrs=rtattrs(raw[_NLMSG_TCMSG_LEN:]),
    )


# pyroute2's tc() command words: message type and flags (its make_request_flags).
_FILTER_COMMANDS = {
    "add-filter": (RTM_NEWTFILTER, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL),
    "replace-filter": (RTM_NEWTFILTER, NLM_F_ACK | NLM_F_REPLACE | NLM_F_CREATE),
    "change-filter": (RTM_NEWTFILTER, NLM_F_ACK | NLM_F_REPLACE),
    "del-filter": (RTM_DELTFILTER, NLM_F_ACK),
}


class TcRequests:
    """TcRequests: hand-built tcmsg requests with iproute2's exact flags and attributes
    (pyroute2's tc() insists on a kind, fills in parents and decodes options by plugin)."""

    _tcmsg: Any = None

    def __init__(self, nl: Netlink) -> None:
        self.nl = nl
        if TcRequests._tcmsg is None:
            tcmsg = _tc_codecs()
            names = [name for name, _ in tcmsg.nla_map]
            blocks: tuple[tuple[str, str], ...] = ()
            if names[-1] == "TCA_CHAIN" and len(names) == TCA_HW_OFFLOAD:  # attrs 12, 13, 14
                blocks = (("TCA_HW_OFFLOAD", "uint8"), ("TCA_INGRESS_BLOCK", "uint32"))
                blocks += (("TCA_EGRESS_BLOCK", "uint32"),)

            class raw_tcmsg(tcmsg):  # type: ignore[misc, valid-type]
                # TCA_OPTIONS as bytes built by the caller, not by a pyroute2 plugin.
                nla_map = (
                    *(
                        (name, "cdata") if name == "TCA_OPTIONS" else (name, kind)
                        for name, kind in tcmsg.nla_map
                    ),
                    *blocks,
                )

            TcRequests._tcmsg = raw_tcmsg

    def _request(
        self,
        msg_type: int,
        flags: int,
        index: int,
        handle: int,
        parent: int,
        info: int,
        attrs: list[tuple[str, Any]],
    ) -> tuple[Any, ...]:
        msg = self._tcmsg()
        msg["family"] = 0
        msg["index"] = index if index != TCM_IFINDEX_MAGIC_BLOCK else -1  # a signed field
        msg["handle"] = handle
        msg["parent"] = parent
        msg["info"] = info
        msg["attrs"] = [list(attr) for attr in attrs]  # pyroute2 reads tuples differently
        # Replies are decoded by pyroute2's own tcmsg, its plugins decoding the options.
        return self.nl.request(msg, msg_type, flags, reply=_tc_codecs())

    def qdiscs(self, invisible: bool = False) -> list[Qdisc]:
        """qdiscs: RTM_GETQDISC dump of every link (TCA_DUMP_INVISIBLE when asked)."""
        attrs: list[tuple[str, Any]] = [("TCA_DUMP_INVISIBLE", True)] if invisible else []
        found = self._request(RTM_GETQDISC, NLM_F_REQUEST | NLM_F_DUMP, 0, 0, 0, 0, attrs)
        return [_raw_qdisc(m) for m in found if m["header"]["type"] == RTM_NEWQDISC]

    def qdisc_modify(
        self,
        msg_type: int,
        flags: int,
        index: int,
        handle: int,
        parent: int,
        kind: str | None,
        options: bytes | None = None,
        blocks: tuple[int, int] = (0, 0),
    ) -> None:
        """qdisc_modify: RTM_NEWQDISC/RTM_DELQDISC as tc_qdisc_modify sends it (+ ACK);
        `options` is the TCA_OPTIONS payload, already encoded; `blocks` the ingress and
        egress shared block indexes (0: none)."""
        attrs: list[tuple[str, Any]] = [("TCA_KIND", kind)] if kind else []
        for name, block in zip(("TCA_INGRESS_BLOCK", "TCA_EGRESS_BLOCK"), blocks, strict=True):
            if block:
                attrs.append((name, block))
        if options is not None:
            attrs.append(("TCA_OPTIONS", options))
        self._request(msg_type, NLM_F_REQUEST | NLM_F_ACK | flags, index, handle, parent, 0, attrs)

    def filter_modify(
        self,
        msg_type: int,
        flags: int,
        index: int,
        parent: int,
        info: int,
        chain: int | None,
        kind: str | None = None,
        handle: int = 0,
    ) -> None:
        """filter_modify: a delete, or a filter request without a kind (the kernel judges
        it), with TCA_CHAIN and TCA_KIND only: no options."""
        attrs: list[tuple[str, Any]] = [("TCA_CHAIN", chain)] if chain is not None else []
        if kind:
            attrs.append(("TCA_KIND", kind))
        flags |= NLM_F_REQUEST | NLM_F_ACK
        self._request(msg_type, flags, index, handle, parent, info, attrs)

    def filter_get(
        self, index: int, parent: int, info: int, handle: int, kind: str, chain: int | None
    ) -> BpfFilter | None:
        """filter_get: RTM_GETTFILTER with NLM_F_ECHO, as tc_filter_get sends it."""
        attrs: list[tuple[str, Any]] = [("TCA_CHAIN", chain)] if chain is not None else []
        attrs.append(("TCA_KIND", kind))
        found = self._request(
            RTM_GETTFILTER, NLM_F_REQUEST | NLM_F_ECHO, index, handle, parent, info, attrs
        )
        return next((_tc_filter(m) for m in found if m["header"]["type"] == RTM_NEWTFILTER), None)

    def filter_dump(self, index: int, parent: int, info: int, chain: int | None) -> list[BpfFilter]:
        """filter_dump: RTM_GETTFILTER dump; the kernel filters on prio, protocol and chain."""
        attrs: list[tuple[str, Any]] = [("TCA_CHAIN", chain)] if chain is not None else []
        found = self._request(
            RTM_GETTFILTER, NLM_F_REQUEST | NLM_F_DUMP, index, 0, parent, info, attrs
        )
        return [_tc_filter(m) for m in found if m["header"]["type"] == RTM_NEWTFILTER]


def _tc_filter(msg: Any) -> BpfFilter:
    return _bpf_filter(msg)._replace(ifindex=int(msg["index"]) & 0xFFFFFFFF)


# --- tc chains (RTM_*CHAIN: tcmsg requests) and tc actions (RTM_*ACTION: tcamsg requests) ---

RTM_NEWACTION, RTM_DELACTION, RTM_GETACTION = 48, 49, 50
RTM_NEWCHAIN, RTM_DELCHAIN, RTM_GETCHAIN = 100, 101, 102
NLM_F_ROOT = 0x100


class RawMessage(NamedTuple):
    """RawMessage: one reply message kept as bytes: nlmsg type, flags, and the body after the
    struct nlmsghdr (the family header and its attributes), for a renderer to decode."""

    type: int
    flags: int
    body: bytes


def _raw_message(msg: Any) -> RawMessage:
    header = msg["header"]
    raw = bytes(msg.data[msg.offset : msg.offset + header["length"]])
    return RawMessage(int(header["type"]), int(header["flags"]), raw[16:])


def _send_raw(nl: Netlink, msg: Any, msg_type: int, flags: int) -> list[RawMessage]:
    """_send_raw: one request (a pyroute2 message), its replies other than acks and errors
    kept raw."""
    found = nl.request(msg, msg_type, flags)
    return [_raw_message(m) for m in found if m["header"]["type"] not in (2, 3)]


_CHAIN_TCMSG: Any = None


def _chain_tcmsg() -> Any:
    """_chain_tcmsg: a tcmsg codec whose attributes go up to TCA_CHAIN, TCA_OPTIONS as bytes
    (pyroute2's own stops at TCA_STAB)."""
    global _CHAIN_TCMSG
    if _CHAIN_TCMSG is None:
        _import_pyroute2_stub()
        from pyroute2.netlink.rtnl.tcmsg import tcmsg

        class chain_tcmsg(tcmsg):  # type: ignore[misc]
            nla_map = (
                ("TCA_UNSPEC", "none"),
                ("TCA_KIND", "asciiz"),
                ("TCA_OPTIONS", "cdata"),
                *((f"TCA_UNUSED_{n}", "cdata") for n in range(3, 10)),  # STATS .. PAD
                ("TCA_DUMP_INVISIBLE", "flag"),
                ("TCA_CHAIN", "uint32"),
            )

        _CHAIN_TCMSG = chain_tcmsg
    return _CHAIN_TCMSG


def _chain_request(
    nl: Netlink,
    msg_type: int,
    flags: int,
    index: int,
    parent: int,
    info: int,
    attrs: list[tuple[str, Any]],
    handle: int = 0,
) -> list[RawMessage]:
    msg = _chain_tcmsg()()
    msg["family"] = 0
    msg["index"] = index if index != TCM_IFINDEX_MAGIC_BLOCK else -1
    msg["handle"] = handle
    msg["parent"] = parent
    msg["info"] = info
    msg["attrs"] = [list(attr) for attr in attrs]
    return [m for m in _send_raw(nl, msg, msg_type, flags) if m.type in (100, 101, 102)]


class ChainRequests:
    """ChainRequests: RTM_NEWCHAIN/DELCHAIN/GETCHAIN as tc_filter.c sends them for `tc chain`
    (the filter code's requests with the chain message types); replies kept raw."""

    def __init__(self, nl: Netlink) -> None:
        self.nl = nl

    def modify(
        self,
        msg_type: int,
        flags: int,
        index: int,
        parent: int,
        info: int,
        chain: int | None,
        kind: str | None,
        options: bytes | None,
        handle: int = 0,
    ) -> None:
        """modify: add or delete a chain: TCA_CHAIN, TCA_KIND (a template), TCA_OPTIONS."""
        attrs: list[tuple[str, Any]] = [("TCA_CHAIN", chain)] if chain is not None else []
        if kind:
            attrs.append(("TCA_KIND", kind))
        if options is not None:
            attrs.append(("TCA_OPTIONS", options))
        flags |= NLM_F_REQUEST | NLM_F_ACK
        _chain_request(self.nl, msg_type, flags, index, parent, info, attrs, handle)

    def get(self, index: int, parent: int, info: int, chain: int | None) -> RawMessage | None:
        """get: RTM_GETCHAIN with NLM_F_ECHO, as tc_filter_get sends it for a chain."""
        attrs: list[tuple[str, Any]] = [("TCA_CHAIN", chain)] if chain is not None else []
        found = _chain_request(
            self.nl, RTM_GETCHAIN, NLM_F_REQUEST | NLM_F_ECHO, index, parent, info, attrs
        )
        return found[0] if found else None

    def dump(self, index: int, parent: int, info: int, chain: int | None) -> list[RawMessage]:
        """dump: RTM_GETCHAIN dump of a parent (the kernel filters on TCA_CHAIN)."""
        attrs: list[tuple[str, Any]] = [("TCA_CHAIN", chain)] if chain is not None else []
        flags = NLM_F_REQUEST | NLM_F_DUMP
        return _chain_request(self.nl, RTM_GETCHAIN, flags, index, parent, info, attrs)


class ActionRequests:
    """ActionRequests: tcamsg requests (struct tcamsg: family and two pad bytes) whose
    top-level attributes (TCA_ROOT_TAB, TCA_ROOT_FLAGS, TCA_ROOT_TIME_DELTA) are already
    encoded by the caller, sent as tc's m_action.c sends them; replies kept raw (pyroute2
    has no tcamsg codec)."""

    _tcamsg: Any = None
    ROOT_NAMES: tuple[str, ...] = ("TCA_ROOT_UNSPEC", "TCA_ROOT_TAB", "TCA_ROOT_FLAGS")
    ROOT_NAMES += ("TCA_ROOT_COUNT", "TCA_ROOT_TIME_DELTA")

    def __init__(self, nl: Netlink) -> None:
        self.nl = nl
        if ActionRequests._tcamsg is None:
            _import_pyroute2_stub()
            from pyroute2.netlink import nlmsg

            class tcamsg(nlmsg):  # type: ignore[misc]
                fields = (("family", "B"), ("pad1", "B"), ("pad2", "H"))
                nla_map = tuple((name, "cdata") for name in ActionRequests.ROOT_NAMES)

            ActionRequests._tcamsg = tcamsg

    def request(
        self, msg_type: int, flags: int, attrs: list[tuple[int, bytes]]
    ) -> list[RawMessage]:
        """request: send one tcamsg (attrs: (TCA_ROOT_* number, payload)); the replies that
        are not acks or errors, raw."""
        msg = self._tcamsg()
        msg["family"] = 0
        msg["attrs"] = [[self.ROOT_NAMES[kind], payload] for kind, payload in attrs]
        return [m for m in _send_raw(self.nl, msg, msg_type, flags) if m.type in (48, 49, 50)]
