"""chain: `pytc chain ...`, the filter chains of a qdisc or shared block (tc/tc_filter.c).

    tc chain {add|delete} [dev DEV|block N] [root|ingress|egress|parent H] [chain N]
             [KIND [OPTIONS]]
    tc chain get [dev DEV|block N] {root|ingress|egress|parent H} [chain N]
    tc chain {show|list|lst} [dev DEV|block N] [root|ingress|egress|parent H] [chain N]

tc runs its filter code with the chain message types: the same selector loops and messages
(`help` prints the filter usage), the same file-scope filter_* variables (what a `show`
selected stays left out of later -batch lines, filters and chains alike), no default
protocol. A KIND makes the chain a template: its options are parsed (and a bpf program
loaded) as for a filter, then the kernel judges; only flower has templates, so for bpf the
kernel's "Chain templates are not supported" is the answer, as with tc.

Output, as print_filter() prints a chain: `chain [block N ][parent H ][KIND ]chain N `.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from pybpftool.cli.common.failures import TALKING, netlink_message
from pybpftool.cli.common.grammar import GlobalOptions, IprouteExit, matches
from pybpftool.cli.common.usage import FILTER_USAGE
from pybpftool.cli.common.words import Words
from pybpftool.cli.tc.bpfopts import parse_bpf_options
from pybpftool.cli.tc.filter import (
    TC_FILTER_KINDS,
    FilterHelp,
    FilterRequest,
    bpf_handle,
    generic_kind,
    other_kind,
    parse_selector,
    resolve_target,
)
from pybpftool.cli.tc.filterprog import ParseFailed, ParseSession, load_program
from pybpftool.cli.tc.handles import PARENT_WORDS
from pybpftool.errors import NetlinkFailure
from pybpftool.netlink.uapi import (
    NLM_F_CREATE,
    NLM_F_EXCL,
    RTM_DELCHAIN,
    RTM_NEWCHAIN,
)

if TYPE_CHECKING:
    from pybpftool.cli.common.context import FilterListed, RunContext

CHAIN_USAGE = """\
Usage: tc chain [ add | del | get | show ] [ dev STRING ]
       tc chain [ add | del | get | show ] [ block BLOCK_INDEX ] ]
"""


def chain_command(run: RunContext, args: list[str]) -> int:
    """chain_command: do_chain(): verbs matched by prefix in tc's order."""
    words = Words(args)
    if not words:
        return show(run, words)
    verb = words.take()
    try:
        if matches(verb, "add"):
            request = FilterRequest("add")
            return modify(run, request, words, RTM_NEWCHAIN, NLM_F_EXCL | NLM_F_CREATE)
        if matches(verb, "delete"):
            return modify(run, FilterRequest("delete"), words, RTM_DELCHAIN, 0)
        if matches(verb, "get"):
            return get(run, words)
        if matches(verb, "list") or matches(verb, "show") or matches(verb, "lst"):
            return show(run, words)
    except FilterHelp:
        sys.stderr.write(FILTER_USAGE)  # the filter code's usage(), then exit 0
        return 0
    if matches(verb, "help"):
        sys.stderr.write(CHAIN_USAGE)
        return 0
    raise IprouteExit(f'Command "{verb}" is unknown, try "tc chain help".', 255)


def modify(run: RunContext, req: FilterRequest, words: Words, msg_type: int, flags: int) -> int:
    """modify: tc_filter_modify() with RTM_NEWCHAIN or RTM_DELCHAIN."""
    parse_selector(req, words, "modify", run.filters)
    from pybpftool.netlink import ChainRequests, Netlink

    with Netlink() as nl:
        index, parent = resolve_target(nl, req)
        options = None
        session = ParseSession(run, nl)
        try:
            if req.kind == "bpf":
                bpf_handle(req)
                if words:
                    parse_bpf_options(req, words, session)
                    options = req.options(load_program(req.source, session))
            elif req.kind is None:
                if req.handle_text is not None:
                    raise IprouteExit('Must specify filter type when using "handle"', 255)
            elif req.kind in TC_FILTER_KINDS:
                if words or req.handle_text is not None:
                    raise other_kind(req)
            else:
                generic_kind(req, words)
            ChainRequests(nl).modify(
                msg_type, flags, index, parent, req.info, req.chain, req.kind, options,
                req.handle or 0,
            )  # fmt: skip
        except ParseFailed:
            return 1  # what tc says has been said
        except NetlinkFailure as err:
            raise IprouteExit(f"{netlink_message(err)}\n{TALKING}", 2) from None
        finally:
            session.discard()  # a template keeps no program (and bpf has no templates)
    return 0


def get(run: RunContext, words: Words) -> int:
    """get: tc_filter_get() with RTM_GETCHAIN: no protocol, pref, kind nor handle needed;
    a kind is read but not parsed, and nothing may follow it."""
    req = FilterRequest("get")
    listed = run.filters
    parse_selector(req, words, "get", listed)
    if not req.parent:
        raise IprouteExit("Must specify filter parent", 255)
    from pybpftool.netlink import ChainRequests, Netlink

    with Netlink() as nl:
        index, parent = resolve_target(nl, req)
        if not index:
            raise IprouteExit('Must specify netdevice "dev" or block index "block"', 255)
        listed.block = req.block or listed.block
        if words:
            if matches(words.peek() or "", "help"):
                sys.stderr.write(FILTER_USAGE)
            raise IprouteExit(
                f'Garbage instead of arguments "{words.peek()} ...". Try "tc filter help".', 255
            )
        try:
            found = ChainRequests(nl).get(index, parent, req.info, req.chain)
        except NetlinkFailure as err:
            raise IprouteExit(f"{netlink_message(err)}\n{TALKING}", 2) from None
    sys.stdout.write(print_chains([found] if found else [], run.opts, listed, index))
    return 0


def show(run: RunContext, words: Words) -> int:
    """show: tc_filter_list() with RTM_GETCHAIN."""
    req = FilterRequest("show")
    listed = run.filters
    parse_selector(req, words, "list", listed)
    from pybpftool.cli.tc.filterlist import list_dump
    from pybpftool.netlink import ChainRequests

    found, index = list_dump(
        req,
        lambda nl, index, parent: ChainRequests(nl).dump(index, parent, req.info, listed.chain),
        listed,
    )
    sys.stdout.write(print_chains(found, run.opts, listed, index))
    return 0


def print_chains(
    messages: list[Any], opts: GlobalOptions, scope: FilterListed, ifindex: int
) -> str:
    """print_chains: print_filter() of chain messages (netlink.RawMessage); what the run's
    queries selected (`scope`) and the device the command named (tc's filter_ifindex) are
    left out."""
    from pybpftool.cli.tc.show import Printer, tc_classid
    from pybpftool.netlink import rtattrs
    from pybpftool.netlink.uapi import TCA_CHAIN, TCA_KIND, TCM_IFINDEX_MAGIC_BLOCK

    out = Printer(opts)
    names: dict[int, str] | None = None
    for msg in messages:
        body = msg.body
        index = int.from_bytes(body[4:8], sys.byteorder)
        parent = int.from_bytes(body[12:16], sys.byteorder)
        attrs = rtattrs(body[20:])
        out.begin()
        if msg.type == RTM_DELCHAIN:
            out.any("deleted", True, "deleted ")
        elif msg.type == RTM_NEWCHAIN and msg.flags & NLM_F_CREATE:
            word = "added" if msg.flags & NLM_F_EXCL else "replaced"
            out.any(word, True, f"{word} ")
        out.fp("chain ")
        if index == TCM_IFINDEX_MAGIC_BLOCK:
            if not scope.block or scope.block != parent:
                out.any("block", parent, f"block {parent} ")
        else:
            if not ifindex or ifindex != index:
                names = names if names is not None else _link_names()
                dev = names.get(index, f"if{index}")
                out.any("dev", dev, f"dev {dev} ")
            if not scope.parent or scope.parent != parent:
                if parent in PARENT_WORDS:
                    word = PARENT_WORDS[parent]
                    out.any(word, True, f"{word} ")
                else:
                    out.any("parent", tc_classid(parent), f"parent {tc_classid(parent)} ")
        kind = attrs.get(TCA_KIND)
        if kind is not None:
            text = kind.split(b"\0", 1)[0].decode(errors="replace")
            out.any("kind", text, f"{text} ")
        chain = attrs.get(TCA_CHAIN)
        if chain is not None:
            number = int.from_bytes(chain[:4].ljust(4, b"\0"), sys.byteorder)
            if scope.chain is None or scope.chain != number:
                out.any("chain", number, f"chain {number} ")
        out.nl()
        out.end()
    return out.output()


def _link_names() -> dict[int, str]:
    from pybpftool.netlink import Netlink

    with Netlink() as nl:
        return {link.ifindex: link.name for link in nl.links()}
