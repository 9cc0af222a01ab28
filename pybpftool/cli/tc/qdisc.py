"""qdisc: `pytc qdisc`.

    tc qdisc {add|change|replace|link|delete} [dev DEV] [handle H] [root|parent H]
             [ingress_block N] [egress_block N] {clsact|ingress|KIND [OPTIONS]}
    tc qdisc {show|list} [dev DEV] [root|ingress|clsact|parent H|handle H] [invisible]

The qdisc grammar is tc_qdisc.c's; the options of htb and the fifos are parsed as tc does,
other kinds are sent without options (their options are refused), and `show` decodes the
kinds listed in show.QDISC_OPTIONS.
"""

from __future__ import annotations

import sys

from pybpftool.cli.common.grammar import IprouteExit, matches
from pybpftool.cli.common.ifnames import FILTER_NAMESZ, name_to_index, strncpy, tc_dev_name
from pybpftool.cli.common.usage import (
    CLSACT_USAGE,
    INGRESS_USAGE,
    QDISC_USAGE,
)
from pybpftool.cli.common.words import Words, duparg, invarg
from pybpftool.cli.tc.handles import qdisc_handle_value, tc_classid_value
from pybpftool.cscan import c_unsigned
from pybpftool.netlink.uapi import (
    NLM_F_CREATE,
    NLM_F_EXCL,
    NLM_F_REPLACE,
    RTM_DELQDISC,
    RTM_NEWQDISC,
    TC_H_INGRESS,
    TC_H_INGRESS_HANDLE,
    TC_H_ROOT,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up)
if TYPE_CHECKING:
    from pybpftool.cli.common.context import RunContext
    from pybpftool.netlink.qdiscopts import FifoOptions, HtbOptions, QdiscOptions

# do_qdisc(): verb -> (RTM type, flags), matched by prefix in this order.
QDISC_VERBS = (
    ("add", RTM_NEWQDISC, NLM_F_EXCL | NLM_F_CREATE),
    ("change", RTM_NEWQDISC, 0),
    ("replace", RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE),
    ("link", RTM_NEWQDISC, NLM_F_REPLACE),
    ("delete", RTM_DELQDISC, 0),
)


def qdisc_command(run: RunContext, args: list[str]) -> int:
    """qdisc_command: tc_qdisc.c do_qdisc()."""
    words = Words(args)
    if not words:
        return qdisc_show(run, words)
    verb = words.take()
    for command, msg_type, flags in QDISC_VERBS:
        if matches(verb, command):
            return qdisc_modify(words, msg_type, flags)
    if matches(verb, "list") or matches(verb, "show") or matches(verb, "lst"):
        return qdisc_show(run, words)
    if matches(verb, "help"):
        sys.stderr.write(QDISC_USAGE)
        return 0
    raise IprouteExit(f'Command "{verb}" is unknown, try "tc qdisc help".', 255)


def _classid(text: str) -> int:
    value = tc_classid_value(text)
    if value is None:
        raise invarg("invalid parent ID", text)
    return value


def qdisc_modify(words: Words, msg_type: int, flags: int) -> int:
    """qdisc_modify: tc_qdisc_modify(): the selector loop, the kind's own option parser,
    then the device, then the request."""
    dev, kind = "", None
    handle = parent = 0
    blocks = [0, 0]  # TCA_INGRESS_BLOCK, TCA_EGRESS_BLOCK
    while words:
        word = words.take()
        if word == "dev":
            value = words.take()
            if dev:
                raise duparg("dev", value)
            dev = tc_dev_name(value) or ""  # char d[IFNAMSIZ]: "" is no device
        elif word == "handle":
            if handle:
                raise duparg("handle", word)  # tc names the keyword, not the value
            value = words.take()
            parsed = qdisc_handle_value(value)
            if parsed is None:
                raise invarg("invalid qdisc ID", value)
            handle = parsed
        elif word == "root":
            if parent:
                raise IprouteExit('Error: "root" is duplicate parent ID', 255)
            parent = TC_H_ROOT
        elif word in ("clsact", "ingress"):
            if parent:
                raise IprouteExit(f'Error: "{word}" is a duplicate parent ID', 255)
            parent, handle, kind = TC_H_INGRESS, TC_H_INGRESS_HANDLE, word
            break
        elif word == "parent":
            value = words.take()
            if parent:
                raise duparg("parent", value)
            parent = _classid(value)
        elif matches(word, "estimator") or matches(word, "stab"):
            raise IprouteExit(f'pytc qdisc: "{word}" is not implemented by pytc.', 255)
        elif matches(word, "ingress_block") or matches(word, "egress_block"):
            which = 0 if matches(word, "ingress_block") else 1
            value = words.take()
            block = c_unsigned(value, 0)
            if not block:
                raise invarg(f"invalid {('ingress', 'egress')[which]} block index value", value)
            blocks[which] = block
        elif matches(word, "help"):
            sys.stderr.write(QDISC_USAGE)  # and goes on, as tc does
        else:
            kind = strncpy(word, FILTER_NAMESZ)  # char k[FILTER_NAMESZ]
            break
    options = _kind_options(kind, words) if kind is not None else None
    from pybpftool.cli.common.failures import netlink_message, no_device
    from pybpftool.errors import NetlinkFailure
    from pybpftool.netlink import Netlink, TcRequests

    with Netlink() as nl:
        index = 0
        if dev:
            index = name_to_index(nl, dev)
            if not index:
                raise IprouteExit(no_device(dev), 1)
        try:
            TcRequests(nl).qdisc_modify(
                msg_type, flags, index, handle, parent, kind, options, (blocks[0], blocks[1])
            )
        except NetlinkFailure as err:
            raise IprouteExit(netlink_message(err), 2) from None
    return 0


def _kind_options(kind: str, words: Words) -> QdiscOptions | None:
    """_kind_options: what tc's parser of `kind` makes of the words after it: the options
    to send (None: no TCA_OPTIONS), or its message."""
    from pybpftool.cli.tc.qdiscshow import TC_QDISC_KINDS

    if kind == "clsact" and words:
        raise IprouteExit(f'What is "{words.peek()}"?\n{CLSACT_USAGE}', 1)
    if kind == "ingress":
        while words:
            word = words.take()
            if word != "handle":
                raise IprouteExit(f'What is "{word}"?\n{INGRESS_USAGE}', 1)
            words.take()  # q_ingress.c skips the handle's value
        return None
    if kind == "htb":
        return _htb_options(words)
    if kind in ("pfifo", "bfifo", "pfifo_head_drop"):
        return _fifo_options(kind, words)
    if not words:
        return None
    if kind == "pfifo_fast":
        raise IprouteExit("qdisc 'pfifo_fast' does not support option parsing", 255)
    if kind in TC_QDISC_KINDS:
        raise IprouteExit(f'pytc qdisc: options of "{kind}" are not implemented by pytc.', 255)
    raise IprouteExit(f'Unknown qdisc "{kind}", hence option "{words.peek()}" is unparsable', 1)


def _htb_options(words: Words) -> HtbOptions:
    """_htb_options: q_htb.c htb_parse_opt: r2q (10 unless said), default (hex), debug,
    direct_qlen, offload; sent even when none is given."""
    from pybpftool.cli.common.usage import HTB_USAGE

    r2q, default, debug, direct_qlen, offload = 10, 0, 0, None, False
    while words:
        word = words.take()
        if matches(word, "r2q") or matches(word, "default") or matches(word, "direct_qlen"):
            name = "r2q" if matches(word, "r2q") else "default"
            name = "direct_qlen" if matches(word, "direct_qlen") else name
            value = c_unsigned(words.take(), 16 if name == "default" else 10)
            if value is None:
                raise IprouteExit(f'Illegal "{name}"\n{HTB_USAGE}', 1)
            if name == "r2q":
                r2q = value
            elif name == "default":
                default = value
            else:
                direct_qlen = value
        elif matches(word, "debug"):
            for i, char in enumerate(words.take()[:16]):
                if char not in "0123":
                    break
                debug |= int(char) << (2 * i)
        elif matches(word, "offload"):
            offload = True
        else:
            raise IprouteExit(f'What is "{word}"?\n{HTB_USAGE}', 1)
    from pybpftool.netlink.qdiscopts import HtbOptions  # the lines of kinds with options only

    return HtbOptions(r2q, default, debug, direct_qlen, offload)


def _fifo_options(kind: str, words: Words) -> FifoOptions | None:
    """_fifo_options: q_fifo.c fifo_parse_opt: `limit SIZE` (struct tc_fifo_qopt)."""
    from pybpftool.cli.common.usage import FIFO_USAGE

    limit = None
    while words:
        word = words.take()
        if word == "limit":
            value = words.take()
            limit = size_value(value)
            if limit is None:
                raise IprouteExit(f'{kind}: Illegal value for "limit": "{value}"', 1)
        elif word == "help":
            raise IprouteExit(FIFO_USAGE, 1)
        else:
            raise IprouteExit(f'{kind}: unknown parameter "{word}"\n{FIFO_USAGE}', 1)
    from pybpftool.netlink.qdiscopts import FifoOptions

    return None if limit is None else FifoOptions(limit)


_SIZE_UNITS = {"kb": 1024, "k": 1024, "gb": 1 << 30, "g": 1 << 30, "gbit": (1 << 30) // 8}
_SIZE_UNITS.update({"mb": 1 << 20, "m": 1 << 20, "mbit": (1 << 20) // 8, "kbit": 1024 // 8})
_SIZE_UNITS["b"] = 1


def size_value(text: str) -> int | None:
    """size_value: lib/utils_math.c get_size: a number as strtod() reads it (`0x10` is 16,
    `1e3` 1000), a unit, then the conversion to an unsigned 32-bit size (the fraction cut;
    a negative or larger size refused)."""
    import math

    from pybpftool.cscan import c_strtod

    size, end = c_strtod(text)
    if end == 0:
        return None
    unit = text[end:].lower()
    if unit:
        if unit not in _SIZE_UNITS:
            return None
        size *= _SIZE_UNITS[unit]
    if not math.isfinite(size) or not 0 <= math.trunc(size) < 1 << 32:
        return None
    return math.trunc(size)


def qdisc_show(run: RunContext, words: Words) -> int:
    """qdisc_show: tc_qdisc_list(): dump every qdisc, print those of the device and id asked
    (tc's file-scope selections, which a later -batch line keeps: run.qdiscs)."""
    dev = None
    listed = run.qdiscs
    invisible = False
    while words:
        word = words.take()
        if word == "dev":
            dev = tc_dev_name(words.take())
            continue
        taken = word in ("root", "ingress", "clsact") or (
            matches(word, "parent") or matches(word, "handle")
        )
        if taken and listed.parent:
            raise invarg("parent is already specified", word)
        if taken and listed.handle:
            raise invarg("handle is already specified", word)
        if word == "root":
            listed.parent = TC_H_ROOT
        elif word in ("ingress", "clsact"):
            listed.parent = TC_H_INGRESS
        elif matches(word, "parent"):
            listed.parent = _classid(words.take())
        elif matches(word, "handle"):
            value = words.take()
            parsed = qdisc_handle_value(value)
            if parsed is None:
                raise invarg("invalid handle ID", value)
            listed.handle = parsed
        elif matches(word, "help"):
            sys.stderr.write(QDISC_USAGE)
        elif word == "invisible":
            invisible = True
        else:
            raise IprouteExit(f'What is "{word}"? Try "tc qdisc help".', 255)
    from pybpftool.cli.common.failures import netlink_message, no_device
    from pybpftool.cli.tc.qdiscshow import print_qdiscs
    from pybpftool.errors import NetlinkFailure
    from pybpftool.netlink import Netlink, TcRequests

    names: dict[int, str] = {}
    with Netlink() as nl:
        if dev is not None:
            found_index = name_to_index(nl, dev)
            if not found_index:
                raise IprouteExit(no_device(dev), 1)
            listed.ifindex = found_index
        try:
            found = TcRequests(nl).qdiscs(invisible)
            if not listed.ifindex:
                names = {link.ifindex: link.name for link in nl.links()}
        except NetlinkFailure as err:
            raise IprouteExit(f"{netlink_message(err)}\nDump terminated", 1) from None
    index, parent, handle = listed.ifindex, listed.parent, listed.handle
    shown = [
        q
        for q in found
        if (not index or q.ifindex == index)
        and (not handle or q.handle == handle)
        and (not parent or q.parent == parent)
    ]
    sys.stdout.write(print_qdiscs(shown, run.opts, names, bool(index)))
    return 0
