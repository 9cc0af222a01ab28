"""codecs: pyroute2's message codecs as pybpftool uses them, with its fixes, made once.

pyroute2's own classes are never changed: every fix is a private subclass used only by
pybpftool, so a caller's pyroute2 code in the same process sees pyroute2 as it ships.
- Its cls_bpf options stop at TCA_BPF_FLAGS and its sched_bpf plugin ignores skip_hw/skip_sw:
  our tcmsg subclass decodes and encodes a `bpf` kind's options with a subclass of sched_bpf's
  that adds TCA_BPF_FLAGS_GEN, TCA_BPF_TAG and TCA_BPF_ID (a dump then carries the program
  id and tag), and the options of a request are built here (_bpf_options), with the generic
  flags and classic BPF ops.
- Its tcmsg attributes stop at TCA_STAB, so our subclass adds TCA_CHAIN.
- pyroute2 caches the compiled attribute table on the class that first uses it, and a
  subclass inherits that cache: each of our subclasses is marked `private` so that it
  compiles its own table whatever pyroute2 class the caller used first.

Every link message, and the hot tc requests (cls_bpf filter requests without actions, filter
dumps), use light codecs built on pyroute2's nlmsg/nla classes (light_codecs, linkcodec.py),
which skip pyroute2.config and its plugins when the console scripts' cold-start stub is in
place (cli/common/coldstart.py); the rest of tc uses its full tcmsg.
"""

from __future__ import annotations

import os
import socket
from typing import Any, TypeVar

from pybpftool.netlink.uapi import (
    ETH_P_ALL,
    NLM_F_ACK,
    RTM_DELTFILTER,
    RTM_NEWTFILTER,
    TC_FILTER_FLAGS,
    TC_H_ROOT,
    TCA_BPF_FLAG_ACT_DIRECT,
    TCA_CHAIN,
    TCA_CLS_FLAGS_SKIP_HW,
    TCA_CLS_FLAGS_SKIP_SW,
    TCA_KIND,
    TCA_OPTIONS,
)

C = TypeVar("C", bound=type)


def private(cls: C) -> C:
    """private: make a subclass of a pyroute2 codec compile its own attribute table.

    pyroute2 (nlmsg_base.compile_nla_table) stores the compiled nla_map on the class the first
    time one is built, in name-mangled attributes a subclass inherits: a subclass made after
    its parent was used would silently encode and decode with the parent's table.
    """
    cls._nlmsg_base__compiled_nla = False  # type: ignore[attr-defined]
    cls._nlmsg_base__t_nla_map = None  # type: ignore[attr-defined]
    cls._nlmsg_base__r_nla_map = None  # type: ignore[attr-defined]
    return cls


_TC_CODECS: dict[str, Any] = {}


def tc_codecs() -> Any:
    """tc_codecs: our tcmsg class (a private subclass of pyroute2's, with TCA_CHAIN and the
    full cls_bpf options), made once."""
    if not _TC_CODECS:
        from pyroute2.netlink.rtnl.tcmsg import sched_bpf, tcmsg

        _TC_CODECS["tcmsg"] = _tc_message(tcmsg, _cls_bpf_options(sched_bpf.options))
    return _TC_CODECS["tcmsg"]


# linux/pkt_cls.h TCA_BPF_* from CLASSID (3) on, typed as the kernel's bpf_policy checks them:
# pyroute2 declares OPS_LEN and OPS as uint32 (a u16 and a sock_filter array) and stops at
# FLAGS. The one table for the fixed full codec and the light one.
_CLS_BPF_ATTRS = (
    ("TCA_BPF_CLASSID", "uint32"),
    ("TCA_BPF_OPS_LEN", "uint16"),
    ("TCA_BPF_OPS", "cdata"),
    ("TCA_BPF_FD", "uint32"),
    ("TCA_BPF_NAME", "asciiz"),
    ("TCA_BPF_FLAGS", "uint32"),
    ("TCA_BPF_FLAGS_GEN", "uint32"),
    ("TCA_BPF_TAG", "hex"),
    ("TCA_BPF_ID", "uint32"),
)


def _cls_bpf_options(base: Any) -> Any:
    @private
    class cls_bpf_options(base):  # type: ignore[misc]
        nla_map = (*base.nla_map[:3], *_CLS_BPF_ATTRS)  # UNSPEC, ACT and POLICE kept

    return cls_bpf_options


def _tc_message(base: Any, bpf_options: Any) -> Any:
    names = [name for name, _ in base.nla_map]
    extra: tuple[tuple[str, str], ...] = ()
    if "TCA_CHAIN" not in names:
        extra = (("TCA_PAD", "hex"), ("TCA_DUMP_INVISIBLE", "flag"), ("TCA_CHAIN", "uint32"))

    @private
    class tc_message(base):  # type: ignore[misc]
        nla_map = (*base.nla_map[: 9 if extra else len(names)], *extra)

        def get_plugin(self, plug: str, *argv: Any, **kwarg: Any) -> Any:
            # pyroute2's tcmsg looks the options codec up in its plugin table by TCA_KIND.
            if plug == "options" and self.get_attr("TCA_KIND") == "bpf":
                return bpf_options
            return super().get_plugin(plug, *argv, **kwarg)

    return tc_message


# The command words of bpf_filter_message: message type and flags, tc's (tc_filter.c).
_FILTER_COMMANDS = {
    "add-filter": (RTM_NEWTFILTER, NLM_F_ACK | TC_FILTER_FLAGS["add"]),
    "replace-filter": (RTM_NEWTFILTER, NLM_F_ACK | TC_FILTER_FLAGS["replace"]),
    "change-filter": (RTM_NEWTFILTER, NLM_F_ACK | TC_FILTER_FLAGS["change"]),
    "del-filter": (RTM_DELTFILTER, NLM_F_ACK | TC_FILTER_FLAGS["delete"]),
}


_LIGHT_CODECS: dict[str, Any] = {}


def light_codecs() -> dict[str, Any]:
    """light_codecs: ifinfmsg and tcmsg cut down to what link requests and listings (see
    linkcodec.py), a cls_bpf filter request without actions and a filter dump carry, and
    the acks of our sockets, on pyroute2's own nlmsg/nla classes.

    The full codecs import pyroute2.config (multiprocessing, platform, pickle) and every link
    and tc plugin, a fifth of a cold attach; these import only pyroute2.netlink. They encode
    byte for byte what the full ones do (tests/unit/test_netlink_codecs.py) and keep
    pyroute2's names, so replies decode the same for the fields read from them.
    """
    if _LIGHT_CODECS:
        return _LIGHT_CODECS
    from pyroute2.netlink import nla, nlmsg

    from pybpftool.netlink.linkcodec import link_codec

    @private
    class bpf_filter_msg(nlmsg):  # type: ignore[misc]
        """A filter request (a -batch sends one a line): pyroute2 looks every struct field
        up by name, first among the attributes (through `prefix`, which attribute names
        given in full do not need), so tcmsg's two pad fields are one and there is no
        prefix: the same bytes at a tenth less of the request's encoding time."""

        prefix: str | None = None
        fields: tuple[tuple[str, str], ...] = (  # struct tcmsg (its padding in one field)
            ("family", "B"),
            ("pad", "3x"),
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

        @private
        class options(nla):  # type: ignore[misc]
            nla_map = tuple((n, *attr) for n, attr in enumerate(_CLS_BPF_ATTRS, start=3))

    @private
    class filter_dump_msg(bpf_filter_msg):
        """A filter dump's messages: cls_bpf options decoded for a `bpf` filter, another
        kind's options left undecoded (pyroute2's tcmsg picks a plugin by TCA_KIND too),
        their fields and short names (msg.get("handle")) as pyroute2's tcmsg reads them."""

        prefix = "TCA_"
        fields = (
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
            (TCA_OPTIONS, "TCA_OPTIONS", "get_options"),
            (TCA_CHAIN, "TCA_CHAIN", "uint32"),
        )

        @private
        class other_options(nla):  # type: ignore[misc]
            nla_map = ()

        def get_options(self, **kwarg: Any) -> Any:
            # pyroute2 calls this (bound to the message that compiled the table) in place of
            # a class, with the attribute's data, offset and `parent`: the message decoded.
            bpf = kwarg["parent"].get_attr("TCA_KIND") == "bpf"
            return (bpf_filter_msg.options if bpf else self.other_options)(**kwarg)

    @private
    class netlink_ack(nlmsg):  # type: ignore[misc]
        """An ack (NLMSG_ERROR) of our sockets, which cap them (NETLINK_CAP_ACK): struct
        nlmsgerr (the error, then the header of the request it answers), then the extended
        ack's attributes. pyroute2's nlmsgerr reads attributes right after the error, where
        this header stands: the attributes of a capped error were lost, and a success's
        header was decoded as an attribute (twice the time of this class)."""

        prefix = "NLMSGERR_ATTR_"
        fields = (("error", "i"), ("request", "16s"))  # the request's struct nlmsghdr
        nla_map = ((1, "NLMSGERR_ATTR_MSG", "asciiz"), (2, "NLMSGERR_ATTR_OFFS", "uint32"))

    _LIGHT_CODECS.update(
        link=link_codec(),
        bpf_filter=bpf_filter_msg,
        filter_dump=filter_dump_msg,
        ack=netlink_ack,
    )
    return _LIGHT_CODECS


def bpf_filter_message(command: str, index: int, **kw: Any) -> tuple[Any, int, int]:
    """bpf_filter_message: (message, type, flags) of a cls_bpf filter request with `kw` as
    pyroute2's sched_bpf takes them, built as pyroute2's tc() builds it. A request with
    actions needs pyroute2's action plugins, so the full tcmsg codec; others the light one."""
    msg_type, flags = _FILTER_COMMANDS[command]
    msg = tc_codecs()() if kw.get("action") else light_codecs()["bpf_filter"]()
    msg["family"], msg["index"] = 0, index
    msg["handle"] = kw.get("handle", 0)
    attrs: list[list[Any]] = []
    if command == "del-filter" and not kw.get("prio"):
        msg["parent"], msg["info"] = kw.get("parent", 0), 0  # every filter of the parent
    else:
        msg["parent"] = kw.get("parent", TC_H_ROOT)
        # sched_bpf.fix_request: protocol (ETH_P_ALL unless given) and prio make tcm_info.
        protocol = socket.htons(kw.get("protocol", ETH_P_ALL) & 0xFFFF)
        msg["info"] = protocol | ((kw.get("prio", 0) << 16) & 0xFFFF0000)
        attrs = [["TCA_KIND", "bpf"], ["TCA_OPTIONS", _bpf_options(kw)]]
    if kw.get("chain") is not None:
        attrs.append(["TCA_CHAIN", kw["chain"]])
    msg["attrs"] = attrs
    return msg, msg_type, flags


def _bpf_options(kw: dict[str, Any]) -> dict[str, Any]:
    """_bpf_options: TCA_OPTIONS of a cls_bpf request in sched_bpf.get_parameters' order,
    with the generic flags and classic BPF ops it leaves out."""
    attrs: list[list[Any]] = []
    if kw.get("action"):
        tc_codecs()
        from pyroute2.netlink.rtnl.tcmsg.common_act import get_tca_action

        attrs.append(["TCA_BPF_ACT", get_tca_action({"kind": "bpf", **kw})])
    flags = kw.get("flags", 0) | (TCA_BPF_FLAG_ACT_DIRECT if kw.get("direct_action") else 0)
    if kw.get("classid") is not None:
        attrs.append(["TCA_BPF_CLASSID", kw["classid"]])
    if kw.get("fd") is not None:
        attrs.append(["TCA_BPF_FD", kw["fd"]])
    if kw.get("name") is not None:
        # the bytes of the file's name as the command line gave them (tc sends them so; a
        # name that is no UTF-8 arrives surrogate-escaped, which pyroute2 cannot encode)
        attrs.append(["TCA_BPF_NAME", os.fsencode(kw["name"])])
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
