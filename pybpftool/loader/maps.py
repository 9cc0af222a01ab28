"""maps: create (or reuse from their pins) the maps of an object, as iproute2 does.

Order (spec/iproute2.md §2.4): every map is created before any program; legacy map-in-map
outers wait until their inner template (`inner_id`) exists; after that, inner maps are
inserted into the slots of newly created outers (`inner_idx`, 0xFFFFFFFF = no slot). BTF
map-in-maps get a throwaway inner map as template (libbpf), data maps their initial bytes,
and `.rodata` is frozen.

A pinned map is reused when its kernel shape matches the object's; otherwise the load fails
before it changes anything, naming each differing field in iproute2's words. A map to pin
that is not pinned yet is created unpinned and filled here; publish.py pins it at commit,
once it is complete. Within one command (a LoadGroup), a later load shares the map an
earlier load will publish at the same path instead of making a second one.

Annotations here are evaluated when defined (no `from __future__ import annotations`):
typing.NamedTuple compiles a string annotation into a ForwardRef per field, which a cold
attach, defining these records, paid for.
"""

import errno as _errno
from collections.abc import Callable, Mapping
from typing import NamedTuple, Protocol

from pybpftool.errors import KernelError, PinError
from pybpftool.kernel.bpf import MapInfo, MapRequest
from pybpftool.kernel.fd import Fd
from pybpftool.loader import slots
from pybpftool.loader.txn import Transaction
from pybpftool.spec import MapOrigin, MapSpec
from pybpftool.uapi import BpfMapType

MAP_IN_MAP = frozenset(
    {BpfMapType.BPF_MAP_TYPE_ARRAY_OF_MAPS, BpfMapType.BPF_MAP_TYPE_HASH_OF_MAPS}
)
PROG_ARRAY = slots.PROG_ARRAY
PERF_EVENT_ARRAY = BpfMapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY


class MapKernel(Protocol):
    """MapKernel: the kernel operations map creation needs (kernel.bpf.Kernel has them)."""

    def map_create(self, req: MapRequest) -> Fd: ...
    def map_update(self, fd: Fd, key: bytes, value: bytes, flags: int = 0) -> None: ...
    def map_freeze(self, fd: Fd) -> None: ...
    def map_info(self, fd: Fd) -> MapInfo: ...
    def fdinfo(self, fd: Fd) -> dict[str, str]: ...
    def obj_get(self, path: str, flags: int = 0) -> Fd: ...


class Map(NamedTuple):
    """Map: a map of the object as it exists in the kernel for this load."""

    spec: MapSpec
    fd: Fd
    pin_path: str | None = None  # where it is (reused) or will be (new) pinned
    reused: bool = False  # an existing pin (or an earlier load's of this command), not ours
    id: int = 0  # the kernel's map id of a reused map, to check at commit it is still pinned


class MapContext(NamedTuple):
    """MapContext: what map creation needs to know beyond the specs."""

    pin_paths: dict[str, str]  # map name -> pin path, only for maps to pin
    btf_fd: int = 0
    owner_prog_type: int | None = None  # the forced program type, checked on pinned prog arrays
    # Maps earlier loads of the same command will publish, by pin key (publish.pin_key).
    siblings: Mapping[str, Map] | None = None
    pin_key: Callable[[str], str] | None = None
    report: Callable[[str], None] | None = None  # with verbose: iproute2's map report
    ifindex: int = 0  # offload: create the maps for this device


def create_maps(
    kernel: MapKernel, txn: Transaction, specs: tuple[MapSpec, ...], ctx: MapContext
) -> dict[str, Map]:
    """create_maps: every map of `specs`, created or reused, in iproute2's order."""
    maps: dict[str, Map] = {}
    deferred = [s for s in specs if _is_legacy_outer(s)]
    for spec in specs:
        if not _is_legacy_outer(spec):
            maps[spec.name] = _get_or_create(kernel, txn, spec, maps, ctx)
    for spec in deferred:
        maps[spec.name] = _get_or_create(kernel, txn, spec, maps, ctx)
    for m in maps.values():
        if not m.reused and m.spec.type in MAP_IN_MAP:
            _fill_map_slots(kernel, m, maps)
    return {s.name: maps[s.name] for s in specs}  # the object's order, not creation order


def _report(ctx: MapContext, lines: list[str]) -> None:
    """_report: with verbose, iproute2's report of one map, one line per call."""
    if ctx.report is not None:
        for line in lines:
            ctx.report(line)


def map_request(spec: MapSpec, inner_fd: int = 0, btf_fd: int = 0, ifindex: int = 0) -> MapRequest:
    """map_request: BPF_MAP_CREATE fields for `spec` (outer maps hold 4-byte map fds); for
    an offloaded load every map but a perf event array belongs to the device `ifindex`."""
    value_size = 4 if spec.type in MAP_IN_MAP else spec.value_size
    with_btf = btf_fd and (spec.btf_key_type_id or spec.btf_value_type_id)
    return MapRequest(
        map_type=spec.type,
        key_size=spec.key_size,
        value_size=value_size,
        max_entries=spec.max_entries,
        map_flags=spec.flags,
        name=spec.name,
        inner_map_fd=inner_fd,
        numa_node=spec.numa_node,
        map_extra=spec.map_extra,
        btf_fd=btf_fd if with_btf else 0,
        btf_key_type_id=spec.btf_key_type_id if with_btf else 0,
        btf_value_type_id=spec.btf_value_type_id if with_btf else 0,
        map_ifindex=0 if spec.type == PERF_EVENT_ARRAY else ifindex,
    )


def differences(req: MapRequest, info: MapInfo) -> list[str]:
    """differences: iproute2's self-check lines for each field that differs (empty if none)."""
    fields = (
        (" - Type:         ", req.map_type, info.type, "{}"),
        (" - Size key:     ", req.key_size, info.key_size, "{}"),
        (" - Size value:   ", req.value_size, info.value_size, "{}"),
        (" - Max elems:    ", req.max_entries, info.max_entries, "{}"),
        (" - Flags:        ", req.map_flags, info.map_flags, "{:#x}"),
    )
    return [
        f"{label}{_c_fmt(fmt, ours)} (obj) != {_c_fmt(fmt, theirs)} (pin)"
        for label, ours, theirs, fmt in fields
        if ours != theirs
    ]


def _c_fmt(fmt: str, value: int) -> str:
    # C's %#x prints 0 as "0", not "0x0".
    return "0" if fmt == "{:#x}" and value == 0 else fmt.format(value)


def _is_legacy_outer(spec: MapSpec) -> bool:
    return spec.origin is MapOrigin.LEGACY and spec.type in MAP_IN_MAP


def _get_or_create(
    kernel: MapKernel, txn: Transaction, spec: MapSpec, maps: dict[str, Map], ctx: MapContext
) -> Map:
    path = ctx.pin_paths.get(spec.name)
    template = _throwaway_template(kernel, txn, spec, maps)
    inner_fd = _inner_fd(spec, maps, template)
    req = map_request(spec, inner_fd, ctx.btf_fd, ctx.ifindex)
    try:
        pinned = _open_pinned(kernel, txn, spec, req, path, ctx) if path is not None else None
        if pinned is not None:
            if ctx.report is not None:
                from pybpftool.loader import report  # what `verbose` prints, only then

                _report(ctx, report.map_pinned(spec))
            return pinned
        fd = txn.own(_create(kernel, req, spec))
        if ctx.report is not None:  # the report's lines are written only to be printed
            from pybpftool.loader import report

            _report(ctx, report.map_loaded(spec, req, int(fd)))
    finally:
        if template is not None:
            template.close()  # the outer map copied what it needed (libbpf closes it too)
    if spec.data is not None:
        _populate(kernel, fd, spec)
    return Map(spec, fd, path)  # published at commit, when complete


def _throwaway_template(
    kernel: MapKernel, txn: Transaction, spec: MapSpec, maps: dict[str, Map]
) -> Fd | None:
    """_throwaway_template: for a BTF map-in-map, an inner map made only as the template."""
    if spec.type not in MAP_IN_MAP or spec.inner is None or spec.inner.name in maps:
        return None
    return txn.own(_create(kernel, map_request(spec.inner), spec.inner))


def _inner_fd(spec: MapSpec, maps: dict[str, Map], template: Fd | None) -> int:
    if spec.type not in MAP_IN_MAP:
        return 0
    if template is not None:
        return int(template)
    if spec.inner is None or spec.inner.name not in maps:
        raise PinError(f"Map '{spec.name}' cannot be created since no inner map ID defined!")
    return int(maps[spec.inner.name].fd)


def _create(kernel: MapKernel, req: MapRequest, spec: MapSpec) -> Fd:
    try:
        return kernel.map_create(req)
    except KernelError as first:
        err = first
    if req.btf_fd:
        # libbpf retries without BTF: a kernel may refuse the types, not the map. If the
        # retry fails too, its errno is the one that ended the creation (say EMFILE).
        plain = req._replace(btf_fd=0, btf_key_type_id=0, btf_value_type_id=0)
        try:
            return kernel.map_create(plain)
        except KernelError as retry:
            err = retry
    raise KernelError(
        "map create", err.errno, f"Map object '{spec.name}' rejected: {_reason(err)}"
    ) from None


def _populate(kernel: MapKernel, fd: Fd, spec: MapSpec) -> None:
    assert spec.data is not None
    try:
        kernel.map_update(fd, b"\0\0\0\0", spec.data)
        if spec.freeze:
            kernel.map_freeze(fd)
    except KernelError as err:
        raise KernelError(
            err.operation, err.errno, f"map '{spec.name}': cannot set initial data: {_reason(err)}"
        ) from None


def _open_pinned(
    kernel: MapKernel,
    txn: Transaction,
    spec: MapSpec,
    req: MapRequest,
    path: str,
    ctx: MapContext,
) -> Map | None:
    """_open_pinned: the map pinned at `path` (or that an earlier load of this command will
    pin there) if compatible; None if there is none."""
    sibling = _sibling(ctx, path)
    if sibling is not None:
        fd = txn.own(sibling.fd.dup())
    else:
        try:
            fd = txn.own(kernel.obj_get(path))
        except KernelError as err:
            if err.errno == _errno.ENOENT:
                return None
            raise PinError(
                f"Couldn't open pinned map '{spec.name}' at {path}: {_reason(err)}"
            ) from None
    map_id = _check_compatible(kernel, fd, spec, req, ctx)
    return Map(spec, fd, path, reused=True, id=map_id)


def _sibling(ctx: MapContext, path: str) -> Map | None:
    if not ctx.siblings or ctx.pin_key is None:
        return None
    return ctx.siblings.get(ctx.pin_key(path))


def _check_compatible(
    kernel: MapKernel, fd: Fd, spec: MapSpec, req: MapRequest, ctx: MapContext
) -> int:
    """_check_compatible: the pinned map's id if it matches `req`; else PinError."""
    info = kernel.map_info(fd)
    lines = differences(req, info)
    if spec.type == PROG_ARRAY and ctx.owner_prog_type is not None:
        owner = kernel.fdinfo(fd).get("owner_prog_type")
        if owner is not None and int(owner) != ctx.owner_prog_type:
            lines.append(f" - Owner type:   {ctx.owner_prog_type} (obj) != {owner} (pin)")
    if lines:
        raise PinError(
            f"Map '{spec.name}' self-check failed!",
            details=("Map specification differs from pinned file!", *lines, ""),
        )
    return info.id


def _fill_map_slots(kernel: MapKernel, outer: Map, maps: dict[str, Map]) -> None:
    """_fill_map_slots: put each inner map named in `contents` into its slot of `outer`."""
    for key, name in outer.spec.contents:
        inner = maps.get(name)
        if inner is None:
            raise PinError(f"map '{outer.spec.name}': slot {key} names unknown map '{name}'")
        slots.fill(kernel, outer, key, inner.fd)


def _reason(err: KernelError) -> str:
    return err.message.split(": ", 1)[-1]
