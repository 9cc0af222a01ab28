"""actparse: tc's action grammar and the encoding of action requests, byte for byte as tc 6.1
builds them: m_action.c parse_action() with its argv walker (NEXT_ARG, NEXT_ARG_FWD), and the
kinds pybpftool knows: gact (m_gact.c), bpf (m_bpf.c) and mirred (m_mirred.c).

Pure functions, unit-tested against captured tc requests; `pytc actions` (actions.py) and
the actions inside filters (action.py, chain.py templates) use them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pybpftool.cli.common.grammar import IprouteExit, matches
from pybpftool.cli.common.process import Process
from pybpftool.cli.common.usage import GACT_USAGE
from pybpftool.cli.common.words import Words
from pybpftool.cscan import c_unsigned

# linux/pkt_cls.h: verdicts and the extended opcodes of a control action.
TC_ACT_UNSPEC, TC_ACT_OK, TC_ACT_RECLASSIFY, TC_ACT_SHOT = -1, 0, 1, 2
TC_ACT_PIPE, TC_ACT_STOLEN, TC_ACT_TRAP = 3, 4, 8
TC_ACT_JUMP, TC_ACT_GOTO_CHAIN, TC_ACT_EXT_VAL_MASK = 0x10000000, 0x20000000, 0x0FFFFFFF
# TCA_ACT_* (one action) and its flags.
TCA_ACT_KIND, TCA_ACT_OPTIONS, TCA_ACT_INDEX, TCA_ACT_COOKIE = 1, 2, 3, 6
TCA_ACT_FLAGS, TCA_ACT_HW_STATS = 7, 8
NLA_F_NESTED = 0x8000
TCA_ACT_FLAGS_NO_PERCPU_STATS, TCA_ACT_FLAGS_SKIP_HW, TCA_ACT_FLAGS_SKIP_SW = 1, 2, 4
HW_STATS = (("immediate", 1), ("delayed", 2), ("disabled", 0))
TC_COOKIE_MAX_SIZE = 16
# Per kind: TCA_<KIND>_PARMS. mirred's eaction values (tc_mirred.h).
TCA_GACT_PARMS, TCA_GACT_PROB = 2, 3
TCA_ACT_BPF_PARMS, TCA_ACT_BPF_OPS_LEN, TCA_ACT_BPF_OPS = 2, 3, 4
TCA_ACT_BPF_FD, TCA_ACT_BPF_NAME = 5, 6
TCA_MIRRED_PARMS = 2
TCA_EGRESS_REDIR, TCA_EGRESS_MIRROR, TCA_INGRESS_REDIR, TCA_INGRESS_MIRROR = 1, 2, 3, 4
PGACT_NETRAND, PGACT_DETERM = 1, 2
# The action kinds tc 6.1 finds (m_*.c linked in, m_xt.so); any other word is gact to it.
_TC_KINDS = "bpf connmark csum ct ctinfo gact gate ife mirred mpls nat pedit police sample "
TC_ACTION_KINDS = frozenset((_TC_KINDS + "simple skbedit skbmod tunnel_key vlan xt").split())
FILTER_NAMESZ = 16

# m_bpf.c explain(), with its default section filled in.
ACT_BPF_USAGE = """\
Usage: ... bpf ... [ index INDEX ]

BPF use case:
 bytecode BPF_BYTECODE
 bytecode-file FILE

eBPF use case:
 object-file FILE [ section ACT_NAME ] [ export UDS_FILE ] [ verbose ]
 object-pinned FILE

Where BPF_BYTECODE := 's,c t f k,c t f k,c t f k,...'
c,t,f,k and s are decimals; s denotes number of 4-tuples

Where FILE points to a file containing the BPF_BYTECODE string,
an ELF file containing eBPF map definitions and bytecode, or a
pinned eBPF program.

Where ACT_NAME refers to the section name containing the
action (default 'action').

Where UDS_FILE points to a unix domain socket file in order
to hand off control of all created eBPF maps to an agent.

Where optionally INDEX points to an existing action, or
explicitly specifies an action index upon creation."""

MIRRED_USAGE = """\
Usage: mirred <DIRECTION> <ACTION> [index INDEX] <dev DEVICENAME>
where:
\tDIRECTION := <ingress | egress>
\tACTION := <mirror | redirect>
\tINDEX  is the specific policy instance id
\tDEVICENAME is the devicename"""


# --- attribute encoding (lib/libnetlink.c addattr_l / addattr_nest, native byte order) ---


def rtattr(kind: int, payload: bytes) -> bytes:
    """rtattr: one attribute: header (unpadded length), payload, zero padding to 4 bytes."""
    size = 4 + len(payload)
    head = size.to_bytes(2, sys.byteorder) + kind.to_bytes(2, sys.byteorder)
    return head + payload + bytes(-size % 4)


def u32(value: int) -> bytes:
    return (value & 0xFFFFFFFF).to_bytes(4, sys.byteorder)


def tc_gen(index: int, action: int) -> bytes:
    """tc_gen: struct tc_gen's head of every action's parms: index, capab, action, refcnt,
    bindcnt (the last two are the kernel's to fill)."""
    return u32(index) + u32(0) + u32(action) + u32(0) + u32(0)


def bitfield32(value: int, selector: int) -> bytes:
    return u32(value) + u32(selector)


class ParseFailed(Exception):
    """ParseFailed: a parser returned -1; what tc prints on the way has been printed.
    `moved`: the parser had already handed back its position (m_bpf.c's failed export)."""

    def __init__(self, moved: bool = False) -> None:
        super().__init__()
        self.moved = moved


def say(*lines: str) -> None:
    """say: messages tc prints and then goes on (stderr, names made terminal-safe)."""
    from pybpftool.cli.common.frontend import write_lines

    write_lines([part for line in lines for part in line.split("\n")])


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


@dataclass
class ParseSession:
    """ParseSession: what parsing a line opened: programs loaded for bpf actions (pending in
    one LoadGroup, committed around the request once parsing is done, else discarded) and
    the netlink socket for devices."""

    nl: Any = None
    loads: list[Any] = field(default_factory=list)
    cookie: bytes = b""  # parse_action's act_ck: tc never clears it between actions
    exports: list[tuple[Any, Any]] = field(default_factory=list)  # (source, prepared)
    process: Process = field(default_factory=Process)  # the run's: confines in a console
    group: Any = None  # loader.publish.LoadGroup, made by the first bpf action
    # The files every bpf action of the line names (bpfsource.named_files), all readable once
    # the first action's load has entered the sandbox.
    named: list[str] = field(default_factory=list)

    def discard(self) -> None:
        for load in self.loads:
            load.discard()
        self.loads.clear()

    def commit(self, send: Callable[[], None]) -> None:
        """commit: publish the loads' pins around `send` (the request built with their fd
        numbers, which a commit keeps); all undone if it raises."""
        try:
            if self.group is not None:
                self.group.commit(send)
            else:
                send()
        except BaseException:
            self.discard()
            raise
        for load in self.loads:
            load.close()
        self.loads.clear()


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


def parse_gact(av: Words, session: ParseSession) -> bytes:
    """parse_gact: m_gact.c parse_gact (CONFIG_GACT_PROB): CONTROL [random TYPE CONTROL VAL]
    [index N], or just `index N` (an existing action); returns the TCA_ACT_OPTIONS payload."""
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
    return _gact_options(index, action, prob)


def _gact_random(av: Words) -> bytes:
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
    pval = ptype.to_bytes(2, sys.byteorder) + value.to_bytes(2, sys.byteorder)
    return pval + u32(paction)


def _gact_options(index: int, action: int, prob: bytes | None) -> bytes:
    payload = rtattr(TCA_GACT_PARMS, tc_gen(index, action))
    if prob is not None:
        payload += rtattr(TCA_GACT_PROB, prob)
    return payload


def parse_bpf(av: Words, session: ParseSession) -> bytes:
    """parse_bpf: m_bpf.c bpf_parse_opt: [run] MODE (loaded at once, as type sched_act,
    default section `action`), CONTROL (default pipe), [index N]."""
    av.next_arg()
    payload = b""
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
        payload += _bpf_mode(av, session)
    action = parse_control(av, quiet=True)
    index = 0
    if av.argc > 0 and matches(av.word(), "index"):
        index = _index(av, "bpf: ")
        av.fwd()
    payload += rtattr(TCA_ACT_BPF_PARMS, tc_gen(index, TC_ACT_PIPE if action is None else action))
    while session.exports:
        _export_maps(*session.exports.pop(0))
    return payload


def _bpf_mode(av: Words, session: ParseSession) -> bytes:
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


def _bpf_program(source: Any, session: ParseSession) -> bytes:
    """_bpf_program: the program attributes of a bpf action: OPS_LEN + OPS for classic BPF,
    FD + NAME for a loaded or pinned program."""
    from pybpftool.cli.common.attach import prepare
    from pybpftool.cli.common.failures import load_failure_text
    from pybpftool.cli.tc import cbpf
    from pybpftool.errors import PyBpfError

    if source.mode.startswith("bytecode"):
        try:
            text = source.path
            if source.mode == "bytecode-file":
                text = cbpf.read_bytecode_file(source.path)
            ops = cbpf.parse_bytecode(text)
        except IprouteExit as err:
            lines = err.message.split("\n")[:-1]  # not f_bpf's "Unable to parse" line
            say(*lines)
            raise ParseFailed from None
        length = len(ops).to_bytes(2, sys.byteorder)
        return rtattr(TCA_ACT_BPF_OPS_LEN, length) + rtattr(TCA_ACT_BPF_OPS, cbpf.encode(ops))
    from pybpftool.cli.common.attach import confine_first

    if session.group is None:
        from pybpftool.cli.common.attach import new_group

        session.group = new_group()
    confine_first([*session.named, source.path], session.process)
    try:
        # BPF_PROG_TYPE_SCHED_ACT
        prepared = prepare(source, 4, "action", "tc", session.process, session.group)
    except PyBpfError as err:
        say(*load_failure_text(err).split("\n"))
        raise ParseFailed from None
    session.loads.append(prepared)
    if source.export or _uds_env():
        session.exports.append((source, prepared))  # sent once the action is parsed
    name = prepared.annotation.encode() + b"\0"
    return rtattr(TCA_ACT_BPF_FD, u32(int(prepared.fd))) + rtattr(TCA_ACT_BPF_NAME, name)


def _uds_env() -> str | None:
    return os.environ.get("TC_BPF_UDS")


def _export_maps(source: Any, prepared: Any) -> None:
    from pybpftool.cli.tc.filterprog import export_maps

    try:
        export_maps(source, prepared)
    except IprouteExit as err:
        say(err.message)
        raise ParseFailed(moved=True) from None


def parse_mirred(av: Words, session: ParseSession) -> bytes:
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
        found = session.nl.link_index(state.dev)
        if found is None:
            say(f'Cannot find device "{state.dev}"')
            raise ParseFailed
        ifindex = found
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
    parms = tc_gen(index, action) + u32(state.eaction) + u32(ifindex)
    return rtattr(TCA_MIRRED_PARMS, parms)


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
                which = "egress" if not self.egress and matches(word, "egress") else "ingress"
                if which == "egress":
                    self.egress = True
                else:
                    self.ingress = True
                if self.egress and self.ingress:
                    other = "ingress" if which == "egress" else "egress"
                    say(f"Can't have both {which} and {other}")
                    raise ParseFailed
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


PARSERS = {"gact": parse_gact, "bpf": parse_bpf, "mirred": parse_mirred}


def action_kind(word: str) -> str:
    """action_kind: get_action_kind(): the kind tc uses for `word` (its first 15 bytes);
    a kind tc has no module for is gact (tc even overwrites the caller's copy)."""
    kind = word[: FILTER_NAMESZ - 1]
    return kind if kind in TC_ACTION_KINDS else "gact"


def _new_cmd(word: str) -> bool:
    return any(matches(word, verb) for verb in ("change", "replace", "delete", "get", "add"))


def parse_action(av: Words, session: ParseSession) -> list[bytes]:
    """parse_action: m_action.c parse_action(): the prio nests of TCA_ACT_TAB; stops at
    flowid/classid and at the next command word. ParseFailed after tc's messages."""
    if av.argc <= 0:
        raise ParseFailed
    nests: list[bytes] = []
    eap = 0
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
            if nests:
                break
            return nests
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
        nests.append(rtattr(len(nests) + 1, _one_action(kind, options, av, session)))
    if eap > 0:
        say(f"bad action empty {eap}")
        _bad_value(av)
    return nests


def _bad_value(av: Words) -> None:
    say(f"parse_action: bad value ({av.argc}:{av.cur if av.cur is not None else '(null)'})!")
    raise ParseFailed


def _one_action(kind: str, options: bytes, av: Words, session: ParseSession) -> bytes:
    """_one_action: KIND, OPTIONS, then what follows any action: cookie, hw_stats,
    no_percpu, skip_sw/skip_hw (read twice, so in either order)."""
    payload = rtattr(TCA_ACT_KIND, kind.encode() + b"\0")
    payload += rtattr(TCA_ACT_OPTIONS | NLA_F_NESTED, options)
    if av.cur == "cookie":
        text = av.next_arg()
        if len(text) > TC_COOKIE_MAX_SIZE * 2:
            raise invarg(f"{len(text)} Max allowed size {TC_COOKIE_MAX_SIZE * 2}", text)
        if len(text) % 2 or not _hex(text):
            raise invarg("cookie must be a hex string\n", text)
        session.cookie = bytes.fromhex(text)  # an empty one clears it
        av.fwd()
    if session.cookie:
        payload += rtattr(TCA_ACT_COOKIE, session.cookie)
    if av.cur is not None and matches(av.word(), "hw_stats"):
        text = av.next_arg()
        hit = next((bit for name, bit in HW_STATS if matches(text, name)), None)
        if hit is None:
            raise invarg("value is invalid\n", text)
        payload += rtattr(TCA_ACT_HW_STATS, bitfield32(hit, hit))
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
    if flags:
        payload += rtattr(TCA_ACT_FLAGS, bitfield32(flags, flags))
    return payload


def _hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def invarg(message: str, arg: str) -> IprouteExit:
    return IprouteExit(f'Error: argument "{arg}" is wrong: {message}', 255)
