"""The light netlink codecs of the hot setters encode exactly what pyroute2's full ones do.

Link lookups, XDP attaches and cls_bpf filter requests without actions are built with codecs
cut down to their attributes (netlink.light_codecs) so a cold attach does not import
pyroute2.config and every plugin. These tests hold them to pyroute2's own ifinfmsg, tcmsg and
sched_bpf: same bytes for the same request. No root needed: nothing is sent.
"""

from __future__ import annotations

import os
import socket
import struct
from typing import Any

import pytest

from pybpftool.netlink import bpf_filter_message, uapi
from pybpftool.netlink.codecs import light_codecs, tc_codecs


def encoded(msg: Any) -> bytes:
    msg["header"]["type"], msg["header"]["flags"] = 16, 5
    msg["header"]["sequence_number"], msg["header"]["pid"] = 7, 0
    msg.encode()
    return bytes(msg.data)


def link_request(codec: Any, index: int, attrs: list[list[Any]]) -> bytes:
    msg = codec()
    msg["family"], msg["index"] = 0, index
    msg["attrs"] = attrs
    return encoded(msg)


def full_ifinfmsg() -> Any:
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

    return ifinfmsg


@pytest.mark.parametrize(
    "attrs",
    [
        [["IFLA_IFNAME", "veth0"]],
        [["IFLA_IFNAME", "a" * 15]],
        [["IFLA_XDP", {"attrs": [["IFLA_XDP_FD", 7]]}]],
        [["IFLA_XDP", {"attrs": [["IFLA_XDP_FD", -1]]}]],
        [["IFLA_XDP", {"attrs": [["IFLA_XDP_FD", 9], ["IFLA_XDP_FLAGS", 1 | 2]]}]],
        [["IFLA_XDP", {"attrs": [["IFLA_XDP_FD", 9], ["IFLA_XDP_FLAGS", 4]]}]],
    ],
    ids=["name", "long-name", "xdp", "xdp-off", "xdp-skb-noexist", "xdp-drv"],
)
def test_link_requests_equal_ifinfmsg(attrs: list[list[Any]]) -> None:
    light = link_request(light_codecs()["link"], 3, attrs)
    assert light == link_request(full_ifinfmsg(), 3, attrs)


def test_light_link_codec_reads_index_and_xdp_of_a_full_reply() -> None:
    reply = full_ifinfmsg()()
    reply["family"], reply["index"], reply["flags"] = 0, 42, 0x1043
    reply["attrs"] = [
        ["IFLA_IFNAME", "v0"],
        ["IFLA_MTU", 1500],
        ["IFLA_TXQLEN", 1000],
        ["IFLA_XDP", {"attrs": [["IFLA_XDP_ATTACHED", 2], ["IFLA_XDP_PROG_ID", 99]]}],
        ["IFLA_GROUP", 0],
    ]
    data = encoded(reply)
    msg = light_codecs()["link"](data)
    msg.decode()
    assert (msg["index"], msg["flags"], msg.get_attr("IFLA_IFNAME")) == (42, 0x1043, "v0")
    xdp = msg.get_attr("IFLA_XDP")
    assert (xdp.get_attr("IFLA_XDP_ATTACHED"), xdp.get_attr("IFLA_XDP_PROG_ID")) == (2, 99)


def pyroute2_filter(command: str, index: int, **kw: Any) -> bytes:
    """pyroute2_filter: the request as pyroute2's own tc() path builds it: its tcmsg, its
    sched_bpf.get_parameters and fix_request."""
    from pyroute2.netlink.rtnl.tcmsg import sched_bpf

    tcmsg = tc_codecs()
    msg = tcmsg()
    msg["family"], msg["index"], msg["handle"] = 0, index, kw.get("handle", 0)
    context = {"kind": "bpf", "index": index, "handle": 0, "parent": sched_bpf.parent, **kw}
    options = sched_bpf.get_parameters(dict(context))
    sched_bpf.fix_request(context)
    msg["parent"], msg["info"] = context["parent"], context["info"]
    attrs: list[list[Any]] = [["TCA_KIND", "bpf"], ["TCA_OPTIONS", options]]
    if kw.get("chain") is not None:
        attrs.append(["TCA_CHAIN", kw["chain"]])
    msg["attrs"] = attrs
    return encoded(msg)


FILTERS = {
    "da-obj": {"parent": 0xFFFFFFF2, "fd": 5, "name": "prog.o:[cls]", "direct_action": True},
    "pref-handle": {"parent": 0xFFFFFFF3, "prio": 7, "handle": 1, "fd": 5, "name": "x"},
    "protocol-ip": {"parent": 0xFFFFFFF2, "prio": 1, "protocol": 0x0800, "fd": 5, "name": "x"},
    "classid": {"parent": 0x10000, "classid": 0x10002, "fd": 3, "name": "x"},
    "chain": {"parent": 0xFFFFFFF2, "prio": 2, "chain": 9, "fd": 4, "name": "y"},
    "gact-action": {"parent": 0xFFFFFFF2, "fd": 4, "name": "z", "action": "drop"},
    "two-actions": {
        "parent": 0xFFFFFFF2,
        "fd": 4,
        "name": "z",
        "action": [{"kind": "gact", "action": "ok"}, {"kind": "gact", "action": "drop"}],
    },
}


@pytest.mark.parametrize("kw", FILTERS.values(), ids=FILTERS.keys())
@pytest.mark.parametrize("command", ["add-filter", "replace-filter", "change-filter"])
def test_filter_requests_equal_pyroute2s(command: str, kw: dict[str, Any]) -> None:
    msg, _, _ = bpf_filter_message(command, 6, **kw)
    assert encoded(msg) == pyroute2_filter(command, 6, **kw)


def test_a_name_that_is_no_utf8_is_sent_as_its_bytes() -> None:
    """An object file named by bytes that are no UTF-8 (surrogate-escaped on the command
    line) is named in TCA_BPF_NAME by those bytes, as tc names it, in the request without
    actions and in tc's own attribute builder alike."""
    from pybpftool.netlink.attrs import asciiz

    name = os.fsdecode(b"bad\xff.o") + ":[tc]"
    msg, _, _ = bpf_filter_message("replace-filter", 6, parent=0xFFFFFFF2, fd=5, name=name)
    assert b"bad\xff.o:[tc]\0" in encoded(msg)
    assert asciiz(name) == b"bad\xff.o:[tc]\0"


@pytest.mark.parametrize(
    "kw",
    [
        {"parent": 0xFFFFFFF2, "fd": 5, "name": "x", "skip_sw": True, "direct_action": True},
        {"parent": 0xFFFFFFF2, "fd": 5, "name": "x", "skip_hw": True},
        {"parent": 0xFFFFFFF2, "ops": bytes(range(16)), "classid": 0x10001},
    ],
    ids=["skip_sw", "skip_hw", "bytecode"],
)
def test_what_pyroute2_cannot_encode_equals_its_fixed_codec(kw: dict[str, Any]) -> None:
    """skip_hw/skip_sw and classic BPF ops: the light codec against pyroute2's tcmsg with
    our cls_bpf fixes, fed the same attributes."""
    light, _, _ = bpf_filter_message("add-filter", 6, **kw)
    full = tc_codecs()()
    for field in ("family", "index", "handle", "parent", "info"):
        full[field] = light[field]
    full["attrs"] = [list(attr) for attr in light["attrs"]]
    assert encoded(light) == encoded(full)
    options = dict(dict(light["attrs"])["TCA_OPTIONS"]["attrs"])
    if "ops" in kw:
        assert options["TCA_BPF_OPS_LEN"] == 2
    else:
        skip = uapi.TCA_CLS_FLAGS_SKIP_SW if "skip_sw" in kw else uapi.TCA_CLS_FLAGS_SKIP_HW
        assert options["TCA_BPF_FLAGS_GEN"] == skip


def test_delete_of_a_whole_parent_has_no_kind() -> None:
    msg, msg_type, _ = bpf_filter_message("del-filter", 6, parent=0xFFFFFFF2)
    assert (msg_type, msg["info"], msg["attrs"]) == (uapi.RTM_DELTFILTER, 0, [])


def test_default_protocol_is_eth_p_all() -> None:
    msg, _, _ = bpf_filter_message("add-filter", 6, parent=0xFFFFFFF2, prio=3, fd=1, name="x")
    assert msg["info"] == (3 << 16) | socket.htons(uapi.ETH_P_ALL)


def test_requests_without_actions_do_not_load_pyroute2_config() -> None:
    """The point of the light codecs, in a console process (with its cold-start stub):
    checked in a fresh interpreter."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from pybpftool.cli.common.coldstart import install_pyroute2_stub\n"
        "install_pyroute2_stub()\n"
        "from pybpftool.netlink import bpf_filter_message\n"
        "from pybpftool.netlink.codecs import light_codecs\n"
        "bpf_filter_message('replace-filter', 2, parent=1, fd=3, name='x')\n"
        "light_codecs()['link']()\n"
        "print(sorted(m for m in sys.modules if m.startswith(('pyroute2.config', "
        "'pyroute2.netlink.rtnl', 'multiprocessing'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_our_tcmsg_codecs_keep_their_own_attributes_after_pyroute2s_was_used() -> None:
    """pyroute2 keeps a message class's compiled attribute table on the class, and a subclass
    reads its parent's when it has none of its own: our tcmsg subclasses (TCA_OPTIONS as
    bytes built here) made or first used after pyroute2's tcmsg decoded a reply would send
    an empty TCA_OPTIONS. Checked in a fresh interpreter, pyroute2's codec used first."""
    import subprocess
    import sys

    code = (
        "from pybpftool.netlink.codecs import tc_codecs\n"
        "from pybpftool.netlink.tc import TcRequests, _chain_tcmsg\n"
        "used = tc_codecs()()\n"
        "used['attrs'] = [['TCA_KIND', 'bpf'], ['TCA_OPTIONS', {'attrs': []}]]\n"
        "used.encode()\n"
        "for codec in (TcRequests._codec(), _chain_tcmsg()):\n"
        "    msg = codec()\n"
        "    msg['attrs'] = [['TCA_KIND', 'htb'], ['TCA_OPTIONS', bytes([1, 2, 3, 4])]]\n"
        "    msg.encode()\n"
        "    print(bytes(msg.data)[36:].hex())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["08000100687462000800020001020304"] * 2


FILTER_REPLIES = {
    "bpf da": [
        ["TCA_BPF_FD", 9],
        ["TCA_BPF_NAME", "x.o:[tc]"],
        ["TCA_BPF_FLAGS", 1],
        ["TCA_BPF_FLAGS_GEN", 8],
        ["TCA_BPF_TAG", "99:32:8e:4d:ba:88:a0:bb"],
        ["TCA_BPF_ID", 145518],
    ],
    "bpf classic": [
        ["TCA_BPF_CLASSID", 0x10002],
        ["TCA_BPF_OPS_LEN", 1],
        ["TCA_BPF_OPS", b"\x06\x00\x00\x00\x00\x00\x00\x00"],
        ["TCA_BPF_FLAGS_GEN", 9],
    ],
    "chain head": None,
}


@pytest.mark.parametrize("options", FILTER_REPLIES.values(), ids=FILTER_REPLIES.keys())
@pytest.mark.parametrize("kind", ["bpf", "u32"])
def test_light_filter_dump_decodes_as_the_full_codec(
    kind: str, options: list[list[Any]] | None
) -> None:
    """`pytc filter show` decodes dumps with the light codec: a reply encoded by pyroute2's
    tcmsg reads the same through both (another kind's options left to pyroute2's plugin)."""
    from pybpftool.netlink.tc import _tc_filter

    reply = tc_codecs()()
    reply["family"], reply["index"], reply["handle"] = 0, 3, 1
    reply["parent"], reply["info"] = 0xFFFFFFF2, (49152 << 16) | socket.htons(3)
    reply["attrs"] = [["TCA_KIND", kind], ["TCA_CHAIN", 0]]
    if options is not None and kind == "bpf":
        reply["attrs"].insert(1, ["TCA_OPTIONS", {"attrs": options}])
    data = encoded(reply)
    light = light_codecs()["filter_dump"](data)
    full = tc_codecs()(data)
    light.decode()
    full.decode()
    assert _tc_filter(light) == _tc_filter(full)


def test_link_codec_declares_ifinfmsgs_numbers_names_and_types() -> None:
    """Every attribute linkcodec declares is ifinfmsg's own (same number, name and type),
    but for the two u8 it keeps as numbers where pyroute2 makes names of them, and the plain
    s32 and u32 pyroute2 wraps in classes of its own (xdp_fd, xdp_flags: same bytes)."""
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

    from pybpftool.netlink.linkcodec import LINK_ATTRS, LINKINFO_ATTRS, XDP_ATTRS

    as_numbers = {"state": "uint8", "xdp_mode": "uint8", "xdp_fd": "int32", "xdp_flags": "uint32"}
    for ours, theirs in (
        (LINK_ATTRS, ifinfmsg.nla_map),
        (XDP_ATTRS, ifinfmsg.xdp.nla_map),
        (LINKINFO_ATTRS, ifinfmsg.ifinfo.nla_map),
    ):
        for number, name, kind in ours:
            their_name, their_kind = theirs[number]
            assert (name, kind) == (their_name, as_numbers.get(their_kind, their_kind))


def link_reply() -> bytes:
    """link_reply: an RTM_NEWLINK encoded by pyroute2's ifinfmsg, every attribute linkcodec
    declares set (a vrf's linkinfo, XDP in multi mode), and two it does not."""
    reply = full_ifinfmsg()()
    reply["family"], reply["index"], reply["flags"], reply["ifi_type"] = 0, 7, 0x11043, 1
    reply["attrs"] = [
        ["IFLA_ADDRESS", "02:fc:00:00:00:01"],
        ["IFLA_BROADCAST", "ff:ff:ff:ff:ff:ff"],
        ["IFLA_IFNAME", "vrf-blue"],
        ["IFLA_MTU", 65575],
        ["IFLA_LINK", 3],  # not declared: linkattrs reads it from the bytes
        ["IFLA_QDISC", "noqueue"],
        ["IFLA_MASTER", 9],
        ["IFLA_TXQLEN", 1000],
        ["IFLA_OPERSTATE", "LOWERLAYERDOWN"],
        ["IFLA_LINKMODE", 1],
        [
            "IFLA_LINKINFO",
            {
                "attrs": [
                    ["IFLA_INFO_KIND", "vrf"],
                    ["IFLA_INFO_DATA", {"attrs": [["IFLA_VRF_TABLE", 1001]]}],
                    ["IFLA_INFO_SLAVE_KIND", "bond"],
                ]
            },
        ],
        [
            "IFLA_AF_SPEC",
            {"attrs": [["AF_INET6", {"attrs": [["IFLA_INET6_ADDR_GEN_MODE", 3]]}]]},
        ],
        ["IFLA_GROUP", 5],
        ["IFLA_PROMISCUITY", 2],
        ["IFLA_NUM_TX_QUEUES", 4],
        ["IFLA_NUM_RX_QUEUES", 8],
        ["IFLA_GSO_MAX_SEGS", 65535],
        ["IFLA_GSO_MAX_SIZE", 65536],
        [
            "IFLA_XDP",
            {
                "attrs": [
                    ["IFLA_XDP_ATTACHED", 4],
                    ["IFLA_XDP_DRV_PROG_ID", 11],
                    ["IFLA_XDP_SKB_PROG_ID", 12],
                    ["IFLA_XDP_HW_PROG_ID", 13],
                ]
            },
        ],
        ["IFLA_MIN_MTU", 68],
        ["IFLA_MAX_MTU", 65535],
        ["IFLA_ALT_IFNAME", "a-very-long-alternative-name"],
        ["IFLA_GRO_MAX_SIZE", 65536],
        ["IFLA_TSO_MAX_SIZE", 524280],
        ["IFLA_TSO_MAX_SEGS", 65000],
        ["IFLA_ALLMULTI", 1],
        ["IFLA_EVENT", 2],  # not declared either
    ]
    return encoded(reply)


def test_link_codec_reads_every_declared_attribute_as_ifinfmsg() -> None:
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

    from pybpftool.cli.ip.linkshow import OPER_STATES
    from pybpftool.netlink.linkcodec import LINK_ATTRS, link_codec

    data = link_reply()
    light, full = link_codec()(data), ifinfmsg(data)
    light.decode()
    full.decode()
    assert [light[f] for f in ("index", "flags", "ifi_type")] == [7, 0x11043, 1]
    nested = {"IFLA_LINKINFO", "IFLA_AF_SPEC", "IFLA_XDP"}
    for _number, name, _kind in LINK_ATTRS:
        if name not in nested:
            value = light.get_attr(name)
            assert value is not None, name
            if name == "IFLA_OPERSTATE":
                value = OPER_STATES[value]
            assert value == full.get_attr(name), name
    info, full_info = light.get_attr("IFLA_LINKINFO"), full.get_attr("IFLA_LINKINFO")
    for name in ("IFLA_INFO_KIND", "IFLA_INFO_SLAVE_KIND"):
        assert info.get_attr(name) == full_info.get_attr(name)
    table = info.get_attr("IFLA_INFO_DATA").get_attr("IFLA_VRF_TABLE")
    assert table == full_info.get_attr("IFLA_INFO_DATA").get_attr("IFLA_VRF_TABLE") == 1001
    inet6 = light.get_attr("IFLA_AF_SPEC").get_attr("AF_INET6")
    full_inet6 = full.get_attr("IFLA_AF_SPEC").get_attr("AF_INET6")
    mode = inet6.get_attr("IFLA_INET6_ADDR_GEN_MODE")
    assert mode == full_inet6.get_attr("IFLA_INET6_ADDR_GEN_MODE") == 3
    xdp, full_xdp = light.get_attr("IFLA_XDP"), full.get_attr("IFLA_XDP")
    assert (xdp.get_attr("IFLA_XDP_ATTACHED"), full_xdp.get_attr("IFLA_XDP_ATTACHED")) == (
        4,
        "xdpmulti",
    )
    for name in ("IFLA_XDP_DRV_PROG_ID", "IFLA_XDP_SKB_PROG_ID", "IFLA_XDP_HW_PROG_ID"):
        assert xdp.get_attr(name) == full_xdp.get_attr(name)


def test_a_link_reads_from_the_codec_as_ip_link_show_needs_it() -> None:
    from pybpftool.netlink.linkattrs import XdpState, link_record
    from pybpftool.netlink.linkcodec import link_codec

    msg = link_codec()(link_reply())
    msg.decode()
    link = link_record(msg)
    assert (link.ifindex, link.name, link.kind, link.addrgenmode) == (7, "vrf-blue", "vrf", 3)
    assert link.xdp == XdpState(4, 0, 12, 11, 13)
    assert (link.extras.iflink, link.extras.event) == (3, 2)  # undeclared, from the bytes
    assert link.extras.master == link.attrs["IFLA_MASTER"] == 9
    assert "UNKNOWN" not in link.attrs


def test_a_link_without_details_leaves_what_only_ip_d_prints() -> None:
    from pybpftool.netlink.linkattrs import DETAIL_ATTRS, link_record
    from pybpftool.netlink.linkcodec import link_codec

    msg = link_codec()(link_reply())
    msg.decode()
    full, plain = link_record(msg), link_record(msg, details=False)
    assert (plain.addrgenmode, full.addrgenmode) == (None, 3)
    assert plain.attrs == {k: v for k, v in full.attrs.items() if k not in DETAIL_ATTRS}
    assert full.attrs.keys() & DETAIL_ATTRS  # the reply carries some: the test can fail
    assert plain._replace(attrs={}, addrgenmode=None) == full._replace(attrs={}, addrgenmode=None)


def test_a_filtered_dump_request_equals_ifinfmsgs() -> None:
    """What `ip link show master M type K` asks the kernel (iplink_filter_req's attributes)."""
    from pybpftool.netlink.linkcodec import link_codec

    attrs = [
        ["IFLA_MASTER", 0xFFFFFFFF],
        ["IFLA_LINKINFO", {"attrs": [["IFLA_INFO_KIND", "bridge"]]}],
    ]
    assert link_request(link_codec(), 0, attrs) == link_request(full_ifinfmsg(), 0, attrs)


def test_a_kind_other_than_vrf_leaves_its_data_undecoded() -> None:
    from pybpftool.netlink.linkcodec import link_codec

    reply = full_ifinfmsg()()
    reply["family"], reply["index"] = 0, 2
    info = [["IFLA_INFO_KIND", "veth"], ["IFLA_INFO_DATA", {"attrs": []}]]
    reply["attrs"] = [["IFLA_IFNAME", "v0"], ["IFLA_LINKINFO", {"attrs": info}]]
    msg = link_codec()(encoded(reply))
    msg.decode()
    linkinfo = msg.get_attr("IFLA_LINKINFO")
    assert linkinfo.get_attr("IFLA_INFO_KIND") == "veth"
    assert linkinfo.get_attr("IFLA_INFO_DATA").get_attr("IFLA_VRF_TABLE") is None


@pytest.mark.parametrize(
    ("command", "flags"),
    [
        # what tc 6.1 sends (strace of `tc filter replace ... bpf ...`: NLM_F_REQUEST|
        # NLM_F_ACK|0x400); pyroute2's own table adds NLM_F_REPLACE to replace and change
        ("add-filter", uapi.NLM_F_ACK | 0x400 | 0x200),
        ("replace-filter", uapi.NLM_F_ACK | 0x400),
        ("change-filter", uapi.NLM_F_ACK),
        ("del-filter", uapi.NLM_F_ACK),
    ],
)
def test_filter_requests_carry_tcs_netlink_flags(command: str, flags: int) -> None:
    _msg, _type, sent = bpf_filter_message(command, 3, parent=0xFFFFFFF2, prio=1, fd=5)
    assert sent == flags


def capped_ack(error: int, attrs: bytes = b"") -> bytes:
    """capped_ack: an NLMSG_ERROR as the kernel sends it on a NETLINK_CAP_ACK socket: the
    error and the request's header, then the extended ack's attributes."""
    request = struct.pack("=IHHII", 84, uapi.RTM_NEWTFILTER, 0x405, 7, 0)
    flags = 0x100 | (0x200 if attrs else 0)  # NLM_F_CAPPED, NLM_F_ACK_TLVS
    body = struct.pack("=i", error) + request + attrs
    return struct.pack("=IHHII", 16 + len(body), uapi.NLMSG_ERROR, flags, 7, 99) + body


def test_acks_decode_their_error_and_extended_ack_text() -> None:
    ack = light_codecs()["ack"]
    text = b"Filter with specified priority/protocol not found\0"
    msg_attr = struct.pack("=HH", 4 + len(text), 1) + text + bytes(-len(text) % 4)
    offs_attr = struct.pack("=HHI", 8, 2, 20)
    for data, error, extack in (
        (capped_ack(0), 0, None),
        (capped_ack(-2, msg_attr + offs_attr), -2, text[:-1].decode()),
    ):
        msg = ack(data, offset=0, length=len(data))
        msg.decode()
        assert (msg["error"], msg.get_attr("NLMSGERR_ATTR_MSG")) == (error, extack)
