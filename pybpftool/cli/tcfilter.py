"""tcfilter: `pytc qdisc` (clsact, ingress) and `pytc filter ... bpf` (tc/tc_filter.c, f_bpf.c).

    tc filter {add|change|replace|delete|get|show} [dev DEV] [root|ingress|egress|parent H]
              [handle H] [pref P] [protocol P] bpf BPFOPTS
    BPFOPTS (any order, each word matched by prefix in this order): run MODE | classid|flowid X:Y
              | direct-action|da | skip_hw | skip_sw | action ... | police ... | help; a word
              that is none of these is the MODE when none was given yet (so `bpf da obj f.o`
              and `bpf obj f.o da` both work).

The device is resolved before the bpf options (iproute2's order); the object is loaded after
the whole option loop and undone if the kernel then refuses the filter.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any

from pybpftool.cli.bpfsource import BpfSource, parse_mode
from pybpftool.cli.grammar import GlobalOptions, IprouteExit, matches
from pybpftool.cli.iplink import load_failure_text, netlink_message
from pybpftool.cli.tcshow import print_filters
from pybpftool.cli.usage import BPF_USAGE
from pybpftool.cli.words import Words, duparg
from pybpftool.errors import NetlinkFailure, PyBpfError

BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_SCHED_ACT = 3, 4
ROOT = 0xFFFFFFFF
INGRESS, EGRESS = 0xFFFFFFF2, 0xFFFFFFF3
ETH_P_ALL = 0x0003
PROTOCOLS = {"all": 0x0003, "ip": 0x0800, "ipv6": 0x86DD, "arp": 0x0806, "802.1Q": 0x8100}
FILTER_COMMANDS = ("add", "delete", "change", "replace", "get", "show", "list", "lst", "help")
NETLINK_COMMAND = {
    "add": "add-filter",
    "change": "change-filter",
    "replace": "replace-filter",
    "delete": "del-filter",
}
TALKING = "We have an error talking to the kernel"


@dataclass
class FilterRequest:
    """FilterRequest: one `tc filter` command line, parsed."""

    command: str
    dev: str | None = None
    parent: int | None = None
    handle: int | None = None
    prio: int = 0
    protocol: int | None = None
    kind: str | None = None
    source: BpfSource | None = None
    classid: int | None = None
    direct_action: bool = False
    skip_hw: bool = False
    skip_sw: bool = False
    extra: list[str] = field(default_factory=list)
    actions: list[Any] = field(default_factory=list)  # tcaction.ActionSpec


def qdisc_command(opts: GlobalOptions, args: list[str]) -> int:
    """qdisc_command: `pytc qdisc {add|del|replace} dev DEV {clsact|ingress}`."""
    words = Words(args)
    verb = words.take() if words else "show"
    command = next((c for c in ("add", "delete", "replace", "change") if matches(verb, c)), None)
    if command is None:
        raise IprouteExit(f"pytc qdisc {verb}: not implemented by pytc in this version.", 255)
    dev = kind = None
    while words:
        word = words.take()
        if word == "dev":
            dev = words.take()
        elif word in ("clsact", "ingress"):
            kind = word
        elif word in ("handle", "parent") and words:
            words.take()  # clsact and ingress have one fixed place; iproute2 checks it
        else:
            raise IprouteExit(
                f'pytc qdisc: "{word}" is not implemented by pytc (clsact and ingress only).', 255
            )
    if dev is None or kind is None:
        raise IprouteExit("pytc qdisc: dev DEV and clsact or ingress are required.", 255)
    from pybpftool.netlink import Netlink

    with Netlink() as nl:
        index = nl.link_index(dev)
        if index is None:
            raise IprouteExit(f'Cannot find device "{dev}"', 1)
        verb_nl = {"delete": "del"}.get(command, command)
        try:
            nl.qdisc(verb_nl, index, kind)
        except NetlinkFailure as err:
            raise IprouteExit(netlink_message(err), 2) from None
    return 0


def filter_command(opts: GlobalOptions, args: list[str]) -> int:
    """filter_command: `pytc filter ...` for cls_bpf."""
    words = Words(args)
    verb = words.take() if words else "show"
    command = next((c for c in FILTER_COMMANDS if matches(verb, c)), None)
    if command is None or command == "help":
        raise IprouteExit(f'Command "{verb}" is unknown, try "tc filter help".', 255)
    if command in ("show", "list", "lst"):
        return show(opts, parse_selector(FilterRequest("show"), words))
    if command == "get":
        raise IprouteExit("pytc filter get: not implemented by pytc in this version.", 255)
    req = parse_selector(FilterRequest(command), words)
    if req.kind is None:
        if command != "delete":
            raise IprouteExit('Unknown filter "(null)", hence option "(null)" is unparsable', 1)
    elif req.kind != "bpf":
        raise IprouteExit(f'pytc filter: kind "{req.kind}" is not handled (bpf only).', 1)
    return change(opts, req, words)


def parse_selector(req: FilterRequest, words: Words) -> FilterRequest:
    """parse_selector: dev, parent, handle, pref, protocol; stops at the filter kind."""
    while words:
        word = words.take()
        if word == "dev":
            name = words.take()
            if req.dev is not None:
                raise duparg("dev", name)
            req.dev = name
        elif word == "root":
            req.parent = _set_parent(req, ROOT, word)
        elif word == "ingress":
            req.parent = _set_parent(req, INGRESS, word)
        elif word == "egress":
            req.parent = _set_parent(req, EGRESS, word)
        elif word == "parent":
            req.parent = _set_parent(req, _tc_handle(words.take(), "parent"), word)
        elif word == "handle":
            req.handle = int(words.take(), 16)
        elif matches(word, "preference") or matches(word, "priority"):
            value = words.take()
            if not value.isdigit() or int(value) > 0xFFFF:
                raise IprouteExit('Illegal "preference"', 255)
            req.prio = int(value)
        elif matches(word, "protocol"):
            name = words.take()
            if name not in PROTOCOLS:
                raise IprouteExit('Illegal "protocol"', 255)
            req.protocol = PROTOCOLS[name]
        else:
            req.kind = word
            break
    return req


def _set_parent(req: FilterRequest, value: int, word: str) -> int:
    if req.parent is not None:
        raise (
            IprouteExit('Error: "root" is duplicate parent ID', 255)
            if word == "root"
            else IprouteExit(f"Error: {word} is duplicate parent ID", 255)
        )
    return value


def _tc_handle(text: str, what: str) -> int:
    major, _, minor = text.partition(":")
    try:
        return (int(major or "0", 16) << 16) | int(minor or "0", 16)
    except ValueError:
        raise IprouteExit(f'Illegal "{what}"', 255) from None


def parse_bpf_options(req: FilterRequest, words: Words) -> None:
    """parse_bpf_options: f_bpf.c bpf_parse_opt's loop."""
    seen_run = False
    while words:
        word = words.peek() or ""
        if matches(word, "run"):
            words.take()
            if seen_run:
                raise duparg("run", words.peek() or "")
            seen_run = True
            req.source = _mode(words)
            continue
        if matches(word, "classid") or matches(word, "flowid"):
            words.take()
            req.classid = _classid(words.take())
        elif matches(word, "direct-action") or matches(word, "da"):
            words.take()
            req.direct_action = True
        elif matches(word, "skip_hw"):
            words.take()
            req.skip_hw = True
        elif matches(word, "skip_sw"):
            words.take()
            req.skip_sw = True
        elif matches(word, "action"):
            from pybpftool.cli.tcaction import parse_actions

            req.actions = parse_actions(words)
        elif matches(word, "police"):
            raise IprouteExit(f'pytc filter: "{word}" in a bpf filter is not implemented.', 1)
        elif matches(word, "help"):
            raise IprouteExit(BPF_USAGE, 1)
        elif not seen_run:
            seen_run = True
            req.source = _mode(words)
        else:
            raise IprouteExit(f'What is "{word}"?\n{BPF_USAGE}', 1)


def _mode(words: Words) -> BpfSource:
    try:
        source = parse_mode(words, allow_bytecode=True, allow_type=False)
    except IprouteExit as err:
        raise IprouteExit(f"{err.message}\nUnable to parse bpf command line", 1) from None
    _classic(source)  # like tc, bytecode is checked where it stands on the command line
    return source


def _classid(text: str) -> int:
    if ":" not in text:
        raise IprouteExit('Illegal "classid"', 1)
    return _tc_handle(text, "classid")


def change(opts: GlobalOptions, req: FilterRequest, words: Words) -> int:
    """change: add, replace, change or delete a cls_bpf filter."""
    from pybpftool.netlink import Netlink

    with Netlink() as nl:
        if req.dev is None:
            raise IprouteExit('Not enough information: "dev" argument is required.', 1)
        index = nl.link_index(req.dev)
        if index is None:
            raise IprouteExit(f'Cannot find device "{req.dev}"', 1)
        if req.kind == "bpf":
            parse_bpf_options(req, words)
        ops = _classic(req.source) if req.source is not None else None
        prepared = _prepare(req) if req.source is not None and ops is None else None
        if prepared is not None and prepared.loaded is not None:
            _export(req, prepared)
        loads = [prepared] if prepared is not None else []
        try:
            actions = [_action(a, loads) for a in req.actions]
            _send(nl, index, req, prepared, ops, actions)
        except NetlinkFailure as err:
            for load in loads:
                load.discard()
            raise IprouteExit(f"{netlink_message(err)}\n{TALKING}", 2) from None
        except BaseException:
            for load in loads:
                load.discard()
            raise
        for load in loads:
            load.commit()
            load.fd.close()
            if load.loaded is not None:
                load.loaded.close()
    return 0


def _prepare(req: FilterRequest):  # type: ignore[no-untyped-def]
    from pybpftool.cli.attach import prepare

    assert req.source is not None
    try:
        return prepare(req.source, BPF_PROG_TYPE_SCHED_CLS, "classifier", "tc")
    except PyBpfError as err:
        text = load_failure_text(err)
        if req.source.mode == "pinned":
            raise IprouteExit(f"{text}\nUnable to parse bpf command line", 1) from None
        raise IprouteExit(f"{text}\nUnable to load program", 1) from None


def _export(req: FilterRequest, prepared) -> None:  # type: ignore[no-untyped-def]
    """_export: hand the maps to `export UDS` ($TC_BPF_UDS wins); undo the load on failure."""
    assert req.source is not None
    path = os.environ.get("TC_BPF_UDS") or req.source.export
    if not path:
        return
    from pybpftool.uds import MapEntry, send_maps

    entries = []
    for m in prepared.loaded.maps.values():
        spec, legacy = m.spec, m.spec.legacy
        entries.append(
            (
                MapEntry(
                    spec.type,
                    spec.key_size,
                    spec.value_size,
                    spec.max_entries,
                    spec.flags,
                    legacy.id if legacy else 0,
                    spec.pin_id,
                    legacy.inner_id if legacy else 0,
                    legacy.inner_idx if legacy else 0,
                ),
                int(m.fd),
            )
        )
    try:
        send_maps(path, req.source.path, entries)
    except OSError as err:
        prepared.discard()
        verb = (
            "connect to" if isinstance(err, (FileNotFoundError, ConnectionError)) else "send fds to"
        )
        raise IprouteExit(f"Cannot {verb} {path}: {err.strerror}", 1) from None


def _classic(source: BpfSource) -> bytes | None:
    """_classic: the encoded sock_filter array of a bytecode source, None for eBPF."""
    from pybpftool.cli import cbpf

    if source.mode == "bytecode":
        return cbpf.encode(cbpf.parse_bytecode(source.path))
    if source.mode == "bytecode-file":
        text = cbpf.read_bytecode_file(source.path)
        return cbpf.encode(cbpf.parse_bytecode(text))
    return None


def _action(action: Any, loads: list[Any]) -> dict[str, Any]:
    """_action: pyroute2's description of one action, loading a bpf action's program."""
    if action.kind != "bpf":
        return {"kind": "gact", "action": action.control}
    from pybpftool.cli.attach import prepare

    assert action.source is not None
    try:
        prepared = prepare(action.source, BPF_PROG_TYPE_SCHED_ACT, "action", "tc")
    except PyBpfError as err:
        raise IprouteExit(f"{load_failure_text(err)}\nbad action parsing", 1) from None
    loads.append(prepared)
    return {
        "kind": "bpf",
        "fd": int(prepared.fd),
        "name": prepared.annotation,
        "action": action.control,
    }


def _send(
    nl: Any,
    index: int,
    req: FilterRequest,
    prepared: Any,
    ops: bytes | None,
    actions: list[Any],
) -> None:
    kw: dict[str, object] = {"parent": req.parent if req.parent is not None else ROOT}
    if req.prio:
        kw["prio"] = req.prio
    if req.handle is not None:
        kw["handle"] = req.handle
    if req.command in ("add", "replace") or req.protocol is not None:
        kw["protocol"] = req.protocol if req.protocol is not None else ETH_P_ALL
    if req.command == "delete":
        nl.filter("del-filter", index, **kw)
        return
    if prepared is not None:
        kw["fd"] = int(prepared.fd)
        kw["name"] = prepared.annotation
    if ops is not None:
        kw["ops"] = ops
    if actions:
        kw["action"] = actions
    if req.classid is not None:
        kw["classid"] = req.classid
    if req.direct_action:
        kw["direct_action"] = True
    if req.skip_hw:
        kw["skip_hw"] = True
    if req.skip_sw:
        kw["skip_sw"] = True
    nl.filter(NETLINK_COMMAND[req.command], index, **kw)


def show(opts: GlobalOptions, req: FilterRequest) -> int:
    """show: `tc filter show dev DEV {ingress|egress|root|parent H}` for cls_bpf filters."""
    from pybpftool.netlink import Netlink

    if req.dev is None:
        raise IprouteExit("pytc filter show: dev DEV is required by pytc.", 255)
    with Netlink() as nl:
        index = nl.link_index(req.dev)
        if index is None:
            raise IprouteExit(f'Cannot find device "{req.dev}"', 1)
        try:
            found = nl.filters(index, req.parent if req.parent is not None else 0)
        except NetlinkFailure as err:
            raise IprouteExit(f"{netlink_message(err)}\n{TALKING}", 2) from None
    if req.prio:
        found = [f for f in found if f.prio == req.prio]
    sys.stdout.write(print_filters(found, opts, req.prio != 0))
    return 0
