"""mapbtf: a MapDef as the BTF struct libbpf reads from `.maps` (bpf_helpers.h encodings).

Clang's shapes, so that every loader that reads `.maps` reads these:
- `__uint(f, N)`  is `int (*f)[N]`: a PTR to an ARRAY of N `int`, indexed by
  `__ARRAY_SIZE_TYPE__` (an N this large would make the kernel refuse the array's size
  (N * 4 > U32_MAX), so such an N gets an array of `unsigned char`, which libbpf reads the same);
- `__type(f, T)`  is `T *f`;
- `__array(values, T)` is `T *values[]`: a zero-length ARRAY of PTR to the inner map's
  definition struct, or to the FUNC_PROTO `int (void *)` for a prog array; it comes last.
Every member is a pointer: 8 bytes, at 64-bit steps.
"""

from __future__ import annotations

from typing import NamedTuple

from pybpftool.convert.btfbuild import BtfBuilder
from pybpftool.convert.plan import MAP_IN_MAP, MapDef

PTR_SIZE = 8
LIBBPF_PIN_BY_NAME = 1
_INT_ARRAY_MAX = 0xFFFFFFFF // 4


class MapType(NamedTuple):
    """MapType: the definition struct of a map: its id, size and where `values` starts."""

    struct_id: int
    size: int
    values_offset: int | None


class MapTypes:
    """MapTypes: builds map definition structs into one BtfBuilder, sharing what repeats."""

    def __init__(self, builder: BtfBuilder) -> None:
        self.builder = builder
        self._int = builder.find_int("int", 4, True)
        self._index = builder.find_int("__ARRAY_SIZE_TYPE__", 4, False)
        self._byte: int | None = None
        self._prog_value: int | None = None

    def uint(self, value: int) -> int:
        """uint: the member type of `__uint(f, value)`."""
        elem = self._int
        if value > _INT_ARRAY_MAX:
            if self._byte is None:
                self._byte = self.builder.find_int("unsigned char", 1, False)
            elem = self._byte
        return self.builder.ptr(self.builder.array(elem, self._index, value))

    def define(self, d: MapDef) -> MapType:
        """define: the struct of definition `d` (and of its inner map's, if it has one)."""
        b = self.builder
        members: list[tuple[str, int]] = [("type", self.uint(d.type))]
        if d.key_type:
            members.append(("key", b.ptr(d.key_type)))
        elif d.key_size:
            members.append(("key_size", self.uint(d.key_size)))
        values = self._values(d)
        if d.value_type:
            members.append(("value", b.ptr(d.value_type)))
        elif d.value_size and values is None:
            members.append(("value_size", self.uint(d.value_size)))
        members.append(("max_entries", self.uint(d.max_entries)))
        if d.flags:
            members.append(("map_flags", self.uint(d.flags)))
        if d.pin_by_name:
            members.append(("pinning", self.uint(LIBBPF_PIN_BY_NAME)))
        size = PTR_SIZE * len(members)
        if values is not None:
            members.append(("values", values))
        laid_out = [(name, t, 64 * i) for i, (name, t) in enumerate(members)]
        struct_id = b.struct("", size, laid_out)
        return MapType(struct_id, size, size if values is not None else None)

    def _values(self, d: MapDef) -> int | None:
        """_values: the `values` member type, for a map-in-map or an initialised prog array."""
        b = self.builder
        if d.type in MAP_IN_MAP and d.inner is not None:
            target = self.define(d.inner).struct_id
        elif d.prog_slots and d.slots:
            if self._prog_value is None:
                self._prog_value = b.func_proto(self._int, [("", b.ptr(0))])
            target = self._prog_value
        else:
            return None
        return b.array(b.ptr(target), self._index, 0)

    def var_size(self, d: MapDef, t: MapType) -> int:
        """var_size: the variable's size in `.maps`: the struct, plus a pointer per slot up
        to the last one initialised (C's initialiser of the flexible `values` array)."""
        if t.values_offset is None or not d.slots:
            return t.size
        return t.values_offset + PTR_SIZE * (max(key for key, _ in d.slots) + 1)
