"""filterlist: `pytc filter get` and `pytc filter show` (tc_filter.c tc_filter_get() and
tc_filter_list()), and the dump both filters and chains list through (list_dump).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pybpftool.cli.common.grammar import IprouteExit
from pybpftool.cli.common.words import Words
from pybpftool.cli.tc.filter import (
    TC_FILTER_KINDS,
    FilterRequest,
    bpf_handle,
    generic_kind,
    other_kind,
    parse_selector,
    resolve_target,
)
from pybpftool.errors import NetlinkFailure

if TYPE_CHECKING:
    from pybpftool.cli.common.context import FilterListed, RunContext


def get(run: RunContext, req: FilterRequest, words: Words) -> int:
    """get: tc_filter_get(): one filter by parent, pref, protocol, handle and kind."""
    listed = run.filters
    parse_selector(req, words, "get", listed)
    for missing, message in (
        (not req.protocol_set, "Must specify filter protocol"),
        (not req.prio, "Must specify filter priority"),
        (not req.parent, "Must specify filter parent"),
        (req.kind is None, "Must specify filter type"),
    ):
        if missing:
            raise IprouteExit(message, 255)
    from pybpftool.netlink import Netlink, TcRequests

    with Netlink() as nl:
        index, parent = resolve_target(nl, req)
        if not index:
            raise IprouteExit('Must specify netdevice "dev" or block index "block"', 255)
        listed.block = req.block or listed.block
        garbage = words.peek()
        if req.kind == "bpf":
            bpf_handle(req)
            if words and _parse_and_drop(run, nl, req, words):
                return 1
        elif req.kind in TC_FILTER_KINDS:
            raise other_kind(req)
        else:
            generic_kind(req, words)
        if req.handle is None:
            raise IprouteExit('Must specify filter "handle"', 255)
        if garbage is not None:
            raise IprouteExit(
                f'Garbage instead of arguments "{garbage} ...". Try "tc filter help".', 255
            )
        assert req.kind is not None
        try:
            found = TcRequests(nl).filter_get(
                index, parent, req.info, req.handle, req.kind, req.chain
            )
        except NetlinkFailure as err:
            from pybpftool.cli.common.failures import TALKING, netlink_message

            raise IprouteExit(f"{netlink_message(err)}\n{TALKING}", 2) from None
    from pybpftool.cli.tc.show import print_filters

    sys.stdout.write(print_filters([found] if found else [], run.opts, listed))
    return 0


def _parse_and_drop(run: RunContext, nl: Any, req: FilterRequest, words: Words) -> bool:
    """_parse_and_drop: the bpf options of a `get` line, read as tc does (bytecode checked,
    objects not loaded: a dry session), then dropped (tc finds the words superfluous); True
    when they did not parse. Imported here: `filter show` reads no bpf options."""
    from pybpftool.cli.tc.bpfopts import parse_bpf_options
    from pybpftool.cli.tc.filterprog import ParseFailed, ParseSession, load_program

    session = ParseSession(run, nl, dry=True)

    try:
        parse_bpf_options(req, words, session)
        load_program(req.source, session)
    except ParseFailed:
        return True
    finally:
        session.discard()
    return False


def show(run: RunContext, req: FilterRequest, words: Words) -> int:
    """show: tc_filter_list(): the dump of a parent, the kernel filtering on pref, protocol
    and chain; without dev tc asks for ifindex 0 and the kernel answers with nothing."""
    listed = run.filters
    parse_selector(req, words, "list", listed)
    from pybpftool.cli.tc.show import print_filters

    def dump(nl: Any, index: int, parent: int) -> list[Any]:
        from pybpftool.netlink import TcRequests

        if not index:
            return []
        # A chain of an earlier -batch line stays set, as in tc.
        return TcRequests(nl).filter_dump(index, parent, req.info, listed.chain)

    found, _index = list_dump(req, dump, listed)
    sys.stdout.write(print_filters(found, run.opts, listed))
    return 0


def list_dump(
    req: FilterRequest, dump: Callable[[Any, int, int], list[Any]], listed: FilterListed
) -> tuple[list[Any], int]:
    """list_dump: tc_filter_list()'s common part, for filters and chains: the device or the
    shared block (which some qdisc must use), then `dump(nl, ifindex, parent)`; a refused
    dump is tc's `Dump terminated`. Returns the dump and the ifindex."""
    from pybpftool.netlink import Netlink

    with Netlink() as nl:
        index, parent = resolve_target(nl, req)
        try:
            if req.block is not None:
                if not block_exists(nl, req.block):
                    raise IprouteExit(f'Cannot find block "{req.block}"', 1)
                listed.block = req.block
            return dump(nl, index, parent), index
        except NetlinkFailure as err:
            from pybpftool.cli.common.failures import netlink_message

            raise IprouteExit(f"{netlink_message(err)}\nDump terminated", 1) from None


def block_exists(nl: Any, block: int) -> bool:
    """block_exists: tc_qdisc_block_exists: some qdisc is bound to the shared block."""
    from pybpftool.netlink import TcRequests
    from pybpftool.netlink.uapi import TCA_EGRESS_BLOCK, TCA_INGRESS_BLOCK

    for qdisc in TcRequests(nl).qdiscs():
        for attr in (TCA_INGRESS_BLOCK, TCA_EGRESS_BLOCK):
            value = qdisc.attrs.get(attr, b"")
            if len(value) >= 4 and int.from_bytes(value[:4], sys.byteorder) == block:
                return True
    return False
