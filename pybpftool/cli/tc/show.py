"""show: `tc filter show|get` output, text and JSON, as tc 6.1 prints it, and the printer,
number and statistics formats `tc qdisc show` (qdiscshow.py) and actions (actprint.py) share.

    filter protocol all pref 49152 bpf chain 0 handle 0x1 f.o:[classifier] direct-action \
not_in_hw id 350 name cls_main tag d4d950593910dd42 jited

Every token is followed by one space (C's print_string of "%s "). What the query named (dev,
parent, pref, protocol, chain) is left out, as tc_filter.c print_filter() does.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from pybpftool.cli.common.escape import terminal_safe
from pybpftool.cli.common.grammar import GlobalOptions
from pybpftool.cli.common.proginfo import prog_infos, prog_json, prog_text
from pybpftool.cli.tc.handles import PARENT_WORDS
from pybpftool.netlink import BpfFilter, rtattrs
from pybpftool.netlink.uapi import (
    TC_H_ROOT,
    TCA_CLS_FLAGS_IN_HW,
    TCA_CLS_FLAGS_NOT_IN_HW,
    TCA_CLS_FLAGS_SKIP_HW,
    TCA_CLS_FLAGS_SKIP_SW,
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
            from pybpftool.cli.common import jsonw  # -j's only: a text listing skips it

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


def u32_at(data: bytes, at: int = 0) -> int:
    """u32_at: the host-order u32 at `at` of a netlink attribute (zero past its end)."""
    return int.from_bytes(data[at : at + 4].ljust(4, b"\0"), sys.byteorder)


def s32_at(data: bytes, at: int = 0) -> int:
    """s32_at: the host-order s32 at `at` (zero past the end)."""
    return int.from_bytes(data[at : at + 4].ljust(4, b"\0"), sys.byteorder, signed=True)


def u64_at(data: bytes, at: int = 0) -> int:
    """u64_at: the host-order u64 at `at` (zero past the end)."""
    return int.from_bytes(data[at : at + 8].ljust(8, b"\0"), sys.byteorder)


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
        packets64 = u64_at(tbs[8]) if 8 in tbs else 0  # TCA_STATS_PKT64
        out.fp(prefix)
        out.any("bytes", u64_at(basic), f"Sent {u64_at(basic)} bytes")
        packets = packets64 or u32_at(basic, 8)
        out.any("packets", packets, f" {packets} pkt")
    q = [u32_at(queue or b"", 4 * i) for i in range(5)]  # qlen backlog drops requeues overlimits
    if queue is not None:
        out.any("drops", q[2], f" (dropped {q[2]}")
        out.any("overlimits", q[4], f", overlimits {q[4]}")
        out.any("requeues", q[3], f" requeues {q[3]}) ")
    if 7 in tbs:  # TCA_STATS_BASIC_HW
        _basic_hw(out, tbs, prefix)
    iec = bool(opts.extra.get("iec"))
    if 5 in tbs:  # TCA_STATS_RATE_EST64
        bps, pps = u64_at(tbs[5]), u64_at(tbs[5], 8)
        out.fp(f"\n{prefix}")
        out.any("rate", bps, f"rate {rate_text(bps, iec)}")
        out.any("pps", pps, f" {pps}pps")
    elif 2 in tbs:  # TCA_STATS_RATE_EST
        bps, pps = u32_at(tbs[2]), u32_at(tbs[2], 4)
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
    hw_bytes, hw_packets = u64_at(hw), u32_at(hw, 8)
    if not hw_bytes and not hw_packets:
        return
    basic = tbs.get(1)
    if basic is not None:
        sw_bytes, sw_packets = u64_at(basic), u32_at(basic, 8)
        if sw_bytes >= hw_bytes and sw_packets >= hw_packets:
            out.nl()
            out.fp(prefix)
            out.any("sw_bytes", sw_bytes - hw_bytes, f"Sent software {sw_bytes - hw_bytes} bytes")
            out.any("sw_packets", sw_packets - hw_packets, f" {sw_packets - hw_packets} pkt")
    out.nl()
    out.fp(prefix)
    out.any("hw_bytes", hw_bytes, f"Sent hardware {hw_bytes} bytes")
    out.any("hw_packets", hw_packets, f" {hw_packets} pkt")
