"""actions: tc actions as typed records, and their encoding byte for byte as tc 6.1 builds
it (m_action.c parse_action, m_gact.c, m_bpf.c, m_mirred.c): the nests of TCA_ACT_TAB
(`tc actions`) and of TCA_BPF_ACT (a bpf filter's actions). Pure: no pyroute2.

A record holds what the kernel gets: control actions as TC_ACT_* values, devices as
ifindexes, a bpf action's program as cls_bpf's (clsbpf.Program). Imported only by lines
that have actions: a filter without them pays nothing for these records.
"""

from __future__ import annotations

from dataclasses import dataclass

from pybpftool.netlink.attrs import NLA_F_NESTED, asciiz, bitfield32, rtattr, u16, u32
from pybpftool.netlink.clsbpf import Program, program_attrs

# linux/pkt_cls.h: control actions (verdicts, and the opcodes that carry a value), the
# attributes of one action, and those of an action message (linux/rtnetlink.h TCA_ROOT_*).
TC_ACT_UNSPEC, TC_ACT_OK, TC_ACT_RECLASSIFY, TC_ACT_SHOT = -1, 0, 1, 2
TC_ACT_PIPE, TC_ACT_STOLEN, TC_ACT_TRAP = 3, 4, 8
TC_ACT_JUMP, TC_ACT_GOTO_CHAIN, TC_ACT_EXT_VAL_MASK = 0x10000000, 0x20000000, 0x0FFFFFFF
TCA_ACT_KIND, TCA_ACT_OPTIONS, TCA_ACT_INDEX, TCA_ACT_STATS = 1, 2, 3, 4
TCA_ACT_COOKIE, TCA_ACT_FLAGS, TCA_ACT_HW_STATS, TCA_ACT_USED_HW_STATS = 6, 7, 8, 9
TCA_ACT_IN_HW_COUNT = 10
TCA_ACT_MAX_PRIO = 32
TCA_ACT_FLAGS_NO_PERCPU_STATS, TCA_ACT_FLAGS_SKIP_HW, TCA_ACT_FLAGS_SKIP_SW = 1, 2, 4
TCA_ACT_HW_STATS_IMMEDIATE, TCA_ACT_HW_STATS_DELAYED = 1, 2
TCA_ROOT_TAB, TCA_ROOT_FLAGS, TCA_ROOT_COUNT, TCA_ROOT_TIME_DELTA = 1, 2, 3, 4
TCA_ACT_FLAG_LARGE_DUMP_ON, TCA_ACT_FLAG_TERSE_DUMP = 1, 2
# linux/tc_act/tc_mirred.h eaction, linux/tc_act/tc_gact.h random types.
TCA_EGRESS_REDIR, TCA_EGRESS_MIRROR, TCA_INGRESS_REDIR, TCA_INGRESS_MIRROR = 1, 2, 3, 4
PGACT_NETRAND, PGACT_DETERM = 1, 2
# Per kind (linux/tc_act/tc_*.h): the attributes of its options.
TCA_GACT_TM, TCA_GACT_PARMS, TCA_GACT_PROB = 1, 2, 3
TCA_ACT_BPF_TM, TCA_ACT_BPF_PARMS, TCA_ACT_BPF_OPS_LEN, TCA_ACT_BPF_OPS = 1, 2, 3, 4
TCA_ACT_BPF_FD, TCA_ACT_BPF_NAME, TCA_ACT_BPF_TAG, TCA_ACT_BPF_ID = 5, 6, 8, 9
TCA_MIRRED_TM, TCA_MIRRED_PARMS = 1, 2


@dataclass(frozen=True)
class GactProb:
    """GactProb: struct tc_gact_p {ptype (PGACT_NETRAND, PGACT_DETERM), pval, paction}."""

    ptype: int
    pval: int
    paction: int


@dataclass(frozen=True)
class Gact:
    """Gact: m_gact.c's options: struct tc_gact (its control action and index) and, with
    `random`, struct tc_gact_p."""

    action: int = TC_ACT_OK
    index: int = 0
    prob: GactProb | None = None


@dataclass(frozen=True)
class BpfAct:
    """BpfAct: m_bpf.c's options: the program (None: bind to the existing action `index`)
    and struct tc_act_bpf (control action, default pipe, and index)."""

    program: Program | None
    action: int = TC_ACT_PIPE
    index: int = 0


@dataclass(frozen=True)
class Mirred:
    """Mirred: m_mirred.c's options: struct tc_mirred {control action, index, eaction
    (TCA_EGRESS_REDIR ...), ifindex}."""

    eaction: int
    ifindex: int
    action: int
    index: int = 0


ActionOptions = Gact | BpfAct | Mirred
_KINDS: dict[type, str] = {Gact: "gact", BpfAct: "bpf", Mirred: "mirred"}


@dataclass(frozen=True)
class Action:
    """Action: one action of a list: its kind's options, then what m_action.c adds to any
    kind: a cookie (TCA_ACT_COOKIE, none if empty), hw_stats (a TCA_ACT_HW_STATS_* bit, 0
    for `disabled`; None: not sent) and TCA_ACT_FLAGS_* bits (none if 0)."""

    options: ActionOptions
    cookie: bytes = b""
    hw_stats: int | None = None
    flags: int = 0

    @property
    def kind(self) -> str:
        return _KINDS[type(self.options)]


@dataclass(frozen=True)
class ActionRef:
    """ActionRef: an existing action, by kind and index (`tc actions get|delete`): an index
    of 0 is not sent."""

    kind: str
    index: int


def _parms(index: int, action: int) -> bytes:
    """_parms: struct tc_gen, the head of every kind's parms: index, capab, action, refcnt,
    bindcnt (the last two are the kernel's to fill)."""
    return u32(index) + u32(0) + u32(action) + u32(0) + u32(0)


def _options(options: ActionOptions) -> bytes:
    if isinstance(options, Gact):
        payload = rtattr(TCA_GACT_PARMS, _parms(options.index, options.action))
        prob = options.prob
        if prob is not None:
            payload += rtattr(TCA_GACT_PROB, u16(prob.ptype) + u16(prob.pval) + u32(prob.paction))
        return payload
    if isinstance(options, BpfAct):
        payload = b""
        if options.program is not None:
            payload = program_attrs(
                options.program,
                TCA_ACT_BPF_OPS_LEN,
                TCA_ACT_BPF_OPS,
                TCA_ACT_BPF_FD,
                TCA_ACT_BPF_NAME,
            )
        return payload + rtattr(TCA_ACT_BPF_PARMS, _parms(options.index, options.action))
    parms = _parms(options.index, options.action) + u32(options.eaction) + u32(options.ifindex)
    return rtattr(TCA_MIRRED_PARMS, parms)


def action_attrs(action: Action) -> bytes:
    """action_attrs: one action's attributes in parse_action's order: KIND, OPTIONS (nested),
    COOKIE, HW_STATS, FLAGS."""
    payload = rtattr(TCA_ACT_KIND, asciiz(action.kind))
    payload += rtattr(TCA_ACT_OPTIONS | NLA_F_NESTED, _options(action.options))
    if action.cookie:
        payload += rtattr(TCA_ACT_COOKIE, action.cookie)
    if action.hw_stats is not None:
        payload += rtattr(TCA_ACT_HW_STATS, bitfield32(action.hw_stats, action.hw_stats))
    if action.flags:
        payload += rtattr(TCA_ACT_FLAGS, bitfield32(action.flags, action.flags))
    return payload


def action_tab(actions: tuple[Action, ...] | list[Action]) -> bytes:
    """action_tab: the payload of TCA_ACT_TAB or TCA_BPF_ACT: one nest per action, numbered
    from 1 (its order)."""
    return b"".join(rtattr(order, action_attrs(a)) for order, a in enumerate(actions, 1))


def ref_tab(refs: list[ActionRef]) -> bytes:
    """ref_tab: the TCA_ACT_TAB payload of tc_action_gd(): KIND and INDEX (when not 0)."""
    nests = b""
    for order, ref in enumerate(refs, 1):
        payload = rtattr(TCA_ACT_KIND, asciiz(ref.kind))
        if ref.index > 0:
            payload += rtattr(TCA_ACT_INDEX, u32(ref.index))
        nests += rtattr(order, payload)
    return nests


def dump_attrs(kind: str, flags: int, since: int) -> list[tuple[int, bytes]]:
    """dump_attrs: the TCA_ROOT_* attributes of tc_act_list_or_flush(): the kind (in a nest
    of its own), the TCA_ACT_FLAG_* dump flags, and the age limit in ms (0: none)."""
    attrs = [
        (TCA_ROOT_TAB, rtattr(1, rtattr(TCA_ACT_KIND, asciiz(kind)))),
        (TCA_ROOT_FLAGS, bitfield32(flags, flags)),
    ]
    if since:
        attrs.append((TCA_ROOT_TIME_DELTA, u32(since)))
    return attrs
