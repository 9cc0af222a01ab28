"""show: `tc filter show|get` and `tc qdisc show` output, text and JSON, as tc 6.1 prints it.

    filter protocol all pref 49152 bpf chain 0 handle 0x1 f.o:[classifier] direct-action \
not_in_hw id 350 name cls_main tag d4d950593910dd42 jited
    qdisc clsact ffff: dev v0 parent ffff:fff1

Every token is followed by one space (C's print_string of "%s "). What the query named (dev,
parent, pref, protocol, chain) is left out, as tc_filter.c print_filter() does. Qdisc options
are decoded for the kinds of tc_qdisc.c's helpers pytc carries (see QDISC_OPTIONS); a kind
tc knows but pytc does not decode shows its option length instead (man/pytc.8).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from pybpftool.cli.common import jsonw
from pybpftool.cli.common.escape import terminal_safe
from pybpftool.cli.common.grammar import GlobalOptions
from pybpftool.cli.common.proginfo import prog_infos, prog_json, prog_text
from pybpftool.cli.tc.handles import PARENT_WORDS
from pybpftool.netlink import BpfFilter, Qdisc, rtattrs
from pybpftool.netlink.uapi import (
    TC_H_ROOT,
    TCA_CLS_FLAGS_IN_HW,
    TCA_CLS_FLAGS_NOT_IN_HW,
    TCA_CLS_FLAGS_SKIP_HW,
    TCA_CLS_FLAGS_SKIP_SW,
    TCA_EGRESS_BLOCK,
    TCA_HW_OFFLOAD,
    TCA_INGRESS_BLOCK,
    TCA_OPTIONS,
    TCA_STAB,
    TCA_STATS,
    TCA_STATS2,
    TCA_XSTATS,
    TCM_IFINDEX_MAGIC_BLOCK,
)

# lib/ll_proto.c llproto_names, in its order (the first name of a number wins when printing).
if TYPE_CHECKING:
    from pybpftool.cli.common.context import FilterListed

_LLPROTO_NAMES = (
    "0060=loop 0200=pup 0201=pupat 0800=ip 0805=x25 0806=arp 08ff=bpq 0a00=ieeepup "
    "0a01=ieeepupat 6000=dec 6001=dna_dl 6002=dna_rc 6003=dna_rt 6004=lat 6005=diag "
    "6006=cust 6007=sca 8035=rarp 809b=atalk 80f3=aarp 8137=ipx 86dd=ipv6 8863=ppp_disc "
    "8864=ppp_ses 884c=atmmpoa 8884=atmfate 0001=802_3 0002=ax25 0003=all 0004=802_2 "
    "0005=snap 0006=ddcmp 0007=wan_ppp 0008=ppp_mp 0009=localtalk 000c=can 0010=ppptalk "
    "0011=tr_802_2 0015=mobitex 0016=control 0017=irda 0018=econet 88ca=tipc "
    "8892=profinet 88a2=aoe 88a4=ethercat 8100=802.1Q 88a8=802.1ad 8847=mpls_uc "
    "8848=mpls_mc 6558=teb 8100=802.1Q 88cc=LLDP 0800=ipv4"
)
LL_PROTOCOLS: tuple[tuple[int, str], ...] = tuple(
    (int(number, 16), name)
    for number, _, name in (w.partition("=") for w in _LLPROTO_NAMES.split())
)
# number -> name; where a number has several names the first in the table wins
_PROTOCOL_NAMES = {number: name for number, name in reversed(LL_PROTOCOLS)}


class Printer:
    """Printer: iproute2's json_print: each item goes to the text or to the JSON document."""

    def __init__(self, opts: GlobalOptions) -> None:
        self.json = opts.json
        self.pretty = opts.pretty
        self.newline = "\\" if opts.oneline else "\n"  # _SL_
        self.parts: list[str] = []
        self.docs: list[dict[str, Any]] = []
        self.stack: list[dict[str, Any]] = []

    def begin(self) -> None:
        self.stack = [{}]

    def end(self) -> None:
        self.docs.append(self.stack.pop())

    def open(self, key: str) -> None:
        inner: dict[str, Any] = {}
        self.stack[-1][key] = inner
        self.stack.append(inner)

    def close(self) -> None:
        self.stack.pop()

    def fp(self, text: str) -> None:
        if not self.json:
            self.parts.append(text)

    def js(self, key: str, value: Any) -> None:
        if self.json:
            self.stack[-1][key] = value

    def any(self, key: str, value: Any, text: str) -> None:
        self.js(key, value)
        self.fp(text)

    def nl(self) -> None:
        self.fp(self.newline)

    def output(self) -> str:
        if self.json:
            return jsonw.dumps(self.docs, pretty=self.pretty) + "\n"
        return "".join(self.parts)


def protocol_name(value: int, numeric: bool = False) -> str:
    """protocol_name: ll_proto_n2a: the table's name, else `[N]` (decimal)."""
    name = None if numeric else _PROTOCOL_NAMES.get(value)
    return name if name is not None else f"[{value}]"


def protocol_number(text: str) -> int | None:
    """protocol_number: ll_proto_a2n: a name (any case) or a number (C base 0) up to 0xffff."""
    folded = text.lower()
    for number, name in LL_PROTOCOLS:
        if name.lower() == folded:
            return number
    from pybpftool.cscan import c_unsigned

    value = c_unsigned(text, 0)
    return value if value is not None and value <= 0xFFFF else None


def tc_classid(value: int) -> str:
    """tc_classid: print_tc_classid: root, none, `:min`, `maj:` or `maj:min` in hex."""
    if value == TC_H_ROOT:
        return "root"
    if value == 0:
        return "none"
    major, minor = value >> 16, value & 0xFFFF
    if not major:
        return f":{minor:x}"
    return f"{major:x}:" if not minor else f"{major:x}:{minor:x}"


def c_hex(value: int) -> str:
    """c_hex: C's `%#x`: no 0x prefix for zero."""
    return f"{value:#x}" if value else "0"


def print_filters(filters: list[BpfFilter], opts: GlobalOptions, scope: FilterListed) -> str:
    """print_filters: the whole output of one `tc filter show` or `tc filter get`; what the
    run's queries selected (`scope`) is left out of each line."""
    infos = prog_infos(f.prog_id for f in filters if f.prog_id)
    if any(f.actions for f in filters):
        from pybpftool.cli.tc.actprint import filter_printer

        out: Printer = filter_printer(opts)  # arrays of action objects in JSON
    else:
        out = Printer(opts)
    for f in filters:
        out.begin()
        _filter(out, f, scope, infos.get(f.prog_id), opts)
        out.end()
    return out.output()


def _filter(
    out: Printer, f: BpfFilter, scope: FilterListed, info: Any, opts: GlobalOptions
) -> None:
    out.fp("filter ")
    if f.ifindex == TCM_IFINDEX_MAGIC_BLOCK:  # `parent` holds the block index
        if not scope.block or scope.block != f.parent:
            out.any("block", f.parent, f"block {f.parent} ")
    elif not scope.parent or scope.parent != f.parent:
        if f.parent in PARENT_WORDS:
            word = PARENT_WORDS[f.parent]
            out.any(word, True, f"{word} ")
        else:
            out.any("parent", tc_classid(f.parent), f"parent {tc_classid(f.parent)} ")
    if f.prio or f.protocol:
        if f.protocol and (not scope.protocol or scope.protocol != f.protocol):
            name = protocol_name(f.protocol, opts.numeric)
            out.any("protocol", name, f"protocol {name} ")
        if f.prio and (not scope.prio or scope.prio != f.prio):
            out.any("pref", f.prio, f"pref {f.prio} ")
    out.any("kind", f.kind, f"{f.kind} ")
    if scope.chain is None or scope.chain != f.chain:
        out.any("chain", f.chain, f"chain {f.chain} ")
    if f.has_options:
        out.open("options")
        if f.kind == "bpf":
            _bpf_options(out, f, info, opts)
        else:  # another classifier: its handle only, as tc.c print_nofopt begins
            out.fp(f"fh {f.handle:08x} [options not decoded by pytc] ")
        out.close()
    out.nl()


def _bpf_options(out: Printer, f: BpfFilter, info: Any, opts: GlobalOptions) -> None:
    """_bpf_options: f_bpf.c bpf_print_opt()."""
    if f.handle:
        out.any("handle", c_hex(f.handle), f"handle {c_hex(f.handle)} ")
    if f.classid:
        out.any("flowid", tc_classid(f.classid), f"flowid {tc_classid(f.classid)} ")
    if f.name:
        out.any("bpf_name", f.name, f"{terminal_safe(f.name)} ")
    if f.direct_action:
        out.any("direct-action", True, "direct-action ")
    for flag, word in ((TCA_CLS_FLAGS_SKIP_HW, "skip_hw"), (TCA_CLS_FLAGS_SKIP_SW, "skip_sw")):
        if f.flags_gen & flag:
            out.any(word, True, f"{word} ")
    if f.flags_gen & TCA_CLS_FLAGS_IN_HW:
        out.any("in_hw", True, "in_hw ")
    elif f.flags_gen & TCA_CLS_FLAGS_NOT_IN_HW:
        out.any("not_in_hw", True, "not_in_hw ")
    if f.ops:
        body = ",".join(f"{c} {jt} {jf} {k}" for c, jt, jf, k in f.ops)
        insns = [{"code": c, "jt": jt, "jf": jf, "k": k} for c, jt, jf, k in f.ops]
        # no trailing blank after the quote
        out.any(
            "bytecode", {"length": len(f.ops), "insns": insns}, f"bytecode '{len(f.ops)},{body}'"
        )
    if f.prog_id:
        out.any(
            "prog",
            prog_json(f.prog_id, info, opts.details),
            prog_text(f.prog_id, info, opts.details),
        )
    elif f.tag:
        out.any("tag", f.tag, f"tag {f.tag} ")
    if f.actions:
        from pybpftool.cli.tc.actprint import print_filter_actions

        print_filter_actions(out, f.actions, opts)


# --- qdiscs (tc_qdisc.c print_qdisc) ---


def print_qdiscs(qdiscs: list[Qdisc], opts: GlobalOptions, names: dict[int, str], dev: bool) -> str:
    """print_qdiscs: the whole output of one `tc qdisc show`; `dev` when one was named."""
    out = Printer(opts)
    for q in qdiscs:
        out.begin()
        _qdisc(out, q, opts, None if dev else names.get(q.ifindex, f"if{q.ifindex}"))
        out.end()
    return out.output()


def _u32(data: bytes, at: int = 0) -> int:
    return int.from_bytes(data[at : at + 4].ljust(4, b"\0"), sys.byteorder)


def _s32(data: bytes, at: int = 0) -> int:
    return int.from_bytes(data[at : at + 4].ljust(4, b"\0"), sys.byteorder, signed=True)


def _u64(data: bytes, at: int = 0) -> int:
    return int.from_bytes(data[at : at + 8].ljust(8, b"\0"), sys.byteorder)


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
        if len(block) >= 4 and _u32(block):
            out.any(key, _u32(block), f"{key} {_u32(block)} ")
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
    bands = _u32(data)
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
    limit = _u32(data)
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
        r2q = _s32(glob, 4)
        out.any("r2q", r2q, f"r2q {r2q}")
        default = _u32(glob, 8)
        out.any("default", c_hex(default), f" default {c_hex(default)}")
        direct = _u32(glob, 16)
        out.any("direct_packets_stat", direct, f" direct_packets_stat {direct}")
        if opts.details:
            version = _u32(glob)
            ver = f"{version >> 16}.{version & 0xFFFF}"
            out.any("ver", ver, f" ver {ver}")
    qlen = tb.get(TCA_HTB_DIRECT_QLEN)
    if qlen is not None and len(qlen) >= 4:
        out.any("direct_qlen", _u32(qlen), f" direct_qlen {_u32(qlen)}")
    if TCA_HTB_OFFLOAD in tb:
        out.any("offload", None, " offload")


def _fq_codel(out: Printer, kind: str, data: bytes, opts: GlobalOptions) -> None:
    """_fq_codel: q_fq_codel.c fq_codel_print_opt."""
    tb = rtattrs(data)

    def u32(attr: int) -> int | None:
        value = tb.get(attr)
        return _u32(value) if value is not None and len(value) >= 4 else None

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
    kind = _u32(data)
    if kind == 0:
        names = FQ_CODEL_QDISC_STATS
        st = {name: _u32(data, 4 + 4 * i) for i, name in enumerate(names)}
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
        deficit, ldelay, count = _s32(data, 4), _u32(data, 8), _u32(data, 12)
        lastcount, dropping, drop_next = _u32(data, 16), _u32(data, 20), _s32(data, 24)
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


def size_text(size: int) -> str:
    """size_text: sprint_size: `%gMb`, `%gKb` when (nearly) round, else `%ub`."""
    kilo, mega = 1024, 1024 * 1024
    if size >= mega and abs(mega * _rint(size / mega) - size) < 1024:
        return f"{_rint(size / mega):g}Mb"
    if size >= kilo and abs(kilo * _rint(size / kilo) - size) < 16:
        return f"{_rint(size / kilo):g}Kb"
    return f"{size}b"


def time_text(time: int) -> str:
    """time_text: sprint_time of microseconds: `%.3gs`, `%.3gms` or `%uus`."""
    if time >= 1_000_000:
        return f"{time / 1_000_000:.3g}s"
    if time >= 1000:
        return f"{time / 1000:.3g}ms"
    return f"{time}us"


def rate_text(rate: int, iec: bool) -> str:
    """rate_text: print_color_rate: bytes/s as bits/s with K/M/G/T (Ki.. with -iec)."""
    kilo = 1024 if iec else 1000
    rate <<= 3
    units = ("", "K", "M", "G", "T")
    i = 0
    while i < len(units) - 1:
        if rate < kilo or (rate % kilo and rate < 1000 * kilo):
            break
        rate //= kilo
        i += 1
    return f"{rate}{units[i]}{'i' if iec and i else ''}bit"


def _rint(value: float) -> float:
    return float(round(value))  # round-half-even, as rint() in the default rounding mode


def _size_table(out: Printer, data: bytes) -> None:
    """_size_table: tc_stab.c print_size_table (TCA_STAB_BASE = struct tc_sizespec)."""
    base = rtattrs(data).get(1)
    if base is None:
        return
    spec = base[:24].ljust(24, b"\0")
    overhead = _s32(spec, 4)
    linklayer, mpu, mtu, tsize = (_u32(spec, at) for at in (8, 12, 16, 20))
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


def _tc_stats(
    out: Printer, attrs: dict[int, bytes], prefix: str, opts: GlobalOptions
) -> bytes | None:
    """_tc_stats: print_tcstats_attr for TCA_STATS2 (the kernel always sends it); returns the
    xstats payload (TCA_STATS_APP, else TCA_XSTATS)."""
    stats2 = attrs.get(TCA_STATS2)
    if stats2 is None:
        return attrs.get(TCA_XSTATS)
    tbs = rtattrs(stats2)
    basic, queue = tbs.get(1), tbs.get(3)  # TCA_STATS_BASIC, TCA_STATS_QUEUE
    if basic is not None:
        packets64 = _u64(tbs[8]) if 8 in tbs else 0  # TCA_STATS_PKT64
        out.fp(prefix)
        out.any("bytes", _u64(basic), f"Sent {_u64(basic)} bytes")
        packets = packets64 or _u32(basic, 8)
        out.any("packets", packets, f" {packets} pkt")
    q = [_u32(queue or b"", 4 * i) for i in range(5)]  # qlen backlog drops requeues overlimits
    if queue is not None:
        out.any("drops", q[2], f" (dropped {q[2]}")
        out.any("overlimits", q[4], f", overlimits {q[4]}")
        out.any("requeues", q[3], f" requeues {q[3]}) ")
    if 7 in tbs:  # TCA_STATS_BASIC_HW
        _basic_hw(out, tbs, prefix)
    iec = bool(opts.extra.get("iec"))
    if 5 in tbs:  # TCA_STATS_RATE_EST64
        bps, pps = _u64(tbs[5]), _u64(tbs[5], 8)
        out.fp(f"\n{prefix}")
        out.any("rate", bps, f"rate {rate_text(bps, iec)}")
        out.any("pps", pps, f" {pps}pps")
    elif 2 in tbs:  # TCA_STATS_RATE_EST
        bps, pps = _u32(tbs[2]), _u32(tbs[2], 4)
        out.fp(f"\n{prefix}")
        out.any("rate", bps, f"rate {rate_text(bps, iec)}")
        out.any("pps", pps, f" {pps}pps")
    if queue is not None:
        if 2 not in tbs:
            out.nl()
        out.fp(prefix)
        out.any("backlog", q[1], f"backlog {size_text(q[1])}")
        out.any("qlen", q[0], f" {q[0]}p")
        out.fp(f" requeues {q[3]}")
    return tbs.get(4) or attrs.get(TCA_XSTATS)  # TCA_STATS_APP


def _basic_hw(out: Printer, tbs: dict[int, bytes], prefix: str) -> None:
    hw = tbs[7]
    hw_bytes, hw_packets = _u64(hw), _u32(hw, 8)
    if not hw_bytes and not hw_packets:
        return
    basic = tbs.get(1)
    if basic is not None:
        sw_bytes, sw_packets = _u64(basic), _u32(basic, 8)
        if sw_bytes >= hw_bytes and sw_packets >= hw_packets:
            out.nl()
            out.fp(prefix)
            out.any("sw_bytes", sw_bytes - hw_bytes, f"Sent software {sw_bytes - hw_bytes} bytes")
            out.any("sw_packets", sw_packets - hw_packets, f" {sw_packets - hw_packets} pkt")
    out.nl()
    out.fp(prefix)
    out.any("hw_bytes", hw_bytes, f"Sent hardware {hw_bytes} bytes")
    out.any("hw_packets", hw_packets, f" {hw_packets} pkt")
