"""core: ObjectSpec -> live kernel objects, the way iproute2 loads a BPF object.

`load_object` runs the steps in iproute2's order: pin paths (validated before anything is
created), BTF, every map, then the selected program, its tail calls and the programs named in
static prog-array slots, then the prog-array fills. All of it happens inside a Transaction:
any failure removes the new pins and folders and closes every fd, leaving pins that existed
before untouched.
"""

from __future__ import annotations

import errno as _errno
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Protocol

from pybpftool.errors import KernelError, ObjectError, PinError
from pybpftool.kernel import bpffs
from pybpftool.kernel.bpf import LoadResult, ProgRequest
from pybpftool.kernel.fd import Fd
from pybpftool.loader.btfload import load_btf
from pybpftool.loader.corerelo import CoreRelocator
from pybpftool.loader.maps import PROG_ARRAY, Map, MapContext, MapKernel, create_maps
from pybpftool.loader.programs import (
    FUNC_INFO_SIZE,
    LINE_INFO_SIZE,
    ProgKernel,
    ext_records,
    load_program,
    relocate,
)
from pybpftool.loader.txn import Transaction
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


class LoaderKernel(MapKernel, ProgKernel, Protocol):
    """LoaderKernel: everything load_object asks of the kernel."""

    def btf_load(self, blob: bytes, log_level: int = 0, log_size: int = 0) -> LoadResult: ...
    def prog_bind_map(self, prog: Fd, map_fd: Fd) -> None: ...


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
    target_btf: str | None = None  # CO-RE target; None: $PYBPFTOOL_TARGET_BTF or the kernel's
    open_target: Callable[[str], TargetBtf] | None = None  # e.g. a -batch's memo of targets


@dataclass
class Program:
    """Program: a loaded program of the object."""

    spec: ProgramSpec
    fd: Fd
    prog_type: int


@dataclass
class LoadedObject:
    """LoadedObject: the maps and programs one load created or reused; close() releases fds."""

    spec: ObjectSpec
    maps: dict[str, Map]
    programs: list[Program]
    btf_fd: Fd | None = None
    main: Program | None = None
    fds: list[Fd] = field(default_factory=list)
    txn: Transaction | None = None  # set while the load awaits commit() or discard()

    def commit(self) -> None:
        """commit: keep what the load created (pins stay; fds stay open until close())."""
        if self.txn is not None:
            self.txn.commit()
            self.txn = None

    def discard(self) -> None:
        """discard: undo the whole load: new pins and folders removed, every fd closed."""
        if self.txn is not None:
            self.txn.rollback()
            self.txn = None
        self.close()

    def close(self) -> None:
        for fd in reversed(self.fds):
            fd.close()


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

    With `defer_commit` the caller finishes the job (say, attaching the program) and then
    calls commit() or discard() on the result, so a later failure can still undo the load.
    """
    check_byte_order(spec)
    chosen = programs if programs is not None else select_programs(spec, options)
    types = {id(p): _program_type(p, options) for p in chosen}
    pin_paths, make_dirs = _pin_paths(spec, options)
    txn = Transaction()
    try:
        loaded = _load(kernel, spec, options, chosen, types, pin_paths, make_dirs, txn)
    except BaseException:
        txn.rollback()
        raise
    if defer_commit:
        loaded.txn = txn
    else:
        txn.commit()
    return loaded


def _load(
    kernel: LoaderKernel,
    spec: ObjectSpec,
    options: LoadOptions,
    chosen: tuple[ProgramSpec, ...],
    types: dict[int, int],
    pin_paths: dict[str, str],
    make_dirs: Callable[[str, Callable[[str], None]], None] | None,
    txn: Transaction,
) -> LoadedObject:
    btf_fd = load_btf(kernel, spec, _reporter(options), options.verbose)
    if btf_fd is not None:
        txn.own(btf_fd)
    ctx = MapContext(
        pin_paths=pin_paths,
        btf_fd=int(btf_fd) if btf_fd is not None else 0,
        owner_prog_type=types[id(chosen[0])] if chosen else None,
        make_pin_dirs=make_dirs,
    )
    maps = create_maps(kernel, txn, spec.maps, ctx)
    fds = {name: int(m.fd) for name, m in maps.items()}
    core = CoreRelocator(spec, options.target_btf, options.env, options.open_target)
    loaded = []
    for prog in chosen:
        req = program_request(
            spec, prog, types[id(prog)], fds, ctx.btf_fd, options.expected_attach_type, core
        )
        result = load_program(kernel, req, prog.section, options.verbose)
        assert result.fd is not None
        loaded.append(Program(prog, txn.own(result.fd), req.prog_type))
        _bind_rodata(kernel, result.fd, maps)
        if options.verbose:
            _reporter(options)(f"Prog section '{prog.section}' loaded ({int(result.fd)})!")
    _fill_prog_arrays(kernel, spec, maps, loaded)
    return LoadedObject(
        spec, maps, loaded, btf_fd, loaded[0] if loaded else None, fds=list(txn.fds)
    )


def program_request(
    spec: ObjectSpec,
    prog: ProgramSpec,
    prog_type: int,
    fds: dict[str, int],
    btf_fd: int,
    expected_attach_type: int | None,
    core: CoreRelocator | None = None,
) -> ProgRequest:
    """program_request: PROG_LOAD fields for `prog` with map fds patched in and CO-RE
    relocations applied (against `core`'s target, by default the running kernel's BTF)."""
    insns = bytearray(relocate(prog, fds, spec.byteorder))
    poisoned = (core or CoreRelocator(spec)).apply(prog, insns)
    func_info, line_info = b"", b""
    if btf_fd and spec.btf_ext is not None:
        func_info, line_info = ext_records(prog, spec.btf_ext, spec.byteorder)
    attach = expected_attach_type
    if attach is None:
        attach = prog.expected_attach_type if prog.type == prog_type else None
    return ProgRequest(
        prog_type=prog_type,
        insns=bytes(insns),
        license=spec.license,
        name=prog.name,
        expected_attach_type=attach or 0,
        kern_version=spec.kern_version or 0,
        prog_flags=BPF_F_SLEEPABLE if prog.sleepable else 0,
        prog_btf_fd=btf_fd if func_info else 0,
        func_info=func_info,
        func_info_rec_size=FUNC_INFO_SIZE,
        line_info=line_info,
        line_info_rec_size=LINE_INFO_SIZE,
        core_poisoned=poisoned,
    )


BPF_F_SLEEPABLE = 1 << 4


def _program_type(prog: ProgramSpec, options: LoadOptions) -> int:
    if options.prog_type is not None:
        return options.prog_type
    if prog.type is None:
        raise ObjectError(
            f"program '{prog.name or prog.section}': section '{prog.section}' names no "
            "program type; give one"
        )
    return prog.type


def check_byte_order(spec: ObjectSpec) -> None:
    host = "<" if sys.byteorder == "little" else ">"
    if spec.byteorder != host:
        ours, theirs = ("little", "big") if host == "<" else ("big", "little")
        raise ObjectError(f"We are {ours} endian, eBPF object is {theirs} endian!")


def _pin_paths(
    spec: ObjectSpec, options: LoadOptions
) -> tuple[dict[str, str], Callable[[str, Callable[[str], None]], None] | None]:
    """_pin_paths: the pin path of every pinned map (names checked first), bpffs ready."""
    pinned = [m for m in spec.maps if m.pinning is not Pinning.NONE]
    if not options.pin or not pinned:
        return {}, None
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
    return paths, bpffs.make_pin_dirs


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
    kernel: LoaderKernel, spec: ObjectSpec, maps: dict[str, Map], loaded: list[Program]
) -> None:
    """_fill_prog_arrays: tail-call sections into their legacy arrays, static BTF slots."""
    by_name = {p.spec.name: p for p in loaded if p.spec.name}
    for prog in loaded:
        call = prog.spec.tail_call
        if call is not None:
            _insert(kernel, maps[call.map], call.key, prog)
    for m in maps.values():
        if m.spec.type != PROG_ARRAY or m.reused:
            continue
        for key, name in m.spec.contents:
            if name in by_name:
                _insert(kernel, m, key, by_name[name])


def _insert(kernel: LoaderKernel, array: Map, key: int, prog: Program) -> None:
    try:
        kernel.map_update(array.fd, _u32(key), _u32(int(prog.fd)))
    except KernelError as err:
        legacy_id = array.spec.legacy.id if array.spec.legacy else 0
        if err.errno == _errno.E2BIG:
            detail = f"Tail call key {key} for map {legacy_id} out of bounds?"
        else:
            detail = f"Cannot update map key for tail call! ({os.strerror(err.errno)})"
        raise KernelError(
            err.operation, err.errno, "Error filling program arrays!", details=(detail,)
        ) from None


def _u32(value: int) -> bytes:
    return value.to_bytes(4, sys.byteorder)


def _reporter(options: LoadOptions) -> Callable[[str], None]:
    if options.report is not None:
        return options.report
    return lambda line: None
