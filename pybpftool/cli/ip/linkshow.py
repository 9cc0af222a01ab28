"""linkshow: `ip link show` output as ip 6.1 prints it (ip/ipaddress.c print_linkinfo and
print_linkinfo_brief, lib/utils.c print_name_and_link).

Text: every printed token carries its trailing blank exactly where iproute2's format strings
put one; the line breaks are `\\` with -oneline; -d adds the details, -s the counters, an XDP
program its `prog/xdp` line, a peer in another namespace `link-netns NAME` (or
`link-netnsid N`). -br prints one short line per link. Colours are ip's (cli.common.color).
JSON keys come in iproute2's order, through its json_writer layout. The JSON writer and the
counters' printer are imported where -j and -s need them: a plain listing loads neither.
"""

# Annotations are evaluated here (no `from __future__ import annotations`): a NamedTuple
# field given as a string costs typing a compile() when the class is made.

from typing import Any, NamedTuple

from pybpftool.cli.common.color import IFNAME, MAC, OPER_DOWN, OPER_UP, Painter
from pybpftool.cli.common.escape import terminal_safe
from pybpftool.cli.common.proginfo import prog_json, prog_text
from pybpftool.cli.ip.linknames import LinkNames, link_type_name
from pybpftool.netlink import Link

IFF = (  # iproute2 print_link_flags order
    ("LOOPBACK", 0x8), ("BROADCAST", 0x2), ("POINTOPOINT", 0x10), ("MULTICAST", 0x1000),
    ("NOARP", 0x80), ("ALLMULTI", 0x200), ("PROMISC", 0x100), ("MASTER", 0x400),
    ("SLAVE", 0x800), ("DEBUG", 0x4), ("DYNAMIC", 0x8000), ("AUTOMEDIA", 0x4000),
    ("PORTSEL", 0x2000), ("NOTRAILERS", 0x20), ("UP", 0x1), ("LOWER_UP", 0x10000),
    ("DORMANT", 0x20000), ("ECHO", 0x40000),
)  # fmt: skip
IFF_UP, IFF_POINTOPOINT, IFF_RUNNING = 0x1, 0x10, 0x40
OPER_STATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP")
OPER_COLOR = {"UP": OPER_UP, "DOWN": OPER_DOWN}
LINKMODE = ("DEFAULT", "DORMANT")
ADDRGENMODE = {0: "eui64", 1: "none", 2: "stable_secret", 3: "random"}
XDP_WORD = {1: "xdp", 2: "xdpgeneric", 3: "xdpoffload", 4: "xdpmulti"}
MULTI_LINES = (
    ("skb_prog_id", "prog/xdpgeneric"),
    ("drv_prog_id", "prog/xdpdrv"),
    ("hw_prog_id", "prog/xdpoffload"),
)
LINK_EVENTS = (
    "NONE",
    "REBOOT",
    "FEATURE CHANGE",
    "BONDING FAILOVER",
    "NOTIFY PEERS",
    "RESEND IGMP",
    "BONDING OPTION",
)


class ShowOptions(NamedTuple):
    """ShowOptions: what the global options ask of the listing."""

    details: int = 0
    stats: int = 0
    json: bool = False
    pretty: bool = False
    brief: bool = False
    oneline: bool = False
    numeric: bool = False
    human: bool = False
    iec: bool = False

    @property
    def nl(self) -> str:
        return "\\" if self.oneline else "\n"


def flag_words(flags: int, peer_down: bool) -> list[str]:
    words = []
    if flags & IFF_UP and not flags & IFF_RUNNING:
        words.append("NO-CARRIER")
    flags &= ~IFF_RUNNING
    for name, bit in IFF:
        if flags & bit:
            flags &= ~bit
            words.append(name)
    if flags:
        words.append(f"{flags:x}")
    if peer_down:
        words.append("M-DOWN")
    return words


def _flags_text(words: list[str]) -> str:
    text = ",".join(words[:-1] if words and words[-1] == "M-DOWN" else words)
    if words and words[-1] == "M-DOWN":
        text += ",M-DOWN"  # print_link_flags prints it with its own leading comma
    return f"<{text}> "


def render(links: list[Link | None], names: LinkNames, opts: ShowOptions, paint: Painter) -> str:
    """render: the listing of `links`; `names` resolves peers, masters and namespaces.

    None stands for a link ip fetched and print_linkinfo() then left out (the listing's own
    filters): ip has opened its JSON object already, so JSON shows `{}` where text shows
    nothing."""
    if opts.json:
        from pybpftool.cli.common import jsonw

        to_json = _brief_json if opts.brief else _json
        doc = [{} if link is None else to_json(link, names, opts) for link in links]
        return jsonw.dumps(doc, pretty=opts.pretty) + "\n"
    shown = [link for link in links if link is not None]
    if opts.brief:
        return "".join(_brief_text(link, names, paint) for link in shown)
    return "".join(_text(link, names, opts, paint) for link in shown)


def _peer(link: Link, names: LinkNames) -> tuple[str | None, int | None, bool, bool]:
    """_peer: print_name_and_link's view of IFLA_LINK: (name for `@`, index for JSON
    link_index, whether JSON says "link": null, peer down)."""
    iflink = link.extras.iflink
    if iflink is None:
        return None, None, False, False
    if iflink == 0:
        return "NONE", None, True, False
    if link.extras.link_netnsid is not None:
        return f"if{iflink}", iflink, False, False
    peer = names.by_index(iflink)
    if peer is None:
        return f"if{iflink}", None, False, False
    return peer.name, None, False, not peer.flags & IFF_UP


def _name(link: Link, peer: str | None) -> str:
    return terminal_safe(link.name + (f"@{peer}" if peer else ""))


def _operstate_text(state: str | int, paint: Painter, brief: bool) -> str:
    if isinstance(state, int):
        return f"state {state:#x}"
    if brief:
        return paint.paint(OPER_COLOR.get(state), f"{state:<14} ")
    return "state " + paint.paint(OPER_COLOR.get(state), f"{state} ")


def _operstate(link: Link) -> str | int | None:
    """_operstate: IFLA_OPERSTATE's name, or the number when ip has no name for it."""
    value = link.attrs.get("IFLA_OPERSTATE")
    if value is None:
        return None
    return OPER_STATES[value] if value < len(OPER_STATES) else int(value)


def _address(link: Link, which: str) -> str | None:
    value = link.attrs.get(which)
    return None if value is None else str(value)


def _brief_text(link: Link, names: LinkNames, paint: Painter) -> str:
    peer, _index, _null, peer_down = _peer(link, names)
    out = paint.paint(IFNAME, f"{_name(link, peer):<16} ")
    state = _operstate(link)
    if state is not None:
        out += _operstate_text(state, paint, brief=True)
    address = _address(link, "IFLA_ADDRESS")
    if address is not None:
        out += paint.paint(MAC, f"{address} ")
    return out + _flags_text(flag_words(link.flags, peer_down)) + "\n"


def _text(link: Link, names: LinkNames, opts: ShowOptions, paint: Painter) -> str:
    a, x, nl = link.attrs, link.extras, opts.nl
    peer, _index, _null, peer_down = _peer(link, names)
    out = f"{link.ifindex}: " + paint.paint(IFNAME, _name(link, peer) + ": ")
    out += _flags_text(flag_words(link.flags, peer_down))
    if "IFLA_MTU" in a:
        out += f"mtu {a['IFLA_MTU']} "
    if link.xdp is not None:
        out += f"{XDP_WORD.get(link.xdp.mode, f'xdp[{link.xdp.mode}]')} "
    if "IFLA_QDISC" in a:
        out += f"qdisc {terminal_safe(a['IFLA_QDISC'])} "
    if x.master is not None:
        out += f"master {terminal_safe(names.name_of(x.master))} "
    state = _operstate(link)
    if state is not None:
        out += _operstate_text(state, paint, brief=False)
    if "IFLA_LINKMODE" in a:
        mode = a["IFLA_LINKMODE"]
        out += f"mode {LINKMODE[mode]} " if mode < len(LINKMODE) else f"mode {mode} "
    if "IFLA_GROUP" in a:
        out += f"group {names.group_name(a['IFLA_GROUP'])} "
    if a.get("IFLA_TXQLEN"):
        out += f"qlen {a['IFLA_TXQLEN']}"
    if x.event is not None:
        out += _event_text(x.event)
    out += nl + f"    link/{link_type_name(link.ifi_type, opts.numeric)} "
    address = _address(link, "IFLA_ADDRESS")
    if address is not None:
        out += paint.paint(MAC, address)
    broadcast = _address(link, "IFLA_BROADCAST")
    if broadcast is not None:
        out += " peer " if link.flags & IFF_POINTOPOINT else " brd "
        out += paint.paint(MAC, broadcast)
    if x.perm_address is not None and x.perm_address != x.address:
        out += " permaddr " + paint.paint(MAC, ":".join(f"{b:02x}" for b in x.perm_address))
    if x.link_netnsid is not None:
        out += _netns_text(x.link_netnsid, names)
    if x.proto_down:
        out += " protodown on "
    if opts.details:
        out += _details_text(link, nl)
    if x.ifalias is not None:
        out += f"{nl}    alias {terminal_safe(x.ifalias)}"
    if link.xdp is not None:
        out += _xdp_lines(link, names, opts)
    if opts.stats and x.stats is not None:
        from pybpftool.cli.ip.linkstats import stats_text

        out += nl + stats_text(x.stats, x.carrier_changes, opts.stats, opts.human, opts.iec, nl)
    for alt in x.altnames:
        out += f"{nl}    altname {terminal_safe(alt)}"
    return out + "\n"


def _event_text(event: int) -> str:
    if event >= len(LINK_EVENTS):
        return f"event {event} "
    return f"event {LINK_EVENTS[event]} " if event else ""


def _netns_text(nsid: int, names: LinkNames) -> str:
    if nsid < 0:
        return " link-netnsid unknown"
    name = names.netns_name(nsid)
    return f" link-netns {terminal_safe(name)}" if name is not None else f" link-netnsid {nsid}"


def _details_text(link: Link, nl: str) -> str:
    a = link.attrs
    out = ""
    for key, word in (
        ("IFLA_PROMISCUITY", " promiscuity"),
        ("IFLA_ALLMULTI", " allmulti"),
        ("IFLA_MIN_MTU", "minmtu"),
        ("IFLA_MAX_MTU", "maxmtu"),
    ):
        if key in a:
            out += f"{word} {a[key]} "
    if link.kind:
        out += f"{nl}    {terminal_safe(link.kind)} "
    if link.addrgenmode is not None:
        mode = ADDRGENMODE.get(link.addrgenmode, f"{link.addrgenmode:#04x}")
        out += f"addrgenmode {mode} "
    for key, word, _json_key in _QUEUE_FIELDS:
        if key in a:
            out += f"{word} {a[key]} "
    return out


_QUEUE_FIELDS = (
    ("IFLA_NUM_TX_QUEUES", "numtxqueues", "num_tx_queues"),
    ("IFLA_NUM_RX_QUEUES", "numrxqueues", "num_rx_queues"),
    ("IFLA_GSO_MAX_SIZE", "gso_max_size", "gso_max_size"),
    ("IFLA_GSO_MAX_SEGS", "gso_max_segs", "gso_max_segs"),
    ("IFLA_TSO_MAX_SIZE", "tso_max_size", "tso_max_size"),
    ("IFLA_TSO_MAX_SEGS", "tso_max_segs", "tso_max_segs"),
    ("IFLA_GRO_MAX_SIZE", "gro_max_size", "gro_max_size"),
)


def _xdp_lines(link: Link, names: LinkNames, opts: ShowOptions) -> str:
    xdp = link.xdp
    assert xdp is not None
    ids = [(xdp.prog_id, "prog/xdp")] if xdp.prog_id else []
    if xdp.mode == 4:
        ids += [(getattr(xdp, key), word) for key, word in MULTI_LINES if getattr(xdp, key)]
    return "".join(
        f"{opts.nl}    {word} {prog_text(pid, names.prog(pid), opts.details)}" for pid, word in ids
    )


def _brief_json(link: Link, names: LinkNames, opts: ShowOptions) -> dict[str, Any]:
    peer, index, null, peer_down = _peer(link, names)
    out: dict[str, Any] = {}
    _json_link(out, peer, index, null)
    out["ifname"] = link.name
    state = _operstate(link)
    if state is not None:
        out["operstate_index" if isinstance(state, int) else "operstate"] = state
    address = _address(link, "IFLA_ADDRESS")
    if address is not None:
        out["address"] = address
    out["flags"] = flag_words(link.flags, peer_down)
    return out


def _json_link(out: dict[str, Any], peer: str | None, index: int | None, null: bool) -> None:
    if index is not None:
        out["link_index"] = index
    elif null:
        out["link"] = None
    elif peer is not None:
        out["link"] = peer


def _json(link: Link, names: LinkNames, opts: ShowOptions) -> dict[str, Any]:
    a, x = link.attrs, link.extras
    peer, index, null, peer_down = _peer(link, names)
    out: dict[str, Any] = {"ifindex": link.ifindex}
    _json_link(out, peer, index, null)
    out["ifname"] = link.name
    out["flags"] = flag_words(link.flags, peer_down)
    if "IFLA_MTU" in a:
        out["mtu"] = a["IFLA_MTU"]
    if link.xdp is not None:
        out["xdp"] = _xdp_json(link, names, opts)
    if "IFLA_QDISC" in a:
        out["qdisc"] = a["IFLA_QDISC"]
    if x.master is not None:
        out["master"] = names.name_of(x.master)
    state = _operstate(link)
    if state is not None:
        out["operstate_index" if isinstance(state, int) else "operstate"] = state
    if "IFLA_LINKMODE" in a:
        mode = a["IFLA_LINKMODE"]
        if mode < len(LINKMODE):
            out["linkmode"] = LINKMODE[mode]
        else:
            out["linkmode_index"] = mode
    if "IFLA_GROUP" in a:
        out["group"] = names.group_name(a["IFLA_GROUP"])
    if a.get("IFLA_TXQLEN"):
        out["txqlen"] = a["IFLA_TXQLEN"]
    if x.event:
        out["event"] = LINK_EVENTS[x.event] if x.event < len(LINK_EVENTS) else x.event
    out["link_type"] = link_type_name(link.ifi_type, opts.numeric)
    _json_addresses(out, link)
    if x.link_netnsid is not None:
        out["link_netnsid"] = x.link_netnsid
    if x.proto_down:
        out["proto_down"] = True
    if opts.details:
        _details_json(out, link)
    if x.ifalias is not None:
        out["ifalias"] = x.ifalias
    if opts.stats and x.stats is not None:
        from pybpftool.cli.ip.linkstats import stats_json

        out[x.stats.key] = stats_json(x.stats, x.carrier_changes, opts.stats)
    if x.altnames:
        out["altnames"] = list(x.altnames)
    return out


def _json_addresses(out: dict[str, Any], link: Link) -> None:
    x = link.extras
    address = _address(link, "IFLA_ADDRESS")
    if address is not None:
        out["address"] = address
    broadcast = _address(link, "IFLA_BROADCAST")
    if broadcast is not None:
        if link.flags & IFF_POINTOPOINT:
            out["link_pointtopoint"] = True
        out["broadcast"] = broadcast
    if x.perm_address is not None and x.perm_address != x.address:
        out["permaddr"] = ":".join(f"{b:02x}" for b in x.perm_address)


def _details_json(out: dict[str, Any], link: Link) -> None:
    a = link.attrs
    for key, name in (
        ("IFLA_PROMISCUITY", "promiscuity"),
        ("IFLA_ALLMULTI", "allmulti"),
        ("IFLA_MIN_MTU", "min_mtu"),
        ("IFLA_MAX_MTU", "max_mtu"),
    ):
        if key in a:
            out[name] = a[key]
    if link.kind:
        out["linkinfo"] = {"info_kind": link.kind}
    if link.addrgenmode is not None:
        mode = ADDRGENMODE.get(link.addrgenmode, f"{link.addrgenmode:#04x}")
        out["inet6_addr_gen_mode"] = mode
    for key, _word, name in _QUEUE_FIELDS:
        if key in a:
            out[name] = a[key]


def _xdp_json(link: Link, names: LinkNames, opts: ShowOptions) -> dict[str, Any]:
    xdp = link.xdp
    assert xdp is not None
    out: dict[str, Any] = {"mode": xdp.mode}
    if xdp.prog_id:
        out["prog"] = prog_json(xdp.prog_id, names.prog(xdp.prog_id), opts.details)
    attached = []
    for key, mode in (("skb_prog_id", 2), ("drv_prog_id", 1), ("hw_prog_id", 3)):
        pid = getattr(xdp, key)
        if pid:
            attached.append({"mode": mode, "prog": prog_json(pid, names.prog(pid), opts.details)})
    if not attached and xdp.prog_id:  # older kernels: IFLA_XDP_PROG_ID alone
        attached.append({"mode": xdp.mode, "prog": out["prog"]})
    out["attached"] = attached
    return out
