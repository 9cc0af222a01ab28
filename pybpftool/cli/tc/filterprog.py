"""filterprog: the program side of a tc line: the programs it loads (ParseSession: kept once
the kernel took the request, undone otherwise; a bpf action's are loaded by the action
grammar, actparse, as its words are read), a bpf filter's own program loaded (or classic
bytecode encoded) and its maps exported to an `export` socket, each failure in tc's words
and exit status; and ParseFailed, a parser's failure after tc's own messages."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from pybpftool.cli.common.bpfsource import BpfSource
from pybpftool.cli.common.failures import load_failure_text
from pybpftool.cli.common.grammar import IprouteExit
from pybpftool.errors import PyBpfError

if TYPE_CHECKING:
    from collections.abc import Callable

    from pybpftool.cli.common.attach import Prepared
    from pybpftool.cli.common.context import RunContext
    from pybpftool.loader.publish import LoadGroup
    from pybpftool.netlink.clsbpf import Program


class ParseFailed(Exception):
    """ParseFailed: a parser returned -1; what tc prints on the way has been printed.
    `moved`: the parser had already handed back its position (m_bpf.c's failed export)."""

    def __init__(self, moved: bool = False) -> None:
        super().__init__()
        self.moved = moved


class ParseSession:
    """ParseSession: the programs a line loaded (attach.Prepared), pending in one LoadGroup
    that commits around the request once parsing is done (else everything is discarded),
    with the maps to export once their action is read (source, prepared); the run they load
    in (its process, sandbox and caches), and the netlink socket for devices. A `dry`
    session (delete, get) parses its sources and loads nothing: tc loads and drops them,
    which can only change pins."""

    __slots__ = ("dry", "exports", "group", "loads", "nl", "run")

    def __init__(self, run: RunContext, nl: Any = None, dry: bool = False) -> None:
        self.run = run
        self.nl = nl
        self.dry = dry
        self.group: LoadGroup | None = None  # made by the first load
        self.loads: list[Prepared] = []
        self.exports: list[tuple[BpfSource, Prepared]] = []

    def prepare(
        self, source: BpfSource, prog_type: int, section: str, ifindex: int = 0
    ) -> Prepared:
        """prepare: `source`'s program loaded (or opened from its pin), pending in the
        line's LoadGroup (for device `ifindex`: skip_sw); raises the load's PyBpfError for
        the caller to word."""
        from pybpftool.cli.common.attach import new_group, prepare

        if self.group is None:
            self.group = new_group()
        prepared = prepare(self.run, source, prog_type, section, "tc", self.group, ifindex)
        self.loads.append(prepared)
        return prepared

    def discard(self) -> None:
        """discard: undo every load (nothing published, fds closed)."""
        for load in self.loads:
            load.discard()
        self.loads.clear()

    def commit(self, send: Callable[[], None]) -> None:
        """commit: publish the loads' pins around `send` (the request, built with their fd
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


def commit_filter(session: ParseSession, send: Callable[[], None]) -> None:
    """commit_filter: commit the line's loads around `send`; a commit that fails on its own
    (publishing a pin) reads as a failed load, in tc's words."""
    from pybpftool.errors import NetlinkFailure

    try:
        session.commit(send)
    except (IprouteExit, NetlinkFailure):
        raise
    except PyBpfError as err:
        raise IprouteExit(f"{load_failure_text(err)}\nUnable to load program", 1) from None


def prepare_classifier(source: BpfSource, session: ParseSession, ifindex: int = 0) -> Prepared:
    """prepare_classifier: the filter's program loaded (or opened) as tc does into
    `session`, its failure in tc's words. With `ifindex` (skip_sw: f_bpf.c sets
    cfg.ifindex) the maps and program are made for that device, as tc makes them."""
    from pybpftool.uapi import BpfProgType  # loaded with the loader in any case

    try:
        sched_cls = BpfProgType.BPF_PROG_TYPE_SCHED_CLS
        return session.prepare(source, sched_cls, "classifier", ifindex)
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
    if source.mode not in ("bytecode", "bytecode-file"):
        return None
    from pybpftool.cli.tc import cbpf  # classic BPF's parser: bytecode lines only

    if source.mode == "bytecode":
        return cbpf.encode(cbpf.parse_bytecode(source.path))
    text = cbpf.read_bytecode_file(source.path)
    return cbpf.encode(cbpf.parse_bytecode(text))


def load_program(
    source: BpfSource | None, session: ParseSession, ifindex: int = 0
) -> bytes | Prepared | None:
    """load_program: the filter's own program after the option loop: its classic
    instructions (struct sock_filter[]), or the program loaded (its maps exported) into
    `session`, for device `ifindex` with skip_sw; None without one, or for a dry session's
    object."""
    if source is None:
        return None
    ops = classic_ops(source)
    if ops is not None or session.dry:
        return ops
    prepared = prepare_classifier(source, session, ifindex)
    if prepared.loaded is not None:
        export_maps(source, prepared)  # undoes the load itself when it fails
    return prepared


def program_record(program: bytes | Prepared | None) -> Program | None:
    """program_record: what load_program gave, as the record netlink encodes."""
    from pybpftool.netlink.clsbpf import ClassicProgram, ProgramFd

    if program is None:
        return None
    if isinstance(program, bytes):
        return ClassicProgram(program)
    return ProgramFd(int(program.fd), program.annotation)
