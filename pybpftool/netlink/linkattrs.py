"""linkattrs: what an RTM_NEWLINK message says of a link, for `ip link show`, `ip vrf` and
the XDP attach: its Link record (link_record; XdpState for IFLA_XDP), from pyroute2's decode
of the message (linkcodec) and, for the attributes pyroute2's ifinfmsg does not decode
completely, from the message's own bytes (linux/if_link.h):

- IFLA_STATS64 (struct rtnl_link_stats64, 25 counters on current kernels; pyroute2 knows 23)
  or, failing that, IFLA_STATS (struct rtnl_link_stats, 32-bit counters);
- IFLA_LINK and IFLA_LINK_NETNSID (the peer's index, and in which namespace it lives);
- IFLA_PROP_LIST's IFLA_ALT_IFNAME entries, IFLA_PERM_ADDRESS, IFLA_IFALIAS, IFLA_MASTER,
  IFLA_CARRIER_CHANGES and IFLA_PROTO_DOWN.

Attributes are read as the kernel sent them; a later duplicate wins, as in iproute2's
parse_rtattr().
"""

# Annotations are evaluated here (no `from __future__ import annotations`): a NamedTuple
# field given as a string costs typing a compile() when the class is made.

import struct
from typing import Any, NamedTuple

from pybpftool.netlink.attrs import message_bytes

IFLA_ADDRESS, IFLA_LINK, IFLA_MASTER, IFLA_STATS = 1, 5, 10, 7
IFLA_IFALIAS, IFLA_STATS64, IFLA_CARRIER_CHANGES = 20, 23, 35
IFLA_LINK_NETNSID, IFLA_PROTO_DOWN, IFLA_EVENT = 37, 39, 44
IFLA_PROP_LIST, IFLA_ALT_IFNAME, IFLA_PERM_ADDRESS = 52, 53, 54
NLA_TYPE_MASK = 0x3FFF  # without NLA_F_NESTED / NLA_F_NET_BYTEORDER

# struct rtnl_link_stats64 in field order (linux/if_link.h, 6.1); a shorter attribute from an
# older kernel leaves the fields after its end at zero, as get_rtnl_link_stats_rta() does.
STATS_FIELDS = (
    "rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_errors", "tx_errors",
    "rx_dropped", "tx_dropped", "multicast", "collisions", "rx_length_errors",
    "rx_over_errors", "rx_crc_errors", "rx_frame_errors", "rx_fifo_errors",
    "rx_missed_errors", "tx_aborted_errors", "tx_carrier_errors", "tx_fifo_errors",
    "tx_heartbeat_errors", "tx_window_errors", "rx_compressed", "tx_compressed",
    "rx_nohandler", "rx_otherhost_dropped",
)  # fmt: skip


class LinkStats(NamedTuple):
    """LinkStats: a link's counters and whether they came as IFLA_STATS64 ("stats64") or as
    the 32-bit IFLA_STATS ("stats"), the JSON key iproute2 prints them under."""

    counters: dict[str, int]
    key: str


class LinkExtras(NamedTuple):
    """LinkExtras: what linkattrs decodes of one link (None or empty where absent)."""

    iflink: int | None = None  # IFLA_LINK (0: the kernel says there is none)
    link_netnsid: int | None = None
    master: int | None = None
    stats: LinkStats | None = None
    carrier_changes: int | None = None
    perm_address: bytes | None = None
    address: bytes | None = None
    altnames: tuple[str, ...] = ()
    ifalias: str | None = None
    proto_down: int | None = None
    event: int | None = None


# What only `ip link show -d` prints of a link (print_linkinfo's details): a listing without
# -d leaves these attributes of the dump undecoded (pyroute2 decodes a value when it is read).
DETAIL_ATTRS = frozenset(
    {
        "IFLA_PROMISCUITY",
        "IFLA_ALLMULTI",
        "IFLA_MIN_MTU",
        "IFLA_MAX_MTU",
        "IFLA_NUM_TX_QUEUES",
        "IFLA_NUM_RX_QUEUES",
        "IFLA_GSO_MAX_SIZE",
        "IFLA_GSO_MAX_SEGS",
        "IFLA_TSO_MAX_SIZE",
        "IFLA_TSO_MAX_SEGS",
        "IFLA_GRO_MAX_SIZE",
        "IFLA_AF_SPEC",  # its IPv6 addrgenmode
    }
)


class XdpState(NamedTuple):
    """XdpState: IFLA_XDP of one link: attach mode (1 drv, 2 skb, 3 hw, 4 multi) and ids."""

    mode: int
    prog_id: int
    skb_prog_id: int = 0
    drv_prog_id: int = 0
    hw_prog_id: int = 0


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
    extras: LinkExtras = LinkExtras()  # stats, peer namespace, altnames ... (linkattrs)


def link_record(msg: Any, details: bool = True) -> Link:
    """link_record: the Link of RTM_NEWLINK message `msg`, decoded by pyroute2 (link_codec);
    without `details`, none of DETAIL_ATTRS."""
    attrs = {
        slot.name: slot.value
        for slot in msg["attrs"]
        if slot.name != "UNKNOWN" and (details or slot.name not in DETAIL_ATTRS)
    }
    info = msg.get("IFLA_LINKINFO")
    kind = info.get("IFLA_INFO_KIND") if info is not None else None
    mode = None
    spec = msg.get("IFLA_AF_SPEC") if details else None
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
        xdp=xdp_state_of(msg),
        kind=kind,
        addrgenmode=mode,
        extras=decode_extras(message_bytes(msg)),
    )


def xdp_state_of(link: Any) -> XdpState | None:
    """xdp_state_of: IFLA_XDP of RTM_NEWLINK message `link`, None when no program is attached."""
    xdp = link.get("IFLA_XDP")
    if xdp is None:
        return None
    mode = int(xdp.get("IFLA_XDP_ATTACHED") or 0)  # XDP_ATTACHED_*: 0 none, 1 drv, ...
    if not mode:
        return None
    return XdpState(
        mode,
        int(xdp.get("IFLA_XDP_PROG_ID") or 0),
        int(xdp.get("IFLA_XDP_SKB_PROG_ID") or 0),
        int(xdp.get("IFLA_XDP_DRV_PROG_ID") or 0),
        int(xdp.get("IFLA_XDP_HW_PROG_ID") or 0),
    )


def attributes(payload: bytes) -> dict[int, bytes]:
    """attributes: type -> payload of the netlink attributes in `payload` (last one wins)."""
    found: dict[int, bytes] = {}
    offset = 0
    while offset + 4 <= len(payload):
        length, kind = struct.unpack_from("=HH", payload, offset)
        if length < 4 or offset + length > len(payload):
            break
        found[kind & NLA_TYPE_MASK] = payload[offset + 4 : offset + length]
        offset += (length + 3) & ~3
    return found


def _all(payload: bytes, wanted: int) -> list[bytes]:
    out = []
    offset = 0
    while offset + 4 <= len(payload):
        length, kind = struct.unpack_from("=HH", payload, offset)
        if length < 4 or offset + length > len(payload):
            break
        if kind & NLA_TYPE_MASK == wanted:
            out.append(payload[offset + 4 : offset + length])
        offset += (length + 3) & ~3
    return out


def _u32(raw: bytes | None, signed: bool = False) -> int | None:
    if raw is None or len(raw) < 4:
        return None
    return struct.unpack_from("=i" if signed else "=I", raw)[0]  # type: ignore[no-any-return]


def _string(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _stats(attrs: dict[int, bytes]) -> LinkStats | None:
    raw = attrs.get(IFLA_STATS64)
    if raw is not None:
        values = struct.unpack_from(f"={len(raw) // 8}Q", raw)
        key = "stats64"
    else:
        raw = attrs.get(IFLA_STATS)
        if raw is None:
            return None
        values = struct.unpack_from(f"={len(raw) // 4}I", raw)
        key = "stats"
    counters = dict.fromkeys(STATS_FIELDS, 0)
    counters.update(zip(STATS_FIELDS, values, strict=False))
    return LinkStats(counters, key)


def decode_extras(message: bytes) -> LinkExtras:
    """decode_extras: LinkExtras of one RTM_NEWLINK message (nlmsghdr included)."""
    attrs = attributes(message[32:])  # after struct nlmsghdr (16) and struct ifinfomsg (16)
    props = attrs.get(IFLA_PROP_LIST)
    proto_down = attrs.get(IFLA_PROTO_DOWN)
    alias = attrs.get(IFLA_IFALIAS)
    return LinkExtras(
        iflink=_u32(attrs.get(IFLA_LINK)),
        link_netnsid=_u32(attrs.get(IFLA_LINK_NETNSID), signed=True),
        master=_u32(attrs.get(IFLA_MASTER)),
        stats=_stats(attrs),
        carrier_changes=_u32(attrs.get(IFLA_CARRIER_CHANGES)),
        perm_address=attrs.get(IFLA_PERM_ADDRESS),
        address=attrs.get(IFLA_ADDRESS),
        altnames=tuple(_string(a) for a in _all(props, IFLA_ALT_IFNAME)) if props else (),
        ifalias=_string(alias) if alias is not None else None,
        proto_down=proto_down[0] if proto_down else None,
        event=_u32(attrs.get(IFLA_EVENT)),
    )


# --- network namespace ids (RTM_GETNSID), for `link-netns NAME` --------------------------

RTM_NEWNSID, RTM_GETNSID = 88, 90
NETNSA_NSID, NETNSA_FD = 1, 3


def nsid_request(fd: int, seq: int) -> bytes:
    """nsid_request: RTM_GETNSID for the namespace open at `fd` (struct rtgenmsg, NETNSA_FD)."""
    body = struct.pack("=B3x", 0) + struct.pack("=HHI", 8, NETNSA_FD, fd)
    return struct.pack("=IHHII", 16 + len(body), RTM_GETNSID, 0x1, seq, 0) + body


NLM_F_CAPPED, NLM_F_ACK_TLVS, NLMSGERR_ATTR_MSG = 0x100, 0x200, 1


def error_extack(message: bytes) -> tuple[int, str | None]:
    """error_extack: (errno, the kernel's extack text or None) of an NLMSG_ERROR message:
    struct nlmsgerr, the request it answers (its header only when NLM_F_CAPPED), then the
    NLMSGERR_ATTR_* attributes when NLM_F_ACK_TLVS."""
    flags = struct.unpack_from("=H", message, 6)[0]
    code = -struct.unpack_from("=i", message, 16)[0]
    if not flags & NLM_F_ACK_TLVS:
        return code, None
    request = 16 if flags & NLM_F_CAPPED else struct.unpack_from("=I", message, 20)[0]
    text = attributes(message[20 + ((request + 3) & ~3) :]).get(NLMSGERR_ATTR_MSG)
    return code, _string(text) if text else None


def nsid_reply(message: bytes) -> int | None:
    """nsid_reply: NETNSA_NSID of an RTM_NEWNSID reply (None when not assigned)."""
    nsid = _u32(attributes(message[20:]).get(NETNSA_NSID), signed=True)
    return nsid if nsid is not None and nsid >= 0 else None
