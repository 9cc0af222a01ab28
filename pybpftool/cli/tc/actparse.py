"""actparse: tc's one action grammar, as tc 6.1 reads it wherever actions are given: in
`tc actions add|change|replace`, after `action` in a bpf filter and in a chain template.
m_action.c parse_action() and the kinds pybpftool knows: gact (m_gact.c), bpf (m_bpf.c)
and mirred (m_mirred.c); any other word is gact to tc, and so here.

    ACTIONS := [action] ACTION [[action] ACTION]...    (to flowid, classid, a command word
    ACTION  := KIND PARAMS [cookie HEX] [hw_stats TYPE] [no_percpu] [skip_sw|skip_hw]  or the end)
    KIND    := gact | CONTROL | bpf | mirred

The result is a list of netlink.actions.Action records; netlink/ encodes them. A bpf
action's program is loaded while the line is read, as tc loads it; the caller commits
those loads once the kernel took the request (ParseSession). Messages are tc's: those it
prints and goes on are said at once, and a failed parse raises ParseFailed after them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pybpftool.cli.common.failures import no_device
from pybpftool.cli.common.frontend import say
from pybpftool.cli.common.grammar import IprouteExit, matches
from pybpftool.cli.common.usage import ACT_BPF_USAGE, GACT_USAGE, MIRRED_USAGE
from pybpftool.cli.common.words import Words, invarg
from pybpftool.cli.tc.filterprog import ParseFailed, ParseSession
from pybpftool.cscan import c_unsigned
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
    TCA_ACT_FLAGS_NO_PERCPU_STATS,
    TCA_ACT_FLAGS_SKIP_HW,
    TCA_ACT_FLAGS_SKIP_SW,
    TCA_ACT_HW_STATS_DELAYED,
    TCA_ACT_HW_STATS_IMMEDIATE,
    TCA_EGRESS_MIRROR,
    TCA_EGRESS_REDIR,
    TCA_INGRESS_MIRROR,
    TCA_INGRESS_REDIR,
    Action,
    ActionOptions,
    BpfAct,
    Gact,
    GactProb,
    Mirred,
)
from pybpftool.netlink.clsbpf import ClassicProgram, Program, ProgramFd

HW_STATS = (
    ("immediate", TCA_ACT_HW_STATS_IMMEDIATE),
    ("delayed", TCA_ACT_HW_STATS_DELAYED),
    ("disabled", 0),
)
TC_COOKIE_MAX_SIZE = 16
# The action kinds tc 6.1 finds (m_*.c linked in, m_xt.so); any other word is gact to it.
_TC_KINDS = "bpf connmark csum ct ctinfo gact gate ife mirred mpls nat pedit police sample "
TC_ACTION_KINDS = frozenset((_TC_KINDS + "simple skbedit skbmod tunnel_key vlan xt").split())
FILTER_NAMESZ = 16


def action_a2n(word: str | None) -> int | None:
    """action_a2n: tc_util.c's control words, matched by prefix in its order."""
    if not word:
        return None
    for name, value in (
        ("continue", TC_ACT_UNSPEC),
        ("drop", TC_ACT_SHOT),
        ("shot", TC_ACT_SHOT),
        ("pass", TC_ACT_OK),
        ("ok", TC_ACT_OK),
        ("reclassify", TC_ACT_RECLASSIFY),
        ("pipe", TC_ACT_PIPE),
        ("goto", TC_ACT_GOTO_CHAIN),
        ("jump", TC_ACT_JUMP),
        ("trap", TC_ACT_TRAP),
    ):
        if matches(word, name):
            return value
    return None


def parse_control(av: Words, quiet: bool) -> int | None:
    """parse_control: __parse_action_control: a control word (`goto chain N`, `jump N`
    included); None where tc returns -1 (`av` then unmoved, the miss told unless quiet)."""
    if av.argc <= 0:
        return None
    start = av.pos
    result = action_a2n(av.cur)
    if result is None:
        if not quiet:
            say(f"Bad action type {av.word()}")
        return None
    if result == TC_ACT_GOTO_CHAIN:
        if not matches(av.next_arg(), "chain"):
            av.pos = start
            say('"chain index" expected')
            return None
        chain = c_unsigned(av.next_arg(), 10)
        if chain is None or chain > TC_ACT_EXT_VAL_MASK:
            av.pos = start
            say('Illegal "chain index"')
            return None
        result |= chain
    elif result == TC_ACT_JUMP:
        count = c_unsigned(av.next_arg(), 10)
        if count is None or count > TC_ACT_EXT_VAL_MASK:
            say(f'Invalid "jump count" ({av.word()})')
            av.pos = start
            return None
        result |= count
    av.fwd()
    return result


def _usage(text: str) -> IprouteExit:
    return IprouteExit(text, 255, fatal=True)  # the kinds' usage(): explain() then exit(-1)


def _index(av: Words, who: str) -> int:
    """_index: the number after the `index` at hand, or tc's `<who>Illegal "index"` and a
    parse failure; the caller moves past it (at once, or as its loop goes)."""
    value = c_unsigned(av.next_arg(), 10)
    if value is None:
        say(f'{who}Illegal "index"')
        raise ParseFailed
    return value


def parse_gact(av: Words, session: ParseSession) -> Gact:
    """parse_gact: m_gact.c parse_gact (CONFIG_GACT_PROB): CONTROL [random TYPE CONTROL VAL]
    [index N], or just `index N` (an existing action)."""
    if matches(av.word(), "gact"):
        av.next_arg()
    action, prob, index = TC_ACT_OK, None, 0
    bind_only = matches(av.word(), "index")
    if not bind_only:
        parsed = parse_control(av, quiet=False)
        if parsed is None:
            raise _usage(GACT_USAGE)
        action = parsed
        if av.argc > 0 and matches(av.word(), "random"):
            prob = _gact_random(av)
        elif av.argc > 0 and matches(av.word(), "help"):
            raise _usage(GACT_USAGE)
    if bind_only or (av.argc > 0 and matches(av.word(), "index")):
        index = _index(av, "")
        av.fwd()
    elif av.argc > 0 and matches(av.word(), "help"):
        raise _usage(GACT_USAGE)
    return Gact(action, index, prob)


def _gact_random(av: Words) -> GactProb:
    kind_word = av.next_arg()
    if matches(kind_word, "netrand"):
        ptype = PGACT_NETRAND
    elif matches(kind_word, "determ"):
        ptype = PGACT_DETERM
    else:
        say('Illegal "random type"')
        raise ParseFailed
    av.next_arg()
    paction = parse_control(av, quiet=False)
    if paction is None:
        raise _usage(GACT_USAGE)
    value = c_unsigned(av.cur, 10, 0xFFFF)
    if value is None:
        # tc prints the field it failed to fill: stack garbage, 0x1000 in every tc 6.1 run
        # observed (this build, any command line, -batch or not)
        say("Illegal probability val 0x1000")
        raise ParseFailed
    if value > 10000:
        say(f"Illegal probability val  0x{value:x}")
        raise ParseFailed
    av.fwd()
    return GactProb(ptype, value, paction)


def parse_bpf(av: Words, session: ParseSession) -> BpfAct:
    """parse_bpf: m_bpf.c bpf_parse_opt: [run] MODE (loaded at once, as type sched_act,
    default section `action`), CONTROL (default pipe), [index N]."""
    av.next_arg()
    program = None
    seen_run = False
    while av.argc > 0:
        word = av.word()
        if matches(word, "run"):
            second = av.next_arg()
            if seen_run:
                raise IprouteExit(f'Error: duplicate "run": "{second}" is the second value.', 255)
        elif matches(word, "help"):
            say(ACT_BPF_USAGE)
            raise ParseFailed
        elif matches(word, "index") or seen_run:
            break  # `index`, or what follows the program
        seen_run = True
        program = _bpf_mode(av, session)
    action = parse_control(av, quiet=True)
    index = 0
    if av.argc > 0 and matches(av.word(), "index"):
        index = _index(av, "bpf: ")
        av.fwd()
    while session.exports:
        _export_maps(*session.exports.pop(0))
    return BpfAct(program, TC_ACT_PIPE if action is None else action, index)


def _bpf_mode(av: Words, session: ParseSession) -> Program:
    """_bpf_mode: bpf_parse_and_load_common: MODE and its options, then the program."""
    from pybpftool.cli.common.bpfsource import parse_mode

    try:
        source = parse_mode(av, allow_bytecode=True, allow_type=False)
    except IprouteExit as err:
        if err.fatal:
            raise  # tc exit()ed inside bpf_parse
        say(err.message)  # What mode is "X"?
        raise ParseFailed from None
    return _bpf_program(source, session)


def _bpf_program(source: Any, session: ParseSession) -> Program:
    """_bpf_program: the program of a bpf action: classic BPF instructions, or a program
    loaded (or opened from its pin) now."""
    from pybpftool.cli.common.failures import load_failure_text
    from pybpftool.cli.tc import cbpf
    from pybpftool.errors import PyBpfError

    if source.mode.startswith("bytecode"):
        try:
            text = source.path
            if source.mode == "bytecode-file":
                text = cbpf.read_bytecode_file(source.path)
            return ClassicProgram(cbpf.encode(cbpf.parse_bytecode(text)))
        except IprouteExit as err:
            lines = err.message.split("\n")[:-1]  # not f_bpf's "Unable to parse" line
            say(*lines)
            raise ParseFailed from None
    if session.dry:
        return ProgramFd(-1, "")  # a delete or get: never loaded, never sent
    from pybpftool.uapi import BpfProgType  # loaded with the loader in any case

    try:
        prepared = session.prepare(source, BpfProgType.BPF_PROG_TYPE_SCHED_ACT, "action")
    except PyBpfError as err:
        say(*load_failure_text(err).split("\n"))
        raise ParseFailed from None
    if source.export or os.environ.get("TC_BPF_UDS"):
        session.exports.append((source, prepared))  # sent once the action is parsed
    return ProgramFd(int(prepared.fd), prepared.annotation)


def _export_maps(source: Any, prepared: Any) -> None:
    from pybpftool.cli.tc.filterprog import export_maps

    try:
        export_maps(source, prepared)
    except IprouteExit as err:
        say(err.message)
        raise ParseFailed(moved=True) from None


def parse_mirred(av: Words, session: ParseSession) -> Mirred:
    """parse_mirred: m_mirred.c parse_mirred and parse_direction: {egress|ingress}
    {mirror|redirect} [index N] dev DEV, then (mirror) a control word and [index N]."""
    word = av.next_arg()
    if matches(word, "help"):
        raise _usage(MIRRED_USAGE)
    if not (matches(word, "egress") or matches(word, "ingress") or matches(word, "index")):
        say(f"mirred option not supported {word}")
        raise ParseFailed
    state = _Mirred()
    state.direction_loop(av)
    if not state.ok and not state.iok:
        raise ParseFailed
    ifindex = 0
    if state.dev:
        from pybpftool.cli.common.ifnames import name_to_index

        ifindex = name_to_index(session.nl, state.dev)  # ll_name_to_index(): `ifN` too
        if not ifindex:
            say(no_device(state.dev))
            raise ParseFailed
    action = state.action
    if state.eaction in (TCA_EGRESS_MIRROR, TCA_INGRESS_MIRROR):
        control = parse_control(av, quiet=True)
        action = TC_ACT_PIPE if control is None else control
    index = state.index
    if av.argc > 0:
        if state.iok and matches(av.word(), "index"):
            say("mirred: Illegal double index")
            raise ParseFailed
        if matches(av.word(), "index"):
            index = _index(av, "mirred: ")
            av.fwd()
    return Mirred(state.eaction, ifindex, action, index)


@dataclass
class _Mirred:
    """_Mirred: parse_direction's locals."""

    ok: int = 0
    iok: int = 0
    egress: bool = False
    ingress: bool = False
    mirror: bool = False
    redir: bool = False
    eaction: int = 0
    action: int = 0
    index: int = 0
    dev: str = ""

    def direction_loop(self, av: Words) -> None:
        while av.argc > 0:
            word = av.word()
            if matches(word, "action"):
                av.next_arg()
                break
            if (not self.egress and matches(word, "egress")) or (
                not self.ingress and matches(word, "ingress")
            ):
                self._direction(matches(word, "egress") and not self.egress)
                av.next_arg()
                self.ok += 1
                continue
            if matches(word, "index"):
                self.index = _index(av, "")
                self.iok += 1
                if not self.ok:
                    av.fwd()
                    break
            elif not self.ok:
                say(f"was expecting egress or ingress ({word})")
                break
            elif (not self.mirror and matches(word, "mirror")) or (
                not self.redir and matches(word, "redirect")
            ):
                self._verb(word)
            elif (self.redir or self.mirror) and matches(word, "dev"):
                name = av.next_arg()
                if self.dev:
                    raise IprouteExit(f'Error: duplicate "dev": "{name}" is the second value.', 255)
                self.dev = name[: FILTER_NAMESZ - 1]
                av.fwd()
                break
            av.next_arg()

    def _direction(self, egress: bool) -> None:
        """_direction: `egress` or `ingress`, each once, never both."""
        if egress:
            self.egress = True
        else:
            self.ingress = True
        if self.egress and self.ingress:
            first, second = ("egress", "ingress") if egress else ("ingress", "egress")
            say(f"Can't have both {first} and {second}")
            raise ParseFailed

    def _verb(self, word: str) -> None:
        mirror = not self.mirror and matches(word, "mirror")
        if (mirror and self.redir) or (not mirror and self.mirror):
            say("Can't have both mirror and redir")
            raise ParseFailed
        if mirror:
            self.mirror = True
            self.eaction = TCA_EGRESS_MIRROR if self.egress else TCA_INGRESS_MIRROR
            self.action = TC_ACT_PIPE
        else:
            self.redir = True
            self.eaction = TCA_EGRESS_REDIR if self.egress else TCA_INGRESS_REDIR
            self.action = TC_ACT_STOLEN
        self.ok += 1


PARSERS: dict[str, Callable[[Words, ParseSession], ActionOptions]] = {
    "gact": parse_gact,
    "bpf": parse_bpf,
    "mirred": parse_mirred,
}


def action_kind(word: str) -> str:
    """action_kind: get_action_kind(): the kind tc uses for `word` (its first 15 bytes);
    a kind tc has no module for is gact (tc even overwrites the caller's copy)."""
    kind = word[: FILTER_NAMESZ - 1]
    return kind if kind in TC_ACTION_KINDS else "gact"


def _new_cmd(word: str) -> bool:
    return any(matches(word, verb) for verb in ("change", "replace", "delete", "get", "add"))


def parse_action(av: Words, session: ParseSession) -> list[Action]:
    """parse_action: m_action.c parse_action(): the actions up to flowid/classid, the next
    command word or the end. ParseFailed after tc's messages."""
    if av.argc <= 0:
        raise ParseFailed
    actions: list[Action] = []
    eap = 0
    cookie = b""  # act_ck: tc never clears it between the actions of one list
    while av.argc > 0:
        word = av.word()
        if word == "action":
            av.fwd()
            eap = 1
            continue
        if word in ("flowid", "classid"):
            break
        if word == "help":
            raise ParseFailed
        if _new_cmd(word):
            break
        kind = "gact" if action_a2n(word) is not None else action_kind(word)
        eap = 0
        start = av.pos
        parse = PARSERS.get(kind)
        if parse is None:
            raise IprouteExit(f'pytc actions: action "{kind}" is not implemented by pytc.', 255)
        try:
            options = parse(av, session)
        except ParseFailed as failed:
            if not failed.moved:
                av.pos = start
            say("bad action parsing")
            _bad_value(av)
        cookie = _cookie(av, cookie)
        actions.append(_with_common_options(options, cookie, av))
    if eap > 0:
        say(f"bad action empty {eap}")
        _bad_value(av)
    return actions


def _bad_value(av: Words) -> None:
    say(f"parse_action: bad value ({av.argc}:{av.cur if av.cur is not None else '(null)'})!")
    raise ParseFailed


def _cookie(av: Words, cookie: bytes) -> bytes:
    """_cookie: `cookie HEX` after an action (an empty one clears it), else the one before."""
    if av.cur != "cookie":
        return cookie
    text = av.next_arg()
    if len(text) > TC_COOKIE_MAX_SIZE * 2:
        raise invarg(f"{len(text)} Max allowed size {TC_COOKIE_MAX_SIZE * 2}", text)
    if len(text) % 2 or not all(c in "0123456789abcdefABCDEF" for c in text):
        raise invarg("cookie must be a hex string\n", text)
    av.fwd()
    return bytes.fromhex(text)


def _with_common_options(options: ActionOptions, cookie: bytes, av: Words) -> Action:
    """_with_common_options: what follows any action: hw_stats, no_percpu, then skip_sw
    and skip_hw (read twice, so in either order)."""
    hw_stats = None
    if av.cur is not None and matches(av.word(), "hw_stats"):
        text = av.next_arg()
        hw_stats = next((bit for name, bit in HW_STATS if matches(text, name)), None)
        if hw_stats is None:
            raise invarg("value is invalid\n", text)
        av.fwd()
    flags = 0
    if av.cur == "no_percpu":
        flags |= TCA_ACT_FLAGS_NO_PERCPU_STATS
        av.fwd()
    for _ in range(2):
        if av.cur == "skip_sw":
            flags |= TCA_ACT_FLAGS_SKIP_SW
            av.fwd()
        elif av.cur == "skip_hw":
            flags |= TCA_ACT_FLAGS_SKIP_HW
            av.fwd()
    return Action(options, cookie, hw_stats, flags)
