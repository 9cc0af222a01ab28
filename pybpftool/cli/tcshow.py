"""tcshow: `tc filter show` output for cls_bpf, text and JSON, as tc 6.1 prints it.

    filter protocol all pref 49152 bpf chain 0 handle 0x1 f.o:[classifier] direct-action \
not_in_hw id 350 name cls_main tag d4d950593910dd42 jited

Every token is followed by one space (C's print_string of "%s "). The query filtered on dev
and parent, so neither is printed; `pref` is left out when the query named one.
"""

from __future__ import annotations

from typing import Any

from pybpftool.cli import jsonw
from pybpftool.cli.escape import terminal_safe
from pybpftool.cli.grammar import GlobalOptions
from pybpftool.cli.proginfo import prog_infos, prog_json, prog_text
from pybpftool.netlink import (
    TCA_CLS_FLAGS_IN_HW,
    TCA_CLS_FLAGS_NOT_IN_HW,
    TCA_CLS_FLAGS_SKIP_HW,
    TCA_CLS_FLAGS_SKIP_SW,
    BpfFilter,
)

PROTOCOL_NAMES = {0x0003: "all", 0x0800: "ip", 0x86DD: "ipv6", 0x0806: "arp", 0x8100: "802.1Q"}


def print_filters(filters: list[BpfFilter], opts: GlobalOptions, pref_given: bool) -> str:
    """print_filters: the whole output of one `tc filter show`."""
    infos = prog_infos(f.prog_id for f in filters if f.prog_id)
    if opts.json:
        doc = [_filter_json(f, pref_given, infos.get(f.prog_id), opts) for f in filters]
        return jsonw.dumps(doc, pretty=opts.pretty) + "\n"
    return "".join(_filter_text(f, pref_given, infos.get(f.prog_id), opts) for f in filters)


def _protocol(value: int) -> str:
    return PROTOCOL_NAMES.get(value, f"[{value:04x}]")


def _classid(value: int) -> str:
    return f"{value >> 16:x}:{value & 0xFFFF:x}"


def _filter_text(f: BpfFilter, pref_given: bool, info: Any, opts: GlobalOptions) -> str:
    out = f"filter protocol {_protocol(f.protocol)} "
    if not pref_given:
        out += f"pref {f.prio} "
    out += f"{f.kind} chain {f.chain} "
    if f.has_options:
        out += f"handle {f.handle:#x} "
        if f.classid:
            out += f"flowid {_classid(f.classid)} "
        if f.name:
            out += f"{terminal_safe(f.name)} "
        if f.direct_action:
            out += "direct-action "
        for flag, word in ((TCA_CLS_FLAGS_SKIP_HW, "skip_hw"), (TCA_CLS_FLAGS_SKIP_SW, "skip_sw")):
            if f.flags_gen & flag:
                out += f"{word} "
        if f.flags_gen & TCA_CLS_FLAGS_IN_HW:
            out += "in_hw "
        elif f.flags_gen & TCA_CLS_FLAGS_NOT_IN_HW:
            out += "not_in_hw "
        if f.ops:
            body = ",".join(f"{c} {jt} {jf} {k}" for c, jt, jf, k in f.ops)
            out += f"bytecode '{len(f.ops)},{body}'"  # no trailing blank after the quote
        if f.prog_id:
            out += prog_text(f.prog_id, info, opts.details)
        elif f.tag:
            out += f"tag {f.tag} "
    return out + "\n"


def _filter_json(f: BpfFilter, pref_given: bool, info: Any, opts: GlobalOptions) -> dict[str, Any]:
    out: dict[str, Any] = {"protocol": _protocol(f.protocol)}
    if not pref_given:
        out["pref"] = f.prio
    out["kind"] = f.kind
    out["chain"] = f.chain
    if not f.has_options:
        return out
    options: dict[str, Any] = {"handle": f"{f.handle:#x}"}
    if f.classid:
        options["flowid"] = _classid(f.classid)
    if f.name:
        options["bpf_name"] = f.name
    if f.direct_action:
        options["direct-action"] = True
    if f.flags_gen & TCA_CLS_FLAGS_SKIP_HW:
        options["skip_hw"] = True
    if f.flags_gen & TCA_CLS_FLAGS_SKIP_SW:
        options["skip_sw"] = True
    if f.flags_gen & TCA_CLS_FLAGS_IN_HW:
        options["in_hw"] = True
    elif f.flags_gen & TCA_CLS_FLAGS_NOT_IN_HW:
        options["not_in_hw"] = True
    if f.ops:
        options["bytecode"] = {
            "length": len(f.ops),
            "insns": [{"code": c, "jt": jt, "jf": jf, "k": k} for c, jt, jf, k in f.ops],
        }
    if f.prog_id:
        options["prog"] = prog_json(f.prog_id, info, opts.details)
    elif f.tag:
        options["tag"] = f.tag
    out["options"] = options
    return out
