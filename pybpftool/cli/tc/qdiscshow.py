"""qdiscshow: `tc qdisc show` output, text and JSON, as tc 6.1's tc_qdisc.c print_qdisc()
prints it (the printer, numbers and statistics are show.py's, shared with filters).

    qdisc clsact ffff: dev v0 parent ffff:fff1

Qdisc options are decoded for the kinds of tc_qdisc.c's helpers pytc carries (see
QDISC_OPTIONS); a kind tc knows but pytc does not decode shows its option length instead
(man/pytc.8).
"""

from __future__ import annotations

from pybpftool.cli.common.escape import terminal_safe
from pybpftool.cli.common.grammar import GlobalOptions
from pybpftool.cli.tc.show import (
    Printer,
    _tc_stats,
    c_hex,
    s32_at,
    size_text,
    tc_classid,
    time_text,
    u32_at,
)
from pybpftool.netlink import Qdisc, rtattrs
from pybpftool.netlink.uapi import (
    TC_H_ROOT,
    TCA_EGRESS_BLOCK,
    TCA_HW_OFFLOAD,
    TCA_INGRESS_BLOCK,
    TCA_OPTIONS,
    TCA_STAB,
    TCA_STATS,
    TCA_STATS2,
    TCA_XSTATS,
)


def print_qdiscs(qdiscs: list[Qdisc], opts: GlobalOptions, names: dict[int, str], dev: bool) -> str:
    """print_qdiscs: the whole output of one `tc qdisc show`; `dev` when one was named."""
    out = Printer(opts)
    for q in qdiscs:
        out.begin()
        _qdisc(out, q, opts, None if dev else names.get(q.ifindex, f"if{q.ifindex}"))
        out.end()
    return out.output()


def _qdisc(out: Printer, q: Qdisc, opts: GlobalOptions, dev: str | None) -> None:
    kind = q.kind
    out.any("kind", kind, f"qdisc {kind}")
    out.any("handle", f"{q.handle >> 16:x}:", f" {q.handle >> 16:x}:")
    if opts.extra.get("raw"):
        out.fp(f"[{q.handle:08x}]")
    out.fp(" ")
    if dev is not None:
        out.any("dev", dev, f"dev {terminal_safe(dev)} ")
    if q.parent == TC_H_ROOT:
        out.any("root", True, "root ")
    elif q.parent:
        out.any("parent", tc_classid(q.parent), f"parent {tc_classid(q.parent)} ")
    if q.info != 1:
        out.any("refcnt", q.info, f"refcnt {q.info} ")
    offload = q.attrs.get(TCA_HW_OFFLOAD)
    if offload and offload[0]:
        out.any("offloaded", True, "offloaded ")
    for attr, key in ((TCA_INGRESS_BLOCK, "ingress_block"), (TCA_EGRESS_BLOCK, "egress_block")):
        block = q.attrs.get(attr, b"")
        if len(block) >= 4 and u32_at(block):
            out.any(key, u32_at(block), f"{key} {u32_at(block)} ")
    out.open("options")
    options = q.attrs.get(TCA_OPTIONS)
    if options is not None:
        _qdisc_options(out, kind, options, opts)
    out.close()
    out.nl()
    if opts.details and TCA_STAB in q.attrs:
        _size_table(out, q.attrs[TCA_STAB])
        out.nl()
    if opts.stats:
        xstats = None
        if any(a in q.attrs for a in (TCA_STATS, TCA_STATS2, TCA_XSTATS)):
            xstats = _tc_stats(out, q.attrs, " ", opts)
            out.nl()
        if xstats is not None and kind == "fq_codel":
            _fq_codel_xstats(out, xstats)
            out.nl()


def _qdisc_options(out: Printer, kind: str, data: bytes, opts: GlobalOptions) -> None:
    decode = QDISC_OPTIONS.get(kind)
    if decode is not None:
        decode(out, kind, data, opts)
    elif kind in TC_QDISC_KINDS:
        out.fp(f"[options not decoded by pytc, optlen={len(data)}] ")
    elif data:
        out.fp(f"[Unknown qdisc, optlen={len(data)}] ")  # tc.c print_noqopt


def _ingress(out: Printer, kind: str, data: bytes, opts: GlobalOptions) -> None:
    out.fp("---------------- ")


def _clsact(out: Printer, kind: str, data: bytes, opts: GlobalOptions) -> None:
    return None


def _prio(out: Printer, kind: str, data: bytes, opts: GlobalOptions) -> None:
    """_prio: q_prio.c prio_print_opt (pfifo_fast too): struct tc_prio_qopt + nested attrs."""
    if len(data) < 20:
        return
    mq = None
    if len(data) >= 20 + 4:  # parse_rtattr_nested_compat: one nest after the struct
        nest = rtattrs(data[20:])
        inner = rtattrs(next(iter(nest.values()), b"")) if nest else {}
        mq = inner.get(1)  # TCA_PRIO_MQ (tc_util.h)
    bands = u32_at(data)
    out.any("bands", bands, f"bands {bands} ")
    priomap = list(data[4:20])
    out.any("priomap", priomap, "priomap" + "".join(f" {p}" for p in priomap))
    if mq is not None:
        state = "on" if mq[:1] not in (b"", b"\0") else "off"
        out.fp(f" multiqueue: {state} ")
    out.js("multiqueue", mq is not None and mq[:1] not in (b"", b"\0"))


def _fifo(out: Printer, kind: str, data: bytes, opts: GlobalOptions) -> None:
    """_fifo: q_fifo.c fifo_print_opt: struct tc_fifo_qopt {u32 limit}."""
    if len(data) < 4:
        return
    limit = u32_at(data)
    if kind == "bfifo":
        out.any("limit", limit, f"limit {size_text(limit)}")
    else:
        out.any("limit", limit, f"limit {limit}p")


def _htb(out: Printer, kind: str, data: bytes, opts: GlobalOptions) -> None:
    """_htb: q_htb.c htb_print_opt for a qdisc (TCA_HTB_INIT, DIRECT_QLEN, OFFLOAD)."""
    from pybpftool.netlink.qdiscopts import TCA_HTB_DIRECT_QLEN, TCA_HTB_INIT, TCA_HTB_OFFLOAD

    tb = rtattrs(data)
    glob = tb.get(TCA_HTB_INIT)  # struct tc_htb_glob
    if glob is not None and len(glob) < 20:
        return  # htb_print_opt gives up on a short struct
    if glob is not None:
        r2q = s32_at(glob, 4)
        out.any("r2q", r2q, f"r2q {r2q}")
        default = u32_at(glob, 8)
        out.any("default", c_hex(default), f" default {c_hex(default)}")
        direct = u32_at(glob, 16)
        out.any("direct_packets_stat", direct, f" direct_packets_stat {direct}")
        if opts.details:
            version = u32_at(glob)
            ver = f"{version >> 16}.{version & 0xFFFF}"
            out.any("ver", ver, f" ver {ver}")
    qlen = tb.get(TCA_HTB_DIRECT_QLEN)
    if qlen is not None and len(qlen) >= 4:
        out.any("direct_qlen", u32_at(qlen), f" direct_qlen {u32_at(qlen)}")
    if TCA_HTB_OFFLOAD in tb:
        out.any("offload", None, " offload")


def _fq_codel(out: Printer, kind: str, data: bytes, opts: GlobalOptions) -> None:
    """_fq_codel: q_fq_codel.c fq_codel_print_opt."""
    tb = rtattrs(data)

    def u32(attr: int) -> int | None:
        value = tb.get(attr)
        return u32_at(value) if value is not None and len(value) >= 4 else None

    limit, flows, quantum = u32(2), u32(5), u32(6)  # TCA_FQ_CODEL_LIMIT, FLOWS, QUANTUM
    if limit is not None:
        out.any("limit", limit, f"limit {limit}p ")
    if flows is not None:
        out.any("flows", flows, f"flows {flows} ")
    if quantum is not None:
        out.any("quantum", quantum, f"quantum {quantum} ")
    for attr, key in ((1, "target"), (7, "ce_threshold")):
        value = u32(attr)
        if value is not None:
            out.any(key, value, f"{key} {time_text(value)} ")
    selector = tb.get(10, b"\0")[:1] or b"\0"  # TCA_FQ_CODEL_CE_THRESHOLD_SELECTOR
    mask = tb.get(11, b"\0")[:1] or b"\0"  # TCA_FQ_CODEL_CE_THRESHOLD_MASK
    if selector[0] or mask[0]:
        out.any("ce_threshold_selector", selector[0], f"ce_threshold_selector {c_hex(selector[0])}")
        out.any("ce_threshold_mask", mask[0], f"/{c_hex(mask[0])} ")
    interval = u32(3)
    if interval is not None:
        out.any("interval", interval, f"interval {time_text(interval)} ")
    memory = u32(9)
    if memory is not None:
        out.any("memory_limit", memory, f"memory_limit {size_text(memory)} ")
    ecn = u32(4)
    if ecn:
        out.any("ecn", True, "ecn ")
    batch = u32(8)
    if batch:
        out.any("drop_batch", batch, f"drop_batch {batch} ")


def _fq_codel_xstats(out: Printer, data: bytes) -> None:
    """_fq_codel_xstats: struct tc_fq_codel_xstats, qdisc (type 0) or class (type 1)."""
    data = data.ljust(40, b"\0")
    kind = u32_at(data)
    if kind == 0:
        names = FQ_CODEL_QDISC_STATS
        st = {name: u32_at(data, 4 + 4 * i) for i, name in enumerate(names)}
        out.any("maxpacket", st["maxpacket"], f"  maxpacket {st['maxpacket']}")
        for key in ("drop_overlimit", "new_flow_count", "ecn_mark"):
            out.any(key, st[key], f" {key} {st[key]}")
        if st["ce_mark"]:
            out.any("ce_mark", st["ce_mark"], f" ce_mark {st['ce_mark']}")
        if st["memory_usage"]:
            out.any("memory_used", st["memory_usage"], f" memory_used {st['memory_usage']}")
        if st["drop_overmemory"]:
            value = st["drop_overmemory"]
            out.any("drop_overmemory", value, f" drop_overmemory {value}")
        out.nl()
        out.any("new_flows_len", st["new_flows_len"], f"  new_flows_len {st['new_flows_len']}")
        out.any("old_flows_len", st["old_flows_len"], f" old_flows_len {st['old_flows_len']}")
    elif kind == 1:
        deficit, ldelay, count = s32_at(data, 4), u32_at(data, 8), u32_at(data, 12)
        lastcount, dropping, drop_next = u32_at(data, 16), u32_at(data, 20), s32_at(data, 24)
        out.any("deficit", deficit, f"  deficit {deficit}")
        out.any("count", count, f" count {count}")
        out.any("lastcount", lastcount, f" lastcount {lastcount}")
        out.any("ldelay", ldelay, f" ldelay {time_text(ldelay)}")
        if dropping:
            out.any("dropping", True, " dropping")
            sign = "-" if drop_next < 0 else ""
            out.any("drop_next", drop_next, f" drop_next {sign}{time_text(abs(drop_next))}")


QDISC_OPTIONS = {
    "ingress": _ingress,
    "clsact": _clsact,
    "pfifo_fast": _prio,
    "prio": _prio,
    "pfifo": _fifo,
    "bfifo": _fifo,
    "pfifo_head_drop": _fifo,
    "htb": _htb,
    "fq_codel": _fq_codel,
}

# The kinds tc 6.1 has a q_*.c helper for: pytc decodes the options of QDISC_OPTIONS' kinds;
# the others are marked as not decoded. A kind outside this list is tc's "Unknown qdisc".
_TC_QDISC_KINDS = (
    "atm cake cbq cbs choke clsact codel drr dsmark etf ets bfifo pfifo pfifo_head_drop pfifo_fast "
    "fq fq_codel fq_pie gred hfsc hhf htb ingress mqprio multiq netem pie plug prio qfq red rr sfb "
    "sfq skbprio taprio tbf"
)
TC_QDISC_KINDS = frozenset(_TC_QDISC_KINDS.split())
# struct tc_fq_codel_qd_stats, in its order.
FQ_CODEL_QDISC_STATS = (
    "maxpacket",
    "drop_overlimit",
    "ecn_mark",
    "new_flow_count",
    "new_flows_len",
    "old_flows_len",
    "ce_mark",
    "memory_usage",
    "drop_overmemory",
)


def _size_table(out: Printer, data: bytes) -> None:
    """_size_table: tc_stab.c print_size_table (TCA_STAB_BASE = struct tc_sizespec)."""
    base = rtattrs(data).get(1)
    if base is None:
        return
    spec = base[:24].ljust(24, b"\0")
    overhead = s32_at(spec, 4)
    linklayer, mpu, mtu, tsize = (u32_at(spec, at) for at in (8, 12, 16, 20))
    out.open("stab")
    out.fp(" ")
    if linklayer:
        name = {1: "ethernet", 2: "atm"}.get(linklayer, "unknown")
        out.any("linklayer", name, f"linklayer {name} ")
    if overhead:
        out.any("overhead", overhead, f"overhead {overhead} ")
    for key, value in (("mpu", mpu), ("mtu", mtu), ("tsize", tsize)):
        if value:
            out.any(key, value, f"{key} {value} ")
    out.close()
