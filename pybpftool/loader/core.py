"""core: ObjectSpec -> live kernel objects, the way iproute2 loads a BPF object.

`load_object` runs the steps in iproute2's order: pin paths (validated before anything is
created), BTF, every map (pins adopted, missing maps created and filled but not pinned yet),
then the selected program, its tail calls and the programs named in static prog-array slots,
then the prog-array fills of the maps it created. Nothing shared changes during a load: the
slots it must write into pre-existing maps are recorded, and the new pins are published by
the commit (publish.py), which runs the caller's attach under the pin-folder locks. A failed
load closes every fd it opened; pins that existed before are never touched.

Annotations here are evaluated when defined (no `from __future__ import annotations`):
typing.NamedTuple compiles a string annotation into a ForwardRef per field, which a cold
attach, defining these records, paid for.
"""

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple, Protocol

from pybpftool.errors import ObjectError, PinError
from pybpftool.kernel import bpffs
from pybpftool.kernel.bpf import LoadResult
from pybpftool.kernel.fd import Fd
from pybpftool.loader import report, slots
from pybpftool.loader.btfload import load_btf
from pybpftool.loader.corerelo import CoreRelocator
from pybpftool.loader.limits import verifier_log_size
from pybpftool.loader.maps import PROG_ARRAY, Map, MapContext, MapKernel, create_maps
from pybpftool.loader.programs import (
    ProgKernel,
    ProgramMemo,
    check_byte_order,
    load_program,
    program_request,
)
from pybpftool.loader.publish import LoadGroup, pin_key
from pybpftool.loader.txn import SlotWrite, Transaction
from pybpftool.pinning import (
    PINNING_DB,
    SUBDIR_TC,
    PinningDb,
    map_pin_path,
    parse_pinning_db,
    work_dir,
)
from pybpftool.spec import MapOrigin, ObjectSpec, Pinning, ProgramSpec

if TYPE_CHECKING:
    from pybpftool.btf.target import TargetBtf


class LoaderKernel(MapKernel, ProgKernel, slots.SlotKernel, Protocol):
    """LoaderKernel: everything load_object and its commit ask of the kernel."""

    def btf_load(self, blob: bytes, log_level: int = 0, log_size: int = 0) -> LoadResult: ...
    def prog_bind_map(self, prog: Fd, map_fd: Fd) -> None: ...
    def obj_pin(self, fd: Fd, path: str) -> None: ...
    def pin_rename(self, old: str, new: str) -> None: ...


class LoadOptions(NamedTuple):
    """LoadOptions: what the command line decided about this load."""

    prog_type: int | None = None  # forced by the caller (tc: sched_cls/act, xdp, cgroup)
    expected_attach_type: int | None = None
    section: str | None = None  # first program of this section...
    program: str | None = None  # ...or the program with this function name
    subdir: str = SUBDIR_TC  # pin work dir: tc, xdp or ip
    pin: bool = True  # False: maps are created unpinned (pybpftool object verify)
    verbose: bool = False
    env: Mapping[str, str] | None = None  # for TC_BPF_MNT; None means os.environ
    pinning_db: str = PINNING_DB
    report: Callable[[str], None] | None = None  # verbose and warning lines go here
    report_out: Callable[[str], None] | None = None  # the verbose lines iproute2 prints on stdout
    target_btf: str | None = None  # CO-RE target; None: $PYBPFTOOL_TARGET_BTF or the kernel's
    open_target: "Callable[[str], TargetBtf] | None" = None  # e.g. a -batch's memo of targets
    group: LoadGroup | None = None  # the other loads of this command, committed together
    ifindex: int = 0  # offload (xdpoffload, skip_sw): maps and programs for this device
    memo: ProgramMemo | None = None  # e.g. a -batch's: func and line info worked out once


class Program(NamedTuple):
    """Program: a loaded program of the object."""

    spec: ProgramSpec
    fd: Fd
    prog_type: int


class LoadedObject:
    """LoadedObject: the maps and programs one load created or reused; close() releases fds.

    A load made with `defer_commit` is pending until commit() or discard(). commit() may load
    the object again (a lost publish race, see publish.py): an `attach` callback reads
    `.main`, `.programs` and `.maps` when it runs, not before.
    """

    def __init__(
        self,
        spec: ObjectSpec,
        maps: dict[str, Map],
        programs: list[Program],
        btf_fd: Fd | None = None,
        main: Program | None = None,
        fds: list[Fd] | None = None,
        txn: Transaction | None = None,
        plan: "_Plan | None" = None,
        group: LoadGroup | None = None,
    ) -> None:
        self.spec = spec
        self.maps = maps
        self.programs = programs
        self.btf_fd = btf_fd
        self.main = main
        self.fds: list[Fd] = [] if fds is None else fds
        self.txn = txn  # set while the load awaits commit() or discard()
        self.plan = plan  # how to load it again
        self.group = group

    @property
    def kernel(self) -> LoaderKernel | None:
        return self.plan.kernel if self.plan is not None else None

    @property
    def verbose(self) -> bool:
        return self.plan is not None and self.plan.options.verbose

    @property
    def report(self) -> Callable[[str], None] | None:
        return self.plan.options.report if self.plan is not None else None

    def commit(self, attach: Callable[[], None] | None = None) -> None:
        """commit: under the pin-folder locks, publish the new pins, write the slots of
        pre-existing maps (with undo records) and run `attach`; if anything raises, undo
        the slot writes, remove only the pins this commit published, close every fd and
        re-raise. The other pending loads of this object's LoadGroup commit with it."""
        if self.txn is None:
            if attach is not None:
                attach()  # committed already: nothing of ours left to publish
            return
        if self.group is None:
            self.group = LoadGroup()
            self.group.add(self)
        self.group.commit(attach)

    def discard(self) -> None:
        """discard: undo an uncommitted load: every fd closed, nothing published."""
        if self.group is not None:
            self.group.forget(self)
        self.abandon()

    def close(self) -> None:
        for fd in reversed(self.fds):
            fd.close()

    def abandon(self) -> None:
        """abandon: close everything the load opened (its commit, if any, is undone)."""
        if self.txn is not None:
            self.txn.rollback()
            self.txn = None
        self.close()

    def committed(self) -> None:
        if self.txn is not None:
            self.txn.commit()
            self.txn = None

    def reload(self, group: LoadGroup) -> None:
        """reload: load again from scratch, adopting whatever is pinned now. Each program
        keeps its fd number (the old fd stays open until the new program takes its number),
        so a request built with it before the commit still names the right program."""
        assert self.plan is not None
        kept = [p.fd for p in self.programs]
        for fd in reversed(self.fds):
            if not any(fd is k for k in kept):
                fd.close()
        self.txn = None
        try:
            fresh = self.plan.run(group)
        except BaseException:
            for fd in kept:
                fd.close()
            raise
        for prog, old in zip(fresh.programs, kept, strict=True):
            prog.fd.take_number(old)
        self.maps, self.programs, self.main = fresh.maps, fresh.programs, fresh.main
        self.btf_fd, self.fds, self.txn = fresh.btf_fd, fresh.fds, fresh.txn


def select_programs(spec: ObjectSpec, options: LoadOptions) -> tuple[ProgramSpec, ...]:
    """select_programs: the main program (first), then tail-call and static-slot programs."""
    main = _main_program(spec, options)
    chosen = [main]
    slot_names = {name for m in spec.maps if m.type == PROG_ARRAY for _key, name in m.contents}
    for prog in spec.programs:
        if prog is main:
            continue
        if prog.tail_call is not None or (prog.name and prog.name in slot_names):
            chosen.append(prog)
    return tuple(chosen)


def _main_program(spec: ObjectSpec, options: LoadOptions) -> ProgramSpec:
    if options.program is not None:
        found = spec.program(options.program)
        if found is None:
            raise ObjectError(f"object file doesn't contain prog {options.program}")
        return found
    section = options.section
    if section is None:
        raise ObjectError("no program section given")
    for prog in spec.programs:
        if prog.section == section:
            return prog
    raise ObjectError(f"object file doesn't contain sec {section}")  # libbpf's words


def load_object(
    kernel: LoaderKernel,
    spec: ObjectSpec,
    options: LoadOptions,
    programs: tuple[ProgramSpec, ...] | None = None,
    defer_commit: bool = False,
) -> LoadedObject:
    """load_object: create maps and load `programs` (default: select_programs) of `spec`.

    Without `defer_commit` the load commits itself (publishes its pins; no attach). With it
    the caller finishes the job and then calls commit(attach) or discard() on the result
    (or on `options.group`, to commit several loads around one attach).
    """
    check_byte_order(spec)
    chosen = programs if programs is not None else select_programs(spec, options)
    types = {id(p): _program_type(p, options) for p in chosen}
    pin_paths = _pin_paths(spec, options)
    group = options.group if defer_commit and options.group is not None else LoadGroup()
    plan = _Plan(kernel, spec, options, chosen, types, pin_paths)
    loaded = plan.run(group)
    group.add(loaded)
    if not defer_commit:
        loaded.commit()
    return loaded


class _Plan(NamedTuple):
    """_Plan: everything a load needs, kept to load the object again after a lost race."""

    kernel: LoaderKernel
    spec: ObjectSpec
    options: LoadOptions
    chosen: tuple[ProgramSpec, ...]
    types: dict[int, int]
    pin_paths: dict[str, str]

    def run(self, group: LoadGroup) -> LoadedObject:
        txn = Transaction()
        try:
            loaded = _load(self, txn, group)
        except BaseException:
            txn.rollback()
            raise
        loaded.txn, loaded.plan, loaded.group = txn, self, group
        return loaded


def _load(plan: _Plan, txn: Transaction, group: LoadGroup) -> LoadedObject:
    kernel, spec, options, chosen, types = (
        plan.kernel,
        plan.spec,
        plan.options,
        plan.chosen,
        plan.types,
    )
    btf_fd = load_btf(kernel, spec, _reporter(options), options.verbose)
    if btf_fd is not None:
        txn.own(btf_fd)
    ctx = MapContext(
        pin_paths=plan.pin_paths,
        btf_fd=int(btf_fd) if btf_fd is not None else 0,
        owner_prog_type=types[id(chosen[0])] if chosen else None,
        siblings=group.pending,
        pin_key=pin_key,
        report=_reporter(options) if options.verbose else None,
        ifindex=options.ifindex,
    )
    if options.verbose and options.report_out is not None:
        _report_fixup(spec, options.report_out)
    maps = create_maps(kernel, txn, spec.maps, ctx)
    fds = {name: int(m.fd) for name, m in maps.items()}
    core = CoreRelocator(spec, options.target_btf, options.env, options.open_target)
    loaded = []
    for prog in chosen:
        req = program_request(
            spec,
            prog,
            types[id(prog)],
            fds,
            ctx.btf_fd,
            options.expected_attach_type,
            core,
            options.memo,
            ifindex=options.ifindex,
        )
        log_size = verifier_log_size(options.env)
        result = load_program(kernel, req, prog.section, options.verbose, log_size)
        assert result.fd is not None
        loaded.append(Program(prog, txn.own(result.fd), req.prog_type))
        _bind_rodata(kernel, result.fd, maps)
        if options.verbose:
            _report_lines(
                options, report.prog_loaded(prog.section, req, int(result.fd), result.log)
            )
    _fill_prog_arrays(kernel, txn, maps, loaded)
    return LoadedObject(
        spec, maps, loaded, btf_fd, loaded[0] if loaded else None, fds=list(txn.fds)
    )


def _program_type(prog: ProgramSpec, options: LoadOptions) -> int:
    if options.prog_type is not None:
        return options.prog_type
    if prog.type is None:
        raise ObjectError(
            f"program '{prog.name or prog.section}': section '{prog.section}' names no "
            "program type; give one"
        )
    return prog.type


def _pin_paths(spec: ObjectSpec, options: LoadOptions) -> dict[str, str]:
    """_pin_paths: the pin path of every pinned map (names checked first), bpffs ready."""
    pinned = [m for m in spec.maps if m.pinning is not Pinning.NONE]
    if not options.pin or not pinned:
        return {}
    mount = bpffs.ensure_mount(options.env)
    bpffs.make_hierarchy(mount)
    wd = work_dir(mount, options.subdir)
    db = _pinning_db(options)
    paths = {}
    object_ns = any(m.pinning is Pinning.OBJECT_NS for m in pinned)
    obj_sha1 = spec.sha1 if object_ns else ""  # hashing only when a folder is named by it
    for m in pinned:
        path = map_pin_path(m, wd, obj_sha1, db)
        if path is not None:
            paths[m.name] = path
    return paths


def _pinning_db(options: LoadOptions) -> PinningDb:
    try:
        with open(options.pinning_db) as f:
            text = f.read()
    except FileNotFoundError:
        return PinningDb({})
    except OSError as err:
        raise PinError(f"cannot read {options.pinning_db}: {err.strerror}") from None
    db = parse_pinning_db(text, options.pinning_db)
    for warning in db.warnings:
        _reporter(options)(warning)
    return db


def _bind_rodata(kernel: LoaderKernel, prog: Fd, maps: dict[str, Map]) -> None:
    """_bind_rodata: tie every read-only data map to the program, as libbpf does.

    A program keeps the maps it references alive; binding the .rodata maps too lets tools
    show a program's constants even when the code folded them all away.
    """
    for m in maps.values():
        if m.spec.origin is MapOrigin.DATA and m.spec.freeze:
            kernel.prog_bind_map(prog, m.fd)


def _fill_prog_arrays(
    kernel: LoaderKernel, txn: Transaction, maps: dict[str, Map], loaded: list[Program]
) -> None:
    """_fill_prog_arrays: tail-call sections into their legacy arrays, static BTF slots.

    A prog array this load created is filled now (it is published complete, or never); one
    that existed before (or that an earlier load of the command publishes) gets its slots at
    commit, after everything else that can fail has succeeded, with undo records.
    """
    by_name = {p.spec.name: p for p in loaded if p.spec.name}
    for prog in loaded:
        call = prog.spec.tail_call
        if call is not None:
            _insert(kernel, txn, maps[call.map], call.key, prog)
    for m in maps.values():
        if m.spec.type != PROG_ARRAY or m.reused:
            continue  # a pinned array keeps the static slots its creator gave it
        for key, name in m.spec.contents:
            if name in by_name:
                _insert(kernel, txn, m, key, by_name[name])


def _insert(kernel: LoaderKernel, txn: Transaction, array: Map, key: int, prog: Program) -> None:
    if not array.reused:
        slots.fill(kernel, array, key, prog.fd)
        return
    slots.check_bounds(array, key)  # what the kernel would refuse at commit, refused now
    txn.defer_write(SlotWrite(array, key, prog.fd))


def _report_fixup(spec: ObjectSpec, out: Callable[[str], None]) -> None:
    """_report_fixup: iproute2's stdout line for legacy definitions shorter than struct
    bpf_elf_map (one per object: they all have the section's size)."""
    for m in spec.maps:
        line = report.map_fixup(m)
        if line is not None:
            out(line)
            return


def _report_lines(options: LoadOptions, lines: list[str]) -> None:
    """_report_lines: a report of several lines, one line per call of the reporter."""
    reporter = _reporter(options)
    for line in lines:
        reporter(line)


def _reporter(options: LoadOptions) -> Callable[[str], None]:
    if options.report is not None:
        return options.report
    return lambda line: None
