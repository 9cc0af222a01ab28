"""filterprog: the program side of a bpf filter: its program loaded (or classic bytecode
encoded), its maps exported to an `export` socket, and the programs of its bpf actions; each
failure in tc's words and exit status."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pybpftool.cli.common.bpfsource import BpfSource, source_files
from pybpftool.cli.common.failures import load_failure_text
from pybpftool.cli.common.grammar import IprouteExit
from pybpftool.errors import PyBpfError

if TYPE_CHECKING:
    from pybpftool.cli.common.attach import Prepared
    from pybpftool.cli.common.process import Process
    from pybpftool.loader.publish import LoadGroup

BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_SCHED_ACT = 3, 4


def confine_to_sources(sources: list[BpfSource | None], process: Process) -> None:
    """confine_to_sources: before a line's first load, the sandbox with every file its
    sources read: tc loads the filter's program and its actions' one after the other, and
    the sandbox entered at the first must let the others be read. Nothing for a line that
    loads nothing (classic bytecode only)."""
    if any(s is not None and not s.mode.startswith("bytecode") for s in sources):
        from pybpftool.cli.common.attach import confine_first

        confine_first(source_files(sources), process)


def prepare_classifier(
    source: BpfSource, process: Process, group: LoadGroup | None = None
) -> Prepared:
    """prepare_classifier: the filter's program loaded (or opened) as tc does, its failure
    in tc's words; the load is left pending in `group`."""
    from pybpftool.cli.common.attach import prepare

    try:
        return prepare(source, BPF_PROG_TYPE_SCHED_CLS, "classifier", "tc", process, group)
    except PyBpfError as err:
        text = load_failure_text(err)
        if source.mode == "pinned":
            raise IprouteExit(f"{text}\nUnable to parse bpf command line", 1) from None
        raise IprouteExit(f"{text}\nUnable to load program", 1) from None


def export_maps(source: BpfSource, prepared: Prepared) -> None:
    """export_maps: hand the maps to `export UDS` ($TC_BPF_UDS wins); undo the load on
    failure."""
    path = os.environ.get("TC_BPF_UDS") or source.export
    if not path:
        return
    from pybpftool.uds import MapEntry, send_maps

    entries = []
    assert prepared.loaded is not None
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
        send_maps(path, source.path, entries)
    except OSError as err:
        prepared.discard()
        verb = (
            "connect to" if isinstance(err, (FileNotFoundError, ConnectionError)) else "send fds to"
        )
        raise IprouteExit(f"Cannot {verb} {path}: {err.strerror}", 1) from None


def classic_ops(source: BpfSource) -> bytes | None:
    """classic_ops: the encoded sock_filter array of a bytecode source, None for eBPF."""
    from pybpftool.cli.tc import cbpf

    if source.mode == "bytecode":
        return cbpf.encode(cbpf.parse_bytecode(source.path))
    if source.mode == "bytecode-file":
        text = cbpf.read_bytecode_file(source.path)
        return cbpf.encode(cbpf.parse_bytecode(text))
    return None


def action_loader(
    action: Any, loads: list[Any], process: Process, group: LoadGroup | None = None
) -> Callable[[], dict[str, Any]]:
    """action_loader: load a bpf action's program (pending in `group`); returns what builds
    pyroute2's description of the action when the request is sent (after any reload)."""
    if action.kind != "bpf":
        return lambda: {"kind": "gact", "action": action.control}
    from pybpftool.cli.common.attach import prepare

    assert action.source is not None
    try:
        prepared = prepare(
            action.source, BPF_PROG_TYPE_SCHED_ACT, "action", "tc", process, group
        )
    except PyBpfError as err:
        raise IprouteExit(f"{load_failure_text(err)}\nbad action parsing", 1) from None
    loads.append(prepared)
    return lambda: {
        "kind": "bpf",
        "fd": int(prepared.fd),
        "name": prepared.annotation,
        "action": action.control,
    }


def commit_filter(group: LoadGroup, attach: Callable[[], None]) -> None:
    """commit_filter: commit the command's loads around `attach`; a commit that fails on its
    own (publishing a pin) reads as a failed load, in tc's words."""
    from pybpftool.errors import NetlinkFailure

    try:
        group.commit(attach)
    except (IprouteExit, NetlinkFailure):
        raise
    except PyBpfError as err:
        raise IprouteExit(f"{load_failure_text(err)}\nUnable to load program", 1) from None
