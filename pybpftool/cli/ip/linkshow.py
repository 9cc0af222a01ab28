"""linkshow: `pyip link show [dev DEV]` as ip 6.1 prints it (ip/ipaddress.c print_linkinfo).

Text: every printed token carries its trailing blank exactly where iproute2's format strings
put one; -d adds the details (a kind line for links with IFLA_LINKINFO); an XDP program adds
its `prog/xdp` line. JSON keys come in iproute2's order, through its json_writer layout.
"""

from __future__ import annotations

from typing import Any

from pybpftool.cli.common import jsonw
from pybpftool.cli.common.escape import terminal_safe
from pybpftool.cli.common.grammar import GlobalOptions
from pybpftool.cli.common.proginfo import prog_infos, prog_json, prog_text
from pybpftool.netlink import Link

IFF = (  # iproute2 print_link_flags order
    ("LOOPBACK", 0x8),
    ("BROADCAST", 0x2),
    ("POINTOPOINT", 0x10),
    ("MULTICAST", 0x1000),
    ("NOARP", 0x80),
    ("ALLMULTI", 0x200),
    ("PROMISC", 0x100),
    ("MASTER", 0x400),
    ("SLAVE", 0x800),
    ("DEBUG", 0x4),
    ("DYNAMIC", 0x8000),
    ("AUTOMEDIA", 0x4000),
    ("PORTSEL", 0x2000),
    ("NOTRAILERS", 0x20),
    ("UP", 0x1),
    ("LOWER_UP", 0x10000),
    ("DORMANT", 0x20000),
    ("ECHO", 0x40000),
)
IFF_UP, IFF_RUNNING = 0x1, 0x40
ARPHRD = {1: "ether", 772: "loopback", 65534: "none", 768: "ipip", 776: "sit", 778: "gre"}
LINKMODE = {0: "DEFAULT", 1: "DORMANT", 2: "TESTING"}
ADDRGENMODE = {0: "eui64", 1: "none", 2: "stable_secret", 3: "random"}
XDP_WORD = {1: "xdp", 2: "xdpgeneric", 3: "xdpoffload", 4: "xdpmulti"}
XDP_LINE = {1: "prog/xdp", 2: "prog/xdp", 3: "prog/xdp", 4: "prog/xdp"}
MULTI_LINES = (
    ("skb_prog_id", "prog/xdpgeneric"),
    ("drv_prog_id", "prog/xdpdrv"),
    ("hw_prog_id", "prog/xdpoffload"),
)


def flag_words(link: Link, peer_down: bool) -> list[str]:
    flags = link.flags
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


def render(links: list[Link], everything: list[Link], opts: GlobalOptions) -> str:
    """render: the output of `ip link show` for `links`; `everything` names their peers."""
    by_index = {link.ifindex: link for link in everything}
    infos = prog_infos(
        pid
        for link in links
        if link.xdp is not None
        for pid in (
            link.xdp.prog_id,
            link.xdp.skb_prog_id,
            link.xdp.drv_prog_id,
            link.xdp.hw_prog_id,
        )
        if pid
    )
    if opts.json:
        doc = [_json(link, by_index, infos, opts) for link in links]
        return jsonw.dumps(doc, pretty=opts.pretty) + "\n"
    return "".join(_text(link, by_index, infos, opts) for link in links)


def _peer(link: Link, by_index: dict[int, Link]) -> tuple[str | None, bool, bool]:
    """_peer: (name or None, in another netns, peer down) of IFLA_LINK."""
    peer = link.attrs.get("IFLA_LINK")
    if peer is None or peer == link.ifindex:
        return None, False, False
    if "IFLA_LINK_NETNSID" in link.attrs:
        return f"if{peer}", True, False
    other = by_index.get(peer)
    if other is None:
        return f"if{peer}", False, False
    return other.name, False, not other.flags & IFF_UP


def _text(link: Link, by_index: dict[int, Link], infos: dict[int, Any], opts: GlobalOptions) -> str:
    a = link.attrs
    peer, _other_ns, peer_down = _peer(link, by_index)
    name = terminal_safe(link.name) + (f"@{terminal_safe(peer)}" if peer else "")
    out = f"{link.ifindex}: {name}: "
    out += "<" + ",".join(flag_words(link, peer_down)) + "> "
    out += f"mtu {a.get('IFLA_MTU', 0)} "
    if link.xdp is not None:
        out += f"{XDP_WORD.get(link.xdp.mode, f'xdp[{link.xdp.mode}]')} "
    if "IFLA_QDISC" in a:
        out += f"qdisc {a['IFLA_QDISC']} "
    out += f"state {a.get('IFLA_OPERSTATE', 'UNKNOWN')} "
    out += f"mode {LINKMODE.get(a.get('IFLA_LINKMODE', 0), 'DEFAULT')} "
    out += f"group {_group(a.get('IFLA_GROUP', 0))} "
    out += f"qlen {a.get('IFLA_TXQLEN', 0)}"
    out += f"\n    link/{ARPHRD.get(link.ifi_type, f'[{link.ifi_type}]')} "
    if "IFLA_ADDRESS" in a:
        out += a["IFLA_ADDRESS"]
        if "IFLA_BROADCAST" in a:
            out += f" brd {a['IFLA_BROADCAST']}"
    if opts.details:
        out += _details_text(link)
    if link.xdp is not None:
        out += _xdp_lines(link, infos, opts)
    return out + "\n"


def _group(group: int) -> str:
    return "default" if group == 0 else str(group)


def _details_text(link: Link) -> str:
    a = link.attrs
    out = f" promiscuity {a.get('IFLA_PROMISCUITY', 0)}  allmulti {a.get('IFLA_ALLMULTI', 0)} "
    out += f"minmtu {a.get('IFLA_MIN_MTU', 0)} maxmtu {a.get('IFLA_MAX_MTU', 0)} "
    if link.kind:
        out += f"\n    {link.kind} "
    if link.addrgenmode is not None:
        out += f"addrgenmode {ADDRGENMODE.get(link.addrgenmode, link.addrgenmode)} "
    for key, word in _QUEUE_FIELDS:
        if key in a:
            out += f"{word} {a[key]} "
    return out


_QUEUE_FIELDS = (
    ("IFLA_NUM_TX_QUEUES", "numtxqueues"),
    ("IFLA_NUM_RX_QUEUES", "numrxqueues"),
    ("IFLA_GSO_MAX_SIZE", "gso_max_size"),
    ("IFLA_GSO_MAX_SEGS", "gso_max_segs"),
    ("IFLA_TSO_MAX_SIZE", "tso_max_size"),
    ("IFLA_TSO_MAX_SEGS", "tso_max_segs"),
    ("IFLA_GRO_MAX_SIZE", "gro_max_size"),
)
_QUEUE_JSON = (
    ("IFLA_NUM_TX_QUEUES", "num_tx_queues"),
    ("IFLA_NUM_RX_QUEUES", "num_rx_queues"),
    ("IFLA_GSO_MAX_SIZE", "gso_max_size"),
    ("IFLA_GSO_MAX_SEGS", "gso_max_segs"),
    ("IFLA_TSO_MAX_SIZE", "tso_max_size"),
    ("IFLA_TSO_MAX_SEGS", "tso_max_segs"),
    ("IFLA_GRO_MAX_SIZE", "gro_max_size"),
)


def _xdp_lines(link: Link, infos: dict[int, Any], opts: GlobalOptions) -> str:
    xdp = link.xdp
    assert xdp is not None
    if xdp.mode == 4:
        ids = [(getattr(xdp, key), word) for key, word in MULTI_LINES if getattr(xdp, key)]
    else:
        ids = [(xdp.prog_id, "prog/xdp")]
    return "".join(
        f"\n    {word} {prog_text(pid, infos.get(pid), opts.details)}" for pid, word in ids
    )


def _json(
    link: Link, by_index: dict[int, Link], infos: dict[int, Any], opts: GlobalOptions
) -> dict[str, Any]:
    a = link.attrs
    peer, other_ns, peer_down = _peer(link, by_index)
    out: dict[str, Any] = {"ifindex": link.ifindex}
    if peer is not None:
        if other_ns:
            out["link_index"] = a["IFLA_LINK"]
        else:
            out["link"] = peer
    out["ifname"] = link.name
    out["flags"] = flag_words(link, peer_down)
    out["mtu"] = a.get("IFLA_MTU", 0)
    if link.xdp is not None:
        out["xdp"] = _xdp_json(link, infos, opts)
    if "IFLA_QDISC" in a:
        out["qdisc"] = a["IFLA_QDISC"]
    out["operstate"] = a.get("IFLA_OPERSTATE", "UNKNOWN")
    out["linkmode"] = LINKMODE.get(a.get("IFLA_LINKMODE", 0), "DEFAULT")
    out["group"] = _group(a.get("IFLA_GROUP", 0))
    out["txqlen"] = a.get("IFLA_TXQLEN", 0)
    out["link_type"] = ARPHRD.get(link.ifi_type, f"[{link.ifi_type}]")
    if "IFLA_ADDRESS" in a:
        out["address"] = a["IFLA_ADDRESS"]
        if "IFLA_BROADCAST" in a:
            out["broadcast"] = a["IFLA_BROADCAST"]
    if opts.details:
        out["promiscuity"] = a.get("IFLA_PROMISCUITY", 0)
        out["allmulti"] = a.get("IFLA_ALLMULTI", 0)
        out["min_mtu"] = a.get("IFLA_MIN_MTU", 0)
        out["max_mtu"] = a.get("IFLA_MAX_MTU", 0)
        if link.kind:
            out["linkinfo"] = {"info_kind": link.kind}
        if link.addrgenmode is not None:
            out["inet6_addr_gen_mode"] = ADDRGENMODE.get(link.addrgenmode, link.addrgenmode)
        for key, name in _QUEUE_JSON:
            if key in a:
                out[name] = a[key]
    return out


def _xdp_json(link: Link, infos: dict[int, Any], opts: GlobalOptions) -> dict[str, Any]:
    xdp = link.xdp
    assert xdp is not None
    out: dict[str, Any] = {"mode": xdp.mode}
    if xdp.mode != 4:
        out["prog"] = prog_json(xdp.prog_id, infos.get(xdp.prog_id), opts.details)
    attached = []
    for key, mode in (("skb_prog_id", 2), ("drv_prog_id", 1), ("hw_prog_id", 3)):
        pid = getattr(xdp, key)
        if pid:
            attached.append({"mode": mode, "prog": prog_json(pid, infos.get(pid), opts.details)})
    out["attached"] = attached
    return out
