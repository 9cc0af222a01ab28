"""tc: cls_bpf filter records, and the tc requests built by hand where tc's exact flags and
attributes matter: qdiscs of any kind, kind-less filter requests, filter get and dumps
(TcRequests), chains (ChainRequests) and actions (ActionRequests). Qdisc, chain and action
replies keep their attributes raw for the renderers.

Annotations here are evaluated when defined (no `from __future__ import annotations`):
typing.NamedTuple compiles a string annotation into a ForwardRef per field, which a cold
`tc filter show`, defining these records, paid for.
"""

import socket
import sys
from typing import TYPE_CHECKING, Any, NamedTuple

from pybpftool.netlink.attrs import message_bytes, rtattrs
from pybpftool.netlink.codecs import light_codecs, private, tc_codecs
from pybpftool.netlink.core import Netlink
from pybpftool.netlink.uapi import (
    NLM_F_ACK,
    NLM_F_DUMP,
    NLM_F_ECHO,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    RTM_DELACTION,
    RTM_DELCHAIN,
    RTM_GETACTION,
    RTM_GETCHAIN,
    RTM_GETQDISC,
    RTM_GETTFILTER,
    RTM_NEWACTION,
    RTM_NEWCHAIN,
    RTM_NEWQDISC,
    RTM_NEWTFILTER,
    TCA_BPF_FLAG_ACT_DIRECT,
    TCA_HW_OFFLOAD,
    TCA_KIND,
    TCM_IFINDEX_MAGIC_BLOCK,
)

if TYPE_CHECKING:  # the request records are imported by the requests that carry them
    from pybpftool.netlink.actions import Action, ActionRef
    from pybpftool.netlink.clsbpf import ClsBpfOptions
    from pybpftool.netlink.qdiscopts import QdiscOptions

_NLMSG_TCMSG_LEN = 16 + 20  # struct nlmsghdr + struct tcmsg


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
    actions: bytes = b""  # TCA_BPF_ACT as sent: the action table (TCA_ACT_TAB's layout)


def _bpf_filter(msg: Any) -> BpfFilter:
    info = int(msg["info"])
    protocol = socket.ntohs(info & 0xFFFF)
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


def _filter_attrs(
    chain: int | None, kind: str | None, options: "ClsBpfOptions | None"
) -> list[tuple[str, Any]]:
    """_filter_attrs: what tc_filter_modify adds after struct tcmsg, filters and chains
    alike: TCA_CHAIN, TCA_KIND, then the kind's options, each when given."""
    attrs: list[tuple[str, Any]] = [("TCA_CHAIN", chain)] if chain is not None else []
    if kind:
        attrs.append(("TCA_KIND", kind))
    if options is not None:
        from pybpftool.netlink.clsbpf import cls_bpf_options

        attrs.append(("TCA_OPTIONS", cls_bpf_options(options)))
    return attrs


class TcRequests:
    """TcRequests: hand-built tcmsg requests with iproute2's exact flags and attributes
    (pyroute2's tc() insists on a kind, fills in parents and decodes options by plugin)."""

    _tcmsg: Any = None

    def __init__(self, nl: Netlink) -> None:
        self.nl = nl

    @classmethod
    def _codec(cls) -> Any:
        """_codec: the request codec, made on first use (a filter dump needs none of it)."""
        if cls._tcmsg is None:
            tcmsg = tc_codecs()
            names = [name for name, _ in tcmsg.nla_map]
            blocks: tuple[tuple[str, str], ...] = ()
            if names[-1] == "TCA_CHAIN" and len(names) == TCA_HW_OFFLOAD:  # attrs 12, 13, 14
                blocks = (("TCA_HW_OFFLOAD", "uint8"), ("TCA_INGRESS_BLOCK", "uint32"))
                blocks += (("TCA_EGRESS_BLOCK", "uint32"),)

            @private
            class raw_tcmsg(tcmsg):  # type: ignore[misc, valid-type]
                # TCA_OPTIONS as bytes built by the caller, not by a pyroute2 plugin.
                nla_map = (
                    *(
                        (name, "cdata") if name == "TCA_OPTIONS" else (name, kind)
                        for name, kind in tcmsg.nla_map
                    ),
                    *blocks,
                )

            cls._tcmsg = raw_tcmsg
        return cls._tcmsg

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
        msg = self._codec()()
        msg["family"] = 0
        msg["index"] = index if index != TCM_IFINDEX_MAGIC_BLOCK else -1  # a signed field
        msg["handle"] = handle
        msg["parent"] = parent
        msg["info"] = info
        msg["attrs"] = [list(attr) for attr in attrs]  # pyroute2 reads tuples differently
        # Replies are decoded by pyroute2's own tcmsg, its plugins decoding the options.
        return self.nl.request(msg, msg_type, flags, reply=tc_codecs())

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
        options: "QdiscOptions | None" = None,
        blocks: tuple[int, int] = (0, 0),
    ) -> None:
        """qdisc_modify: RTM_NEWQDISC/RTM_DELQDISC as tc_qdisc_modify sends it (+ ACK), with
        the kind's options (None: no TCA_OPTIONS); `blocks` the ingress and egress shared
        block indexes (0: none)."""
        attrs: list[tuple[str, Any]] = [("TCA_KIND", kind)] if kind else []
        for name, block in zip(("TCA_INGRESS_BLOCK", "TCA_EGRESS_BLOCK"), blocks, strict=True):
            if block:
                attrs.append((name, block))
        if options is not None:
            from pybpftool.netlink.qdiscopts import qdisc_options

            attrs.append(("TCA_OPTIONS", qdisc_options(options)))
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
        options: "ClsBpfOptions | None" = None,
    ) -> None:
        """filter_modify: a filter request as tc_filter_modify builds it: TCA_CHAIN,
        TCA_KIND and the cls_bpf options, each when given (a delete, or a kind-less request
        the kernel judges, has only the first two)."""
        attrs = _filter_attrs(chain, kind, options)
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
        """filter_dump: RTM_GETTFILTER dump; the kernel filters on prio, protocol and chain.

        Sent and decoded with the light codecs (`pytc filter show` then imports none of
        pyroute2's tc plugins): what _bpf_filter reads decodes as pyroute2's tcmsg does."""
        codecs = light_codecs()
        msg = codecs["bpf_filter"]()
        msg["family"], msg["handle"], msg["parent"], msg["info"] = 0, 0, parent, info
        msg["index"] = index if index != TCM_IFINDEX_MAGIC_BLOCK else -1  # a signed field
        msg["attrs"] = [["TCA_CHAIN", chain]] if chain is not None else []
        found = self.nl.request(
            msg, RTM_GETTFILTER, NLM_F_REQUEST | NLM_F_DUMP, reply=codecs["filter_dump"]
        )
        return [_tc_filter(m) for m in found if m["header"]["type"] == RTM_NEWTFILTER]


def _tc_filter(msg: Any) -> BpfFilter:
    return _bpf_filter(msg)._replace(
        ifindex=int(msg["index"]) & 0xFFFFFFFF, actions=_bpf_actions(msg)
    )


TCA_OPTIONS, TCA_BPF_ACT = 2, 1
TCMSG_SIZE = 20  # struct tcmsg


def _bpf_actions(msg: Any) -> bytes:
    """_bpf_actions: the filter's TCA_BPF_ACT payload, read from the message's own bytes
    (pyroute2's light codec leaves the action table undecoded); empty without actions."""
    body = message_bytes(msg)[16 + TCMSG_SIZE :]  # after struct nlmsghdr and struct tcmsg
    options = rtattrs(body).get(TCA_OPTIONS)
    return rtattrs(options).get(TCA_BPF_ACT, b"") if options else b""


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
    return [_raw_message(m) for m in found if m["header"]["type"] not in (NLMSG_ERROR, NLMSG_DONE)]


_CHAIN_TCMSG: Any = None


def _chain_tcmsg() -> Any:
    """_chain_tcmsg: a tcmsg codec whose attributes go up to TCA_CHAIN, TCA_OPTIONS as bytes
    (pyroute2's own stops at TCA_STAB)."""
    global _CHAIN_TCMSG
    if _CHAIN_TCMSG is None:
        from pyroute2.netlink.rtnl.tcmsg import tcmsg

        @private
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
    chains = (RTM_NEWCHAIN, RTM_DELCHAIN, RTM_GETCHAIN)
    return [m for m in _send_raw(nl, msg, msg_type, flags) if m.type in chains]


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
        options: "ClsBpfOptions | None",
        handle: int = 0,
    ) -> None:
        """modify: add or delete a chain: TCA_CHAIN, TCA_KIND and TCA_OPTIONS (a template)."""
        attrs = _filter_attrs(chain, kind, options)
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


_ACTION_MESSAGES = (RTM_NEWACTION, RTM_DELACTION, RTM_GETACTION)


class ActionRequests:
    """ActionRequests: tcamsg requests (struct tcamsg: family and two pad bytes) as tc's
    m_action.c sends them, their attributes encoded by netlink.actions; replies kept raw
    (pyroute2 has no tcamsg codec)."""

    _tcamsg: Any = None
    ROOT_NAMES: tuple[str, ...] = ("TCA_ROOT_UNSPEC", "TCA_ROOT_TAB", "TCA_ROOT_FLAGS")
    ROOT_NAMES += ("TCA_ROOT_COUNT", "TCA_ROOT_TIME_DELTA")

    def __init__(self, nl: Netlink) -> None:
        self.nl = nl
        if ActionRequests._tcamsg is None:
            from pyroute2.netlink import nlmsg

            @private
            class tcamsg(nlmsg):  # type: ignore[misc]
                fields = (("family", "B"), ("pad1", "B"), ("pad2", "H"))
                nla_map = tuple((name, "cdata") for name in ActionRequests.ROOT_NAMES)

            ActionRequests._tcamsg = tcamsg

    def modify(self, flags: int, actions: "list[Action]") -> None:
        """modify: RTM_NEWACTION of `actions` (tc_action_modify)."""
        from pybpftool.netlink.actions import TCA_ROOT_TAB, action_tab

        self.request(RTM_NEWACTION, flags, [(TCA_ROOT_TAB, action_tab(actions))])

    def by_index(self, msg_type: int, flags: int, refs: "list[ActionRef]") -> list[RawMessage]:
        """by_index: RTM_GETACTION or RTM_DELACTION of actions by kind and index
        (tc_action_gd); the replies."""
        from pybpftool.netlink.actions import TCA_ROOT_TAB, ref_tab

        return self.request(msg_type, flags, [(TCA_ROOT_TAB, ref_tab(refs))])

    def by_kind(
        self, msg_type: int, flags: int, kind: str, dump_flags: int, since: int = 0
    ) -> list[RawMessage]:
        """by_kind: a dump (RTM_GETACTION) or a flush (RTM_DELACTION) of one kind
        (tc_act_list_or_flush); the replies."""
        from pybpftool.netlink.actions import dump_attrs

        return self.request(msg_type, flags, dump_attrs(kind, dump_flags, since))

    def request(
        self, msg_type: int, flags: int, attrs: list[tuple[int, bytes]]
    ) -> list[RawMessage]:
        """request: send one tcamsg (attrs: (TCA_ROOT_* number, payload)); the replies that
        are not acks or errors, raw."""
        msg = self._tcamsg()
        msg["family"] = 0
        msg["attrs"] = [[self.ROOT_NAMES[kind], payload] for kind, payload in attrs]
        return [m for m in _send_raw(self.nl, msg, msg_type, flags) if m.type in _ACTION_MESSAGES]
