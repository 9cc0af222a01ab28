"""linkcodec: the RTM_*LINK message codec pybpftool uses (struct ifinfomsg and its IFLA_*
attributes), on pyroute2's own nlmsg/nla classes.

pyroute2's ifinfmsg imports pyroute2.config (multiprocessing, platform, pickle, pkgutil) and
every link-kind plugin, a third of a cold `pyip link show`. This codec declares only what a
link lookup and an XDP attach send and what `ip link show`, `ip vrf` and the tc listings
read back, with pyroute2's names, numbers and types, so pyroute2 still encodes every request
and decodes every reply; an attribute not declared here stays undecoded (pyroute2 keeps it as
UNKNOWN, and linkattrs.decode_extras reads the few it prints from the message's bytes).

Two types differ from ifinfmsg's, both to read what the kernel sent as iproute2 does:
IFLA_OPERSTATE and IFLA_XDP_ATTACHED are the kernel's u8 (pyroute2 turns them into names and
cannot decode a value it has no name for; ip prints `state 0x7`, `xdp[5]`).
tests/unit/test_netlink_codecs.py holds every declared attribute to ifinfmsg's bytes and
values.
"""

from __future__ import annotations

from typing import Any

from pybpftool.netlink.codecs import private

# linux/if_link.h: number, pyroute2's name, pyroute2's type
LINK_ATTRS = (
    (1, "IFLA_ADDRESS", "l2addr"),
    (2, "IFLA_BROADCAST", "l2addr"),
    (3, "IFLA_IFNAME", "asciiz"),
    (4, "IFLA_MTU", "uint32"),
    (6, "IFLA_QDISC", "asciiz"),
    (10, "IFLA_MASTER", "uint32"),  # a dump's filter (linkattrs reads a reply's)
    (13, "IFLA_TXQLEN", "uint32"),
    (16, "IFLA_OPERSTATE", "uint8"),  # pyroute2: its `state` names
    (17, "IFLA_LINKMODE", "uint8"),
    (18, "IFLA_LINKINFO", "ifinfo"),
    (26, "IFLA_AF_SPEC", "af_spec"),
    (27, "IFLA_GROUP", "uint32"),
    (30, "IFLA_PROMISCUITY", "uint32"),
    (31, "IFLA_NUM_TX_QUEUES", "uint32"),
    (32, "IFLA_NUM_RX_QUEUES", "uint32"),
    (40, "IFLA_GSO_MAX_SEGS", "uint32"),
    (41, "IFLA_GSO_MAX_SIZE", "uint32"),
    (43, "IFLA_XDP", "xdp"),
    (50, "IFLA_MIN_MTU", "uint32"),
    (51, "IFLA_MAX_MTU", "uint32"),
    (53, "IFLA_ALT_IFNAME", "asciiz"),
    (58, "IFLA_GRO_MAX_SIZE", "uint32"),
    (59, "IFLA_TSO_MAX_SIZE", "uint32"),
    (60, "IFLA_TSO_MAX_SEGS", "uint32"),
    (61, "IFLA_ALLMULTI", "uint32"),
)
XDP_ATTRS = (
    (1, "IFLA_XDP_FD", "int32"),
    (2, "IFLA_XDP_ATTACHED", "uint8"),  # pyroute2: its xdp_mode names
    (3, "IFLA_XDP_FLAGS", "uint32"),
    (4, "IFLA_XDP_PROG_ID", "uint32"),
    (5, "IFLA_XDP_DRV_PROG_ID", "uint32"),
    (6, "IFLA_XDP_SKB_PROG_ID", "uint32"),
    (7, "IFLA_XDP_HW_PROG_ID", "uint32"),
    (8, "IFLA_XDP_EXPECTED_FD", "int32"),
)
LINKINFO_ATTRS = (
    (1, "IFLA_INFO_KIND", "asciiz"),
    (2, "IFLA_INFO_DATA", "info_data"),  # decoded for a vrf only (its table)
    (4, "IFLA_INFO_SLAVE_KIND", "asciiz"),
)
AF_INET6 = 10
IFLA_INET6_ADDR_GEN_MODE = 8
IFLA_VRF_TABLE = 1

_CODEC: dict[str, Any] = {}


def link_codec() -> Any:
    """link_codec: the link message class (made once, on first use)."""
    if not _CODEC:
        _CODEC["link"] = _link_message()
    return _CODEC["link"]


def _link_message() -> Any:
    from pyroute2.netlink import NLA_F_NESTED, nla, nlmsg

    @private
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
        nla_map = LINK_ATTRS

        @private
        class xdp(nla):  # type: ignore[misc]
            nla_flags = NLA_F_NESTED
            prefix = "IFLA_"
            nla_map = XDP_ATTRS

        @private
        class ifinfo(nla):  # type: ignore[misc]
            prefix = "IFLA_INFO_"
            nla_map = LINKINFO_ATTRS

            @staticmethod
            def info_data(self: Any, *argv: Any, **kwarg: Any) -> Any:
                # pyroute2 calls this with the IFLA_LINKINFO being decoded: its kind, which
                # the kernel sends first, picks the class (as ifinfmsg's info_data does)
                vrf = self.get_attr("IFLA_INFO_KIND") == "vrf"
                return self.vrf_data if vrf else self.other_data

            @private
            class vrf_data(nla):  # type: ignore[misc]
                prefix = "IFLA_"
                nla_map = ((IFLA_VRF_TABLE, "IFLA_VRF_TABLE", "uint32"),)

            @private
            class other_data(nla):  # type: ignore[misc]
                nla_map = ()

        @private
        class af_spec(nla):  # type: ignore[misc]
            # a link dump's family is AF_UNSPEC, for which ifinfmsg reads af_spec_inet
            nla_map = ((AF_INET6, "AF_INET6", "inet6"),)

            @private
            class inet6(nla):  # type: ignore[misc]
                prefix = "IFLA_"
                nla_map = ((IFLA_INET6_ADDR_GEN_MODE, "IFLA_INET6_ADDR_GEN_MODE", "uint8"),)

    return link_msg
