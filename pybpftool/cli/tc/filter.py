"""filter: `pytc filter ...` for cls_bpf (tc/tc_filter.c, f_bpf.c).

    tc filter {add|change|replace|delete} [dev DEV] [root|ingress|egress|parent H]
              [handle H] [pref P] [protocol P] [chain N] [bpf BPFOPTS]
    tc filter get dev DEV {root|ingress|egress|parent H} pref P protocol P handle H
              [chain N] bpf
    tc filter {show|list} [dev DEV] [root|ingress|egress|parent H] [pref P] [protocol P]
              [chain N]
    BPFOPTS (any order, each word matched by prefix in this order): run MODE | classid|flowid X:Y
              | direct-action|da | skip_hw | skip_sw | action ACTIONS | police ... | help;
              a word that is none of these is the MODE when none was given yet (so
              `bpf da obj f.o` and `bpf obj f.o da` both work). ACTIONS is tc's action
              grammar (actparse.py), as in `tc actions add`.

The selector words are parsed as each of tc's three loops does (modify, get, list: their
messages differ). The device is resolved before the bpf options (iproute2's order); the
programs of bpf actions are loaded as their words are read, the filter's own object after
the whole option loop, all pending in one LoadGroup committed around the netlink request
(loader/publish.py): undone if the kernel then refuses the filter. A filter with actions is
sent with tc's own attributes (netlink.clsbpf). `get` and `delete` never load the objects
they name (tc does; pytc.8 DIFFERENCES). The bpf options are read in bpfopts.py; `get`
and `show` are in filterlist.py.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from pybpftool.cli.common.grammar import IprouteExit, matches
from pybpftool.cli.common.ifnames import FILTER_NAMESZ, name_to_index, strncpy, tc_dev_name
from pybpftool.cli.common.usage import FILTER_USAGE
from pybpftool.cli.common.words import Words, duparg, invarg
from pybpftool.cli.tc.handles import PARENTS, tc_classid_value
from pybpftool.cscan import c_unsigned
from pybpftool.errors import NetlinkFailure
from pybpftool.netlink.uapi import (
    ETH_P_ALL,
    TC_FILTER_FLAGS,
    TCA_BPF_FLAG_ACT_DIRECT,
    TCA_CLS_FLAGS_SKIP_HW,
    TCA_CLS_FLAGS_SKIP_SW,
)

if TYPE_CHECKING:
    from pybpftool.cli.common.attach import Prepared
    from pybpftool.cli.common.bpfsource import BpfSource
    from pybpftool.cli.common.context import FilterListed, RunContext
    from pybpftool.cli.tc.filterprog import ParseSession
    from pybpftool.netlink.clsbpf import ActionList, ClsBpfOptions

NETLINK_COMMAND = {"add": "add-filter", "change": "change-filter", "replace": "replace-filter"}
# tc_filter.c do_filter(): the netlink flags of each modifying verb.
# The classifiers tc 6.1 has an f_*.c parser for; any other kind is tc's generic one.
_TC_FILTER_KINDS = "basic cgroup flow flower fw matchall route rsvp rsvp6 tcindex u32"
TC_FILTER_KINDS = frozenset(_TC_FILTER_KINDS.split())
# The verbs, for shell completion (cli/bpftool/complete.py); dispatch follows tc's order below.
FILTER_COMMANDS = ("add", "delete", "change", "replace", "get", "show", "list", "lst", "help")


class FilterRequest:
    """FilterRequest: one `tc filter` command line, parsed (filled in as its words are read).

    A plain class, not a dataclass: `pytc filter show` would import dataclasses (with
    inspect and ast) for it alone."""

    def __init__(
        self,
        command: str,
        dev: str | None = None,
        block: int | None = None,
        parent: int = 0,
        handle_text: str | None = None,
        handle: int | None = None,
        prio: int = 0,
        protocol: int = 0,
        protocol_set: bool = False,
        chain: int | None = None,
        kind: str | None = None,
        source: BpfSource | None = None,
        given: list[int | ActionList] | None = None,
        direct_action: bool = False,
        skip_hw: bool = False,
        skip_sw: bool = False,
    ) -> None:
        self.command = command
        self.dev = dev
        self.block = block
        self.parent = parent  # tcm_parent; 0 = none given
        self.handle_text = handle_text  # parsed by the kind (bpf: C base 0)
        self.handle = handle
        self.prio = prio
        self.protocol = protocol  # host order; 0 = none given (add/replace: ETH_P_ALL)
        self.protocol_set = protocol_set
        self.chain = chain
        self.kind = kind
        self.source = source
        # the class ids and action lists, in the line's order (netlink.clsbpf.ClsBpfOptions)
        self.given: list[int | ActionList] = [] if given is None else given
        self.direct_action = direct_action
        self.skip_hw = skip_hw
        self.skip_sw = skip_sw

    @property
    def classid(self) -> int | None:
        """classid: the last `classid`/`flowid` given (the one the kernel keeps)."""
        ids = [item for item in self.given if isinstance(item, int)]
        return ids[-1] if ids else None

    @property
    def has_actions(self) -> bool:
        return any(not isinstance(item, int) for item in self.given)

    def options(self, program: bytes | Prepared | None) -> ClsBpfOptions:
        """options: the cls_bpf options of the line, with its program (load_program's)."""
        from pybpftool.cli.tc.filterprog import program_record
        from pybpftool.netlink.clsbpf import ClsBpfOptions  # lines with actions or templates

        gen = (TCA_CLS_FLAGS_SKIP_HW if self.skip_hw else 0) | (
            TCA_CLS_FLAGS_SKIP_SW if self.skip_sw else 0
        )
        flags = TCA_BPF_FLAG_ACT_DIRECT if self.direct_action else 0
        return ClsBpfOptions(tuple(self.given), program_record(program), gen, flags)

    @property
    def info(self) -> int:
        """info: tcm_info, TC_H_MAKE(prio << 16, htons(protocol))."""
        swapped = int.from_bytes(self.protocol.to_bytes(2, "big"), sys.byteorder)
        return ((self.prio << 16) | swapped) & 0xFFFFFFFF


class FilterHelp(Exception):
    """FilterHelp: `help` in a modify or get selector: tc prints the usage and exits 0."""


def filter_command(run: RunContext, args: list[str]) -> int:
    """filter_command: tc_filter.c do_filter(): verbs matched by prefix in tc's order."""
    from pybpftool.cli.tc.filterlist import get, show  # they build on this module

    words = Words(args)
    if not words:
        return show(run, FilterRequest("show"), words)
    verb = words.take()
    try:
        for command in ("add", "change", "replace", "delete"):
            if matches(verb, command):
                return modify(run, FilterRequest(command), words)
        if matches(verb, "get"):
            return get(run, FilterRequest("get"), words)
        if matches(verb, "list") or matches(verb, "show") or matches(verb, "lst"):
            return show(run, FilterRequest("show"), words)
        if matches(verb, "help"):
            raise FilterHelp
    except FilterHelp:
        sys.stderr.write(FILTER_USAGE)
        return 0
    raise IprouteExit(f'Command "{verb}" is unknown, try "tc filter help".', 255)


def parse_selector(req: FilterRequest, words: Words, loop: str, listed: FilterListed) -> None:
    """parse_selector: one of tc's selector loops (`modify`, `get`, `list`); stops after the
    filter kind. `help` raises FilterHelp in modify and get; list prints the usage and goes on.
    The list loop also sets tc's file-scope selections (`listed`), which the others read."""
    while words:
        word = words.take()
        if word == "dev":
            value = words.take()
            if req.dev is not None:
                raise duparg("dev", value)
            if req.block is not None:
                raise IprouteExit(_exclusive(loop, "dev"), 255)
            req.dev = tc_dev_name(value)  # char d[IFNAMSIZ]: "" is no device
        elif matches(word, "block"):
            value = words.take()
            if req.block is not None:
                raise duparg("block", value)
            if req.dev is not None:
                raise IprouteExit(_exclusive(loop, "block"), 255)
            block = c_unsigned(value, 0)
            if not block:
                raise invarg("invalid block index value", value)
            req.block = block
        elif word in PARENTS:
            if req.parent:
                raise IprouteExit(f'Error: "{word}" is duplicate parent ID', 255)
            req.parent = PARENTS[word]
            listed.parent = req.parent if loop == "list" else listed.parent
        elif word == "parent":
            value = words.take()
            if req.parent:
                raise duparg("parent", value)
            parent = tc_classid_value(value)
            if parent is None:
                raise invarg("invalid parent ID" if loop == "list" else "Invalid parent ID", value)
            req.parent = parent
            listed.parent = req.parent if loop == "list" else listed.parent
        elif word == "handle":
            value = words.take()
            if req.handle_text is not None:
                raise duparg("handle", value)
            req.handle_text = value
        elif matches(word, "preference") or matches(word, "priority"):
            value = words.take()
            if req.prio:
                raise duparg("priority", value)
            prio = c_unsigned(value, 0)
            if loop == "list" and prio is None:
                raise invarg("invalid preference", value)
            if prio is None or (loop != "list" and prio > 0xFFFF):
                raise invarg("invalid priority value", value)
            req.prio = prio
            listed.prio = prio if loop == "list" else listed.prio
        elif matches(word, "protocol"):
            value = words.take()
            if req.protocol_set if loop != "list" else req.protocol:
                raise duparg("protocol", value)
            from pybpftool.cli.tc.show import protocol_number

            number = protocol_number(value)
            if number is None:
                raise invarg("invalid protocol", value)
            req.protocol, req.protocol_set = number, True
            listed.protocol = number if loop == "list" else listed.protocol
        elif matches(word, "chain"):
            value = words.take()
            if (req.chain if loop != "list" else listed.chain) is not None:
                raise duparg("chain", value)
            chain = c_unsigned(value, 0)
            if chain is None:
                raise invarg("invalid chain index value", value)
            req.chain = chain
            listed.chain = chain if loop == "list" else listed.chain
        elif loop == "modify" and matches(word, "estimator"):
            raise IprouteExit('pytc filter: "estimator" is not implemented by pytc.', 255)
        elif matches(word, "help"):
            if loop != "list":
                raise FilterHelp
            sys.stderr.write(FILTER_USAGE)
        elif loop == "list":
            raise IprouteExit(f' What is "{word}"? Try "tc filter help"', 255)
        else:
            if loop == "get" and not word:
                raise invarg("invalid filter name", word)
            req.kind = strncpy(word, FILTER_NAMESZ)  # char k[FILTER_NAMESZ]
            break


def _exclusive(loop: str, word: str) -> str:
    if loop != "list":
        return 'Error: "dev" and "block" are mutually exclusive'
    other = "block" if word == "dev" else "dev"
    return f'Error: "{word}" cannot be used in the same time as "{other}"'


def resolve_target(nl: Any, req: FilterRequest) -> tuple[int, int]:
    """resolve_target: (tcm_ifindex, tcm_parent): the device's, or TCM_IFINDEX_MAGIC_BLOCK and the
    block index (struct tcmsg's tcm_block_index shares tcm_parent's place); (0, parent) if
    neither was given."""
    from pybpftool.netlink.uapi import TCM_IFINDEX_MAGIC_BLOCK

    if req.dev is not None:
        index = name_to_index(nl, req.dev)  # ll_name_to_index(): `ifN` is index N
        if not index:
            from pybpftool.cli.common.failures import no_device

            raise IprouteExit(no_device(req.dev), 1)
        return index, req.parent
    if req.block is not None:
        return TCM_IFINDEX_MAGIC_BLOCK, req.block
    return 0, req.parent


def bpf_handle(req: FilterRequest) -> None:
    """bpf_handle: f_bpf.c reads the handle with get_u32(.., 0) (so `10` is 0xa)."""
    if req.handle_text is not None:
        req.handle = c_unsigned(req.handle_text, 0)
        if req.handle is None:
            raise IprouteExit('Illegal "handle"', 1)


def generic_kind(req: FilterRequest, words: Words) -> None:
    """generic_kind: tc.c parse_nofopt, tc's parser for a kind it has no f_*.c for."""
    if words:
        raise IprouteExit(
            f'Unknown filter "{req.kind}", hence option "{words.peek()}" is unparsable', 1
        )
    if req.handle_text is not None:
        req.handle = c_unsigned(req.handle_text, 16)
        if req.handle is None:
            raise IprouteExit(f'Unparsable filter ID "{req.handle_text}"', 1)


def other_kind(req: FilterRequest) -> IprouteExit:
    return IprouteExit(f'pytc filter: kind "{req.kind}" is not handled (bpf only).', 1)


def modify(run: RunContext, req: FilterRequest, words: Words) -> int:
    """modify: tc_filter_modify(): add, change, replace or delete a filter."""
    if req.command in ("add", "replace"):
        req.protocol = ETH_P_ALL  # RTM_NEWTFILTER with NLM_F_CREATE
    parse_selector(req, words, "modify", run.filters)
    # what reads and loads the program: a modifying line's only, never `filter show`'s
    from pybpftool.cli.tc.filterprog import ParseFailed, ParseSession

    nl = run.netlink()  # the run's socket, as tc's one rtnl handle serves every line
    index, parent = resolve_target(nl, req)
    # A delete names its filter by parent, pref and handle: the programs of its line
    # are parsed, never loaded (tc loads them, then drops them: a load could only change
    # pins; pytc.8).
    session = ParseSession(run, nl, dry=req.command == "delete")
    try:
        _parse_load_send(nl, index, parent, req, words, session)
    except ParseFailed:
        session.discard()
        return 1  # what tc says has been said
    except NetlinkFailure as err:
        from pybpftool.cli.common.failures import TALKING, netlink_message

        session.discard()
        raise IprouteExit(f"{netlink_message(err)}\n{TALKING}", 2) from None
    except BaseException:
        session.discard()
        raise
    return 0


def _parse_load_send(
    nl: Any, index: int, parent: int, req: FilterRequest, words: Words, session: ParseSession
) -> None:
    """_parse_load_send: the kind's options (bpf actions loaded as read), the filter's own
    program, then the request, sent inside the commit of the session's loads: the new pins
    appear and the slots of pre-existing maps are written only with the filter."""
    from pybpftool.cli.tc.bpfopts import parse_bpf_options
    from pybpftool.cli.tc.filterprog import commit_filter, load_program

    if req.kind == "bpf":
        bpf_handle(req)
        parse_bpf_options(req, words, session)
    elif req.kind is None:
        if req.handle_text is not None:
            raise IprouteExit('Must specify filter type when using "handle"', 255)
    elif req.kind in TC_FILTER_KINDS:
        raise other_kind(req)
    else:
        generic_kind(req, words)  # then sent with no options, the kernel judges the kind
    offload = index if req.skip_sw else 0  # skip_sw loads for the device first
    program = load_program(req.source, session, offload)
    if req.kind != "bpf" or req.command == "delete":
        _send_raw(nl, index, parent, req)
    else:
        commit_filter(session, lambda: _send(nl, index, parent, req, program))


def _send_raw(nl: Any, index: int, parent: int, req: FilterRequest) -> None:
    """_send_raw: a delete, or a request without a kind, exactly as tc builds it."""
    from pybpftool.netlink import TcRequests
    from pybpftool.netlink.uapi import RTM_DELTFILTER, RTM_NEWTFILTER

    msg_type = RTM_DELTFILTER if req.command == "delete" else RTM_NEWTFILTER
    TcRequests(nl).filter_modify(
        msg_type,
        TC_FILTER_FLAGS[req.command],
        index,
        parent,
        req.info,
        req.chain,
        kind=req.kind,
        handle=req.handle or 0,
    )


def _send(
    nl: Any, index: int, parent: int, req: FilterRequest, program: bytes | Prepared | None
) -> None:
    """_send: the filter through the API's one cls_bpf path (api.tc.send_bpf_filter): with
    actions, its options encoded as tc's f_bpf.c builds them; without, as fields pyroute2's
    codec encodes."""
    from pybpftool.api.tc import BpfFilterRequest, send_bpf_filter

    if req.has_actions:
        request = BpfFilterRequest(
            parent,
            prio=req.prio,
            handle=req.handle,
            protocol=req.protocol,
            chain=req.chain,
            options=req.options(program),
        )
    else:
        prepared = None if isinstance(program, bytes) else program
        request = BpfFilterRequest(
            parent,
            prio=req.prio,
            handle=req.handle,
            protocol=req.protocol,
            chain=req.chain,
            fd=int(prepared.fd) if prepared is not None else None,
            name=prepared.annotation if prepared is not None else None,
            ops=program if isinstance(program, bytes) else None,
            classid=req.classid,
            direct_action=req.direct_action,
            skip_hw=req.skip_hw,
            skip_sw=req.skip_sw,
        )
    send_bpf_filter(nl, NETLINK_COMMAND[req.command], index, request)
