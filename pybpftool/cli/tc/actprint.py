"""actprint: tc's printing of actions, text and JSON as tc 6.1 prints them (m_action.c
print_action, tc_print_one_action; the print functions of m_gact.c, m_bpf.c, m_mirred.c):
the replies of `pytc actions get|list`. Kinds pytc does not decode show their kind only.
"""

from __future__ import annotations

import sys
from typing import Any

from pybpftool.cli.common.frontend import say
from pybpftool.cli.tc.show import s32_at, u32_at, u64_at
from pybpftool.netlink.actions import (
    PGACT_DETERM,
    PGACT_NETRAND,
    TC_ACT_EXT_VAL_MASK,
    TC_ACT_GOTO_CHAIN,
    TC_ACT_JUMP,
    TC_ACT_OK,
    TC_ACT_PIPE,
    TC_ACT_RECLASSIFY,
    TC_ACT_SHOT,
    TC_ACT_STOLEN,
    TC_ACT_TRAP,
    TC_ACT_UNSPEC,
    TCA_ACT_BPF_ID,
    TCA_ACT_BPF_NAME,
    TCA_ACT_BPF_OPS,
    TCA_ACT_BPF_OPS_LEN,
    TCA_ACT_BPF_PARMS,
    TCA_ACT_BPF_TAG,
    TCA_ACT_BPF_TM,
    TCA_ACT_COOKIE,
    TCA_ACT_FLAGS,
    TCA_ACT_HW_STATS,
    TCA_ACT_IN_HW_COUNT,
    TCA_ACT_INDEX,
    TCA_ACT_KIND,
    TCA_ACT_MAX_PRIO,
    TCA_ACT_OPTIONS,
    TCA_ACT_STATS,
    TCA_ACT_USED_HW_STATS,
    TCA_EGRESS_MIRROR,
    TCA_EGRESS_REDIR,
    TCA_GACT_PARMS,
    TCA_GACT_PROB,
    TCA_GACT_TM,
    TCA_INGRESS_MIRROR,
    TCA_INGRESS_REDIR,
    TCA_MIRRED_PARMS,
    TCA_MIRRED_TM,
    TCA_ROOT_COUNT,
    TCA_ROOT_TAB,
)
from pybpftool.netlink.uapi import (
    NLM_F_CREATE,
    NLM_F_REPLACE,
    NLM_F_ROOT,
    RTM_DELACTION,
    RTM_GETACTION,
    RTM_NEWACTION,
    TCA_STATS2,
)

_TC_ACT_NAMES = {
    TC_ACT_UNSPEC: "continue",
    TC_ACT_OK: "pass",
    TC_ACT_RECLASSIFY: "reclassify",
    TC_ACT_SHOT: "drop",
    TC_ACT_PIPE: "pipe",
    TC_ACT_STOLEN: "stolen",
    TC_ACT_TRAP: "trap",
}
_MIRRED = {
    TCA_EGRESS_REDIR: ("Egress Redirect", "redirect", "egress"),
    TCA_EGRESS_MIRROR: ("Egress Mirror", "mirror", "egress"),
    TCA_INGRESS_REDIR: ("Ingress Redirect", "redirect", "ingress"),
    TCA_INGRESS_MIRROR: ("Ingress Mirror", "mirror", "ingress"),
}
_RANDOM_TYPES = {PGACT_NETRAND: "netrand", PGACT_DETERM: "determ"}


def _action_printer() -> type:
    from pybpftool.cli.tc.show import Printer

    class ActionPrinter(Printer):
        """ActionPrinter: show's Printer with arrays of objects, and tc's raw fprintf
        (m_bpf.c writes "\\n " straight to stdout, even into a JSON document)."""

        def __init__(self, opts: Any) -> None:
            super().__init__(opts)
            self.last: tuple[dict[str, Any], str] | None = None
            self.raws: list[tuple[str, str]] = []

        def js(self, key: str, value: Any) -> None:
            super().js(key, value)
            if self.json:
                self.last = (self.stack[-1], key)

        def items(self, key: str) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = []
            if self.json:
                self.stack[-1][key] = found
            return found

        def item(self, items: list[dict[str, Any]]) -> None:
            inner: dict[str, Any] = {}
            items.append(inner)
            self.stack.append(inner)

        def raw(self, text: str) -> None:
            if not self.json:
                self.parts.append(text)
            elif self.last is not None:
                holder, key = self.last
                token = f"@@pybpftool-raw-{len(self.raws)}@@"
                from pybpftool.cli.common.jsonw import dumps

                self.raws.append((dumps(token), dumps(holder[key]) + text))
                holder[key] = token

        def output(self) -> str:
            text = str(super().output())
            for token, value in self.raws:
                text = text.replace(token, value, 1)
            return text

    return ActionPrinter


def _cstring(data: bytes) -> str:
    return data.split(b"\0", 1)[0].decode(errors="replace")


def print_action_messages(messages: list[Any], opts: Any, nl: Any) -> tuple[str, int]:
    """print_action_messages: print_action() of each reply (netlink.RawMessage), as one
    output (a JSON array with -j); the status is -1 where tc's print_action failed."""
    out = _action_printer()(opts)
    context = _Context(opts, nl)
    status = 0
    for msg in messages:
        status = _print_action(out, msg, context)
        if status < 0:
            break
    return out.output(), status


class _Context:
    """_Context: what the printers look up lazily: link names, program infos."""

    def __init__(self, opts: Any, nl: Any, bound: bool = False) -> None:
        self.opts = opts
        self.bound = bound  # the actions of a filter: tc leaves out their flags
        self.nl = nl
        self._names: dict[int, str] | None = None

    def link_name(self, index: int) -> str:
        """link_name: ll_index_to_name(): `*` for 0, `ifN` for an index without a link."""
        if index == 0:
            return "*"
        if self._names is None:
            self._names = {link.ifindex: link.name for link in self.nl.links()}
        return self._names.get(index, f"if{index}")


def _print_action(out: Any, msg: Any, context: _Context) -> int:
    from pybpftool.netlink import rtattrs

    attrs = rtattrs(msg.body[4:])  # after struct tcamsg
    count = attrs.get(TCA_ROOT_COUNT)
    total = u32_at(count) if count is not None else 0
    out.begin()
    out.any("total acts", total, f"total acts {total}")
    out.nl()
    out.end()
    tab = attrs.get(TCA_ROOT_TAB)
    if tab is None:
        if msg.type != RTM_GETACTION:
            say("print_action: NULL kind")
        return -1
    # Event prefixes (tc monitor's; a get or a dump never carries them).
    if msg.type == RTM_DELACTION:
        out.fp("Flushed table " if msg.flags & NLM_F_ROOT else "Deleted action ")
    elif msg.type == RTM_NEWACTION and msg.flags & NLM_F_CREATE and not msg.flags & NLM_F_REPLACE:
        out.fp("Added action ")
    elif msg.type == RTM_NEWACTION and msg.flags & NLM_F_REPLACE:
        out.fp("Replaced action ")
    out.begin()
    _dump_actions(out, tab, total, context)
    out.end()
    return 0


def _dump_actions(out: Any, tab: bytes, total: int, context: _Context) -> None:
    """_dump_actions: tc_dump_action(): `action order N:` and each action (types above the
    total, or above 32 when the kernel gave none, are not read)."""
    limit = total or TCA_ACT_MAX_PRIO
    found = _nested(tab, limit)
    items = out.items("actions")
    for order in sorted(found):
        out.item(items)
        out.nl()
        out.any("order", order, f"\taction order {order}: ")
        if _print_one_action(out, found[order], context) < 0:
            say("Error printing action")
        out.close()


def _nested(data: bytes, limit: int) -> dict[int, bytes]:
    from pybpftool.netlink import rtattrs

    return {kind: value for kind, value in rtattrs(data).items() if kind <= limit}


def _print_one_action(out: Any, data: bytes, context: _Context) -> int:
    from pybpftool.netlink import rtattrs

    tb = rtattrs(data)
    if TCA_ACT_KIND not in tb:
        say("NULL Action!")
        return -1
    from pybpftool.cli.tc.actparse import TC_ACTION_KINDS  # on first use: the grammar is large

    kind = _cstring(tb[TCA_ACT_KIND])[:15]
    printer = _PRINTERS.get(kind if kind in TC_ACTION_KINDS else "gact", _print_undecoded)
    err = printer(out, kind, tb.get(TCA_ACT_OPTIONS), context)
    if err < 0:
        return err
    opts = context.opts
    if opts.brief and TCA_ACT_INDEX in tb:
        index = u32_at(tb[TCA_ACT_INDEX])
        out.any("index", index, f"\t index {index}")
        out.nl()
    if opts.stats and TCA_ACT_STATS in tb:
        from pybpftool.cli.tc.show import _tc_stats

        out.fp("\tAction statistics:")
        out.nl()
        out.open("stats")
        _tc_stats(out, {TCA_STATS2: tb[TCA_ACT_STATS]}, "\t", opts)  # TCA_STATS2's layout
        out.close()
        out.nl()
    if TCA_ACT_COOKIE in tb:
        cookie = tb[TCA_ACT_COOKIE].hex()
        out.any("cookie", cookie, f"\tcookie {cookie}")
        out.nl()
    if not context.bound:
        _print_flags(out, tb)
    for attr, key in ((TCA_ACT_HW_STATS, "hw_stats"), (TCA_ACT_USED_HW_STATS, "used_hw_stats")):
        if attr in tb:
            bits = u32_at(tb[attr]) & u32_at(tb[attr], 4) & 0xFF
            names = [
                name
                for name, bit in (("immediate", 1), ("delayed", 2), ("disabled", 0))
                if (not bits and not bit) or bits & bit
            ]
            out.fp(f"\t{key}" + "".join(f" {name}" for name in names))
            out.js(key, names)
            out.nl()
    return 0


def _print_flags(out: Any, tb: dict[int, bytes]) -> None:
    """_print_flags: TCA_ACT_FLAGS and TCA_ACT_IN_HW_COUNT of an action not bound to a
    filter (print_bool prints its text whatever the value)."""
    if TCA_ACT_FLAGS not in tb and TCA_ACT_IN_HW_COUNT not in tb:
        return
    newline = skip_hw = False
    if TCA_ACT_FLAGS in tb:
        value, selector = u32_at(tb[TCA_ACT_FLAGS]), u32_at(tb[TCA_ACT_FLAGS], 4)
        for bit, key in ((1, "no_percpu"), (2, "skip_hw"), (4, "skip_sw")):
            if selector & bit:
                newline = True
                out.any(key, bool(value & bit), f"\t{key}")
        skip_hw = bool(selector & 2 and value & 2)
    if TCA_ACT_IN_HW_COUNT in tb and not skip_hw:
        count = u32_at(tb[TCA_ACT_IN_HW_COUNT])
        newline = True
        if count:
            out.any("in_hw", True, "\tin_hw")
            out.any("in_hw_count", count, f" in_hw_count {count}")
        else:
            out.any("not_in_hw", True, "\tnot_in_hw")
    if newline:
        out.nl()


def action_name(action: int) -> str:
    """action_name: tc_util.c action_n2a (goto/jump opcodes, verdict names, else the number)."""
    unsigned = action & 0xFFFFFFFF
    if unsigned & ~TC_ACT_EXT_VAL_MASK & 0xFFFFFFFF == TC_ACT_GOTO_CHAIN:
        return "goto"
    if unsigned & ~TC_ACT_EXT_VAL_MASK & 0xFFFFFFFF == TC_ACT_JUMP:
        return "jump"
    signed = unsigned - (1 << 32) if unsigned & 0x80000000 else unsigned
    return _TC_ACT_NAMES.get(signed, str(signed))


def print_control(out: Any, prefix: str, action: int, suffix: str) -> None:
    """print_control: print_action_control()."""
    out.fp(prefix)
    out.open("control_action")
    name = action_name(action)
    out.any("type", name, name)
    if name == "goto":
        value = action & TC_ACT_EXT_VAL_MASK
        out.any("chain", value, f" chain {value}")
    elif name == "jump":
        value = action & TC_ACT_EXT_VAL_MASK
        out.any("jump", value, f" {value}")
    out.close()
    out.fp(suffix)


def _print_tm(out: Any, tm: bytes) -> None:
    """_print_tm: print_tm() of struct tcf_t {install, lastuse, expires, firstuse} (clock
    ticks, printed in seconds)."""
    import os

    hz = os.sysconf("SC_CLK_TCK")
    for at, key, word in (
        (0, "installed", "installed"),
        (8, "last_used", "used"),
        (24, "first_used", "firstused"),
        (16, "expires", "expires"),
    ):
        ticks = u64_at(tm, at)
        if ticks:
            value = (ticks // hz) & 0xFFFFFFFF
            out.any(key, value, f" {word} {value} sec")


def _print_counts(out: Any, parms: bytes, index_text: str) -> None:
    """_print_counts: `index I ref R bind B` of struct tc_gen."""
    index, ref, bind = u32_at(parms), s32_at(parms, 12), s32_at(parms, 16)
    out.any("index", index, f"{index_text} {index}")
    out.any("ref", ref, f" ref {ref}")
    out.any("bind", bind, f" bind {bind}")


def _kind_and_parms(
    out: Any, kind: str, opt: bytes | None, parms_attr: int
) -> tuple[dict[int, bytes], bytes] | int:
    """_kind_and_parms: the head every m_*.c printer shares: the kind, then the options'
    attributes and the kind's parms struct (`parms_attr`); or the printer's status when
    there is nothing more to print (no options: 0; options without parms: tc's complaint,
    -1)."""
    from pybpftool.netlink import rtattrs

    out.any("kind", kind, f"{kind} ")
    if opt is None:
        return 0
    tb = rtattrs(opt)
    parms = tb.get(parms_attr)
    if parms is None:
        say(f"Missing {kind} parameters")
        return -1
    return tb, parms


def _print_gact(out: Any, kind: str, opt: bytes | None, context: _Context) -> int:
    """_print_gact: m_gact.c print_gact (CONFIG_GACT_PROB)."""
    head = _kind_and_parms(out, "gact", opt, TCA_GACT_PARMS)
    if isinstance(head, int):
        return head
    tb, parms = head
    print_control(out, "action ", s32_at(parms, 8), "")
    prob = tb.get(TCA_GACT_PROB, bytes(8)).ljust(8, b"\0")  # zeros when absent
    ptype = int.from_bytes(prob[:2], sys.byteorder)
    pval = int.from_bytes(prob[2:4], sys.byteorder)
    out.open("prob")
    out.nl()
    name = _RANDOM_TYPES.get(ptype, "none")
    out.any("random_type", name, f"\t random type {name}")
    print_control(out, " ", s32_at(prob, 4), " ")
    out.any("val", pval, f"val {pval}")
    out.close()
    out.nl()
    _print_counts(out, parms, "\t index")
    if context.opts.stats and TCA_GACT_TM in tb:
        _print_tm(out, tb[TCA_GACT_TM])
    out.nl()
    return 0


def _print_bpf(out: Any, kind: str, opt: bytes | None, context: _Context) -> int:
    """_print_bpf: m_bpf.c bpf_print_opt."""
    from pybpftool.cli.common.proginfo import prog_infos, prog_json, prog_text
    head = _kind_and_parms(out, "bpf", opt, TCA_ACT_BPF_PARMS)
    if isinstance(head, int):
        return head
    tb, parms = head
    if TCA_ACT_BPF_NAME in tb:
        name = _cstring(tb[TCA_ACT_BPF_NAME])
        out.any("bpf_name", name, f"{name} ")
    if TCA_ACT_BPF_OPS in tb and TCA_ACT_BPF_OPS_LEN in tb:
        length = int.from_bytes(tb[TCA_ACT_BPF_OPS_LEN][:2].ljust(2, b"\0"), sys.byteorder)
        _print_ops(out, tb[TCA_ACT_BPF_OPS], length)
        out.fp(" ")
    shown = False
    if TCA_ACT_BPF_ID in tb:
        prog_id = u32_at(tb[TCA_ACT_BPF_ID])
        info = prog_infos([prog_id]).get(prog_id)
        details = context.opts.details
        out.any("prog", prog_json(prog_id, info, details), prog_text(prog_id, info, details))
        shown = info is not None
    if not shown and TCA_ACT_BPF_TAG in tb:
        tag = tb[TCA_ACT_BPF_TAG].hex()
        out.any("tag", tag, f"tag {tag} ")
    print_control(out, "default-action ", s32_at(parms, 8), out.newline)
    _print_counts(out, parms, "\t index")
    if context.opts.stats and TCA_ACT_BPF_TM in tb:
        _print_tm(out, tb[TCA_ACT_BPF_TM])
    out.raw("\n ")
    return 0


def _print_ops(out: Any, data: bytes, length: int) -> None:
    """_print_ops: bpf_print_ops(): `bytecode 'N,c t f k,...'` (no blank after the quote)."""
    if not length:
        return
    insns = []
    for i in range(length):
        raw = data[8 * i : 8 * i + 8].ljust(8, b"\0")
        code = int.from_bytes(raw[:2], sys.byteorder)
        insns.append((code, raw[2], raw[3], int.from_bytes(raw[4:], sys.byteorder)))
    body = ",".join(f"{c} {jt} {jf} {k}" for c, jt, jf, k in insns)
    listed = [{"code": c, "jt": jt, "jf": jf, "k": k} for c, jt, jf, k in insns]
    out.any("bytecode", {"length": length, "insns": listed}, f"bytecode '{length},{body}'")


def _print_mirred(out: Any, kind: str, opt: bytes | None, context: _Context) -> int:
    """_print_mirred: m_mirred.c print_mirred."""
    head = _kind_and_parms(out, "mirred", opt, TCA_MIRRED_PARMS)
    if isinstance(head, int):
        return head
    tb, parms = head  # parms: struct tc_mirred
    words = _MIRRED.get(s32_at(parms, 20), ("unknown", "unknown", "unknown"))
    dev = context.link_name(u32_at(parms, 24))
    out.fp(f"({words[0]}")
    out.js("mirred_action", words[1])
    out.js("direction", words[2])
    from pybpftool.cli.common.escape import terminal_safe

    out.any("to_dev", dev, f" to device {terminal_safe(dev)})")
    print_control(out, " ", s32_at(parms, 8), "")
    out.nl()
    _print_counts(out, parms, "\tindex")
    if context.opts.stats and TCA_MIRRED_TM in tb:
        _print_tm(out, tb[TCA_MIRRED_TM])
    out.nl()
    return 0


def _print_undecoded(out: Any, kind: str, opt: bytes | None, context: _Context) -> int:
    """_print_undecoded: a kind tc has a printer for and pytc has not."""
    out.any("kind", kind, f"{kind} ")
    if opt is not None:
        out.fp("[options not decoded by pytc] ")
    return 0


_PRINTERS = {"gact": _print_gact, "bpf": _print_bpf, "mirred": _print_mirred}


def filter_printer(opts: Any) -> Any:
    """filter_printer: the printer of a filter listing whose filters hold actions."""
    return _action_printer()(opts)


def print_filter_actions(out: Any, tab: bytes, opts: Any) -> None:
    """print_filter_actions: tc_print_action() of a filter's action table (TCA_BPF_ACT) with
    no count (every order up to TCA_ACT_MAX_PRIO); mirred's devices named on a socket of its
    own (the filter dump's is closed by then)."""
    from pybpftool.netlink import Netlink

    with Netlink() as nl:
        _dump_actions(out, tab, 0, _Context(opts, nl, bound=True))
