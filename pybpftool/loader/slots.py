"""slots: programs into prog-array slots, inner maps into map-in-map slots.

A map this load created is filled at once with `fill` (nobody else sees it before it is
published). A map that existed before is written only at commit, with `write_with_undo`:
the slot's old occupant is looked up (userspace lookups of fd maps answer with its id) and
opened by id first, so the undo record holds a reference that keeps it alive: a program that
only the array held would otherwise be freed by the overwrite and could not be put back.
"""

from __future__ import annotations

import errno as _errno
import os
import sys
from typing import TYPE_CHECKING, Protocol

from pybpftool.errors import KernelError
from pybpftool.kernel.fd import Fd
from pybpftool.loader.txn import CommitLog, SlotUndo, SlotWrite
from pybpftool.spec import MapSpec
from pybpftool.uapi import BpfMapType

if TYPE_CHECKING:
    from pybpftool.loader.maps import Map

PROG_ARRAY = BpfMapType.BPF_MAP_TYPE_PROG_ARRAY


class FillKernel(Protocol):
    """FillKernel: what filling a slot of a new map needs."""

    def map_update(self, fd: Fd, key: bytes, value: bytes, flags: int = 0) -> None: ...


class SlotKernel(FillKernel, Protocol):
    """SlotKernel: what a slot write of a pre-existing map and its undo record need."""

    def map_lookup(self, fd: Fd, key: bytes, value_size: int) -> bytes | None: ...
    def map_delete(self, fd: Fd, key: bytes) -> bool: ...
    def prog_by_id(self, prog_id: int) -> Fd: ...
    def map_by_id(self, map_id: int) -> Fd: ...


def fill(kernel: FillKernel, array: Map, key: int, value: Fd) -> None:
    """fill: slot `key` of `array` (a map of this load, not visible yet) := `value`."""
    try:
        kernel.map_update(array.fd, u32(key), u32(int(value)))
    except KernelError as err:
        raise slot_error(array.spec, key, err) from None


def write_with_undo(kernel: SlotKernel, write: SlotWrite, log: CommitLog) -> None:
    """write_with_undo: the slot write of a pre-existing map, its old value kept in `log`."""
    array, key = write.array, u32(write.key)
    try:
        old = kernel.map_lookup(array.fd, key, 4)
        previous = None if old is None else _open_by_id(kernel, array, old)
    except KernelError as err:
        raise KernelError(
            err.operation,
            err.errno,
            f"map '{array.spec.name}': cannot read slot {write.key} before writing it: "
            f"{os.strerror(err.errno)}",
        ) from None
    try:
        kernel.map_update(array.fd, key, u32(int(write.value)))
    except KernelError as err:
        if previous is not None:
            previous.close()
        raise slot_error(array.spec, write.key, err) from None
    log.wrote(SlotUndo(array.fd, array.spec.name, write.key, previous))


def check_bounds(array: Map, key: int) -> None:
    """check_bounds: refuse, before commit, a slot the kernel would refuse (E2BIG) then."""
    if key >= array.spec.max_entries:
        raise slot_error(array.spec, key, KernelError("map update", _errno.E2BIG, "E2BIG"))


def slot_error(spec: MapSpec, key: int, err: KernelError) -> KernelError:
    """slot_error: iproute2's words for a failed slot write of `spec`."""
    if spec.type == PROG_ARRAY:
        legacy_id = spec.legacy.id if spec.legacy else 0
        if err.errno == _errno.E2BIG:
            detail = f"Tail call key {key} for map {legacy_id} out of bounds?"
        else:
            detail = f"Cannot update map key for tail call! ({os.strerror(err.errno)})"
        return KernelError(
            err.operation, err.errno, "Error filling program arrays!", details=(detail,)
        )
    why = (
        f"Outer map has {spec.max_entries} elements, index {key} is invalid!"
        if err.errno in (_errno.E2BIG, _errno.EINVAL) and key >= spec.max_entries
        else "Different map specs used for outer and inner map?"
    )
    return KernelError(err.operation, err.errno, f"Cannot insert map into map! {why}")


def _open_by_id(kernel: SlotKernel, array: Map, value: bytes) -> Fd:
    old_id = int.from_bytes(value[:4], sys.byteorder)
    if array.spec.type == PROG_ARRAY:
        return kernel.prog_by_id(old_id)
    return kernel.map_by_id(old_id)


def u32(value: int) -> bytes:
    return value.to_bytes(4, sys.byteorder)
