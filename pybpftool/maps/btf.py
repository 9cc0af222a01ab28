"""btf: BTF-defined maps in section `.maps` -> MapSpec.

Mirrors libbpf's bpf_object__init_user_btf_maps / parse_btf_map_def and
bpf_object__collect_map_relos. Each global variable of the `.maps` DATASEC is a struct whose
members encode the definition:

- `__uint(f, N)`   `int (*f)[N]`: a PTR to an ARRAY of N elements;
- `__type(f, T)`   `typeof(T) *f`: a PTR to T (key/value size and BTF type id);
- `__ulong(f, V)`  an anonymous one-value enum (64-bit map_extra);
- `__array(values, T)`  a zero-length ARRAY of PTR to a struct (map-in-map template) or to a
  FUNC_PROTO (prog array); slots are filled statically through relocations in `.rel.maps`.

iproute2 opens objects with `relaxed_maps`, so unknown fields are ignored, as here.
"""

# Annotations are evaluated here (no `from __future__ import annotations`): a NamedTuple
# field given as a string costs typing a compile() when the class is made.

from collections.abc import Callable, Mapping
from typing import NamedTuple, NoReturn

from pybpftool.btf import Array as BtfArray
from pybpftool.btf import BtfSpec, Composite, Enum, Kind, Member, Ptr, Var
from pybpftool.elf import STT_SECTION, ElfFile, Relocation, Section
from pybpftool.errors import ObjectError
from pybpftool.spec import MapOrigin, MapSpec, Pinning
from pybpftool.uapi import BpfMapType

BTF_MAPS_SECTION = ".maps"
LIBBPF_PIN_NONE, LIBBPF_PIN_BY_NAME = 0, 1
BTF_VAR_STATIC, BTF_VAR_GLOBAL_ALLOCATED = 0, 1
_PTR_SIZE = 8

_MAP_IN_MAP = (BpfMapType.BPF_MAP_TYPE_ARRAY_OF_MAPS, BpfMapType.BPF_MAP_TYPE_HASH_OF_MAPS)


class BtfMapLayout(NamedTuple):
    """BtfMapLayout: where a BTF map lives in `.maps` (for static-slot relocations)."""

    name: str
    offset: int
    size: int
    values_offset: int | None  # byte offset of the `values` member, if any


def parse_btf_maps(
    elf: ElfFile, sec: Section, btf: BtfSpec | None
) -> tuple[list[MapSpec], list[BtfMapLayout]]:
    """parse_btf_maps: every map of the `.maps` DATASEC, in DATASEC order."""
    if btf is None:
        raise ObjectError("section .maps needs BTF, but the object has no .BTF section")
    datasec = btf.datasec(BTF_MAPS_SECTION)
    if datasec is None:
        raise ObjectError("no DATASEC '.maps' in BTF for section .maps")
    offsets = {s.name: s.value for s in elf.symbols_in(sec.ndx) if s.type != STT_SECTION and s.name}
    specs, layouts = [], []
    fields = _FieldReader(btf)
    for info in datasec.vars:
        spec, layout = _parse_map_var(fields, info.type, info.size, offsets)
        specs.append(spec)
        layouts.append(layout)
    return specs, layouts


def _parse_map_var(
    fields: "_FieldReader", var_id: int, var_size: int, offsets: dict[str, int]
) -> tuple[MapSpec, BtfMapLayout]:
    btf = fields.btf
    var = btf.type(var_id)
    if not isinstance(var, Var):
        raise ObjectError(f"map #{var_id}: unexpected var kind in .maps DATASEC")
    name = var.name
    if var.linkage not in (BTF_VAR_STATIC, BTF_VAR_GLOBAL_ALLOCATED):
        raise ObjectError(f"map '{name}': unsupported map linkage {var.linkage}")
    struct_t = btf.type(btf.skip_mods_and_typedefs(var.type))
    if not isinstance(struct_t, Composite) or struct_t.kind != Kind.STRUCT:
        raise ObjectError(f"map '{name}': unexpected def kind, expected struct")
    if name not in offsets:
        raise ObjectError(f"map '{name}': no ELF symbol in section .maps")
    members = struct_t.members
    spec = _parse_def(fields, name, members, is_inner=False)
    # A parsed `values` member is the last one (_parse_values checks it).
    values_off = members[-1].bit_offset // 8 if members[-1].name == "values" else None
    size = max(var_size, struct_t.size)
    return spec, BtfMapLayout(name, offsets[name], size, values_off)


class _Definition:
    """_Definition: what a map definition's members have set so far (filled member by
    member, as libbpf fills its struct btf_map_def, then made a MapSpec). A plain class:
    dataclasses would cost every cold attach inspect, ast and dis."""

    __slots__ = (
        "flags", "inner", "key_size", "key_type_id", "map_extra", "map_type", "max_entries",
        "numa_node", "pin_id", "value_size", "value_type_id",
    )  # fmt: skip

    def __init__(self) -> None:
        self.map_type = 0
        self.key_size = 0
        self.value_size = 0
        self.max_entries = 0
        self.flags = 0
        self.pin_id = 0
        self.map_extra = 0
        self.numa_node: int | None = None
        self.inner: MapSpec | None = None
        self.key_type_id = 0
        self.value_type_id = 0


def _parse_def(
    fields: "_FieldReader", name: str, members: tuple[Member, ...], is_inner: bool
) -> MapSpec:
    """_parse_def: the map a definition's members describe (libbpf parse_btf_map_def)."""
    d = _Definition()
    for i, member in enumerate(members):
        field = member.name
        if field == "type":
            d.map_type = fields.uint(name, member)
        elif field == "max_entries":
            d.max_entries = fields.uint(name, member)
        elif field == "key":
            d.key_type_id, size = fields.pointee_and_size(name, member)
            d.key_size = _checked_size(name, "key", d.key_size, size)
        elif field == "value":
            d.value_type_id, size = fields.pointee_and_size(name, member)
            d.value_size = _checked_size(name, "value", d.value_size, size)
        elif field == "key_size":
            d.key_size = _checked_size(name, "key", d.key_size, fields.uint(name, member))
        elif field == "value_size":
            d.value_size = _checked_size(name, "value", d.value_size, fields.uint(name, member))
        elif field == "map_flags":
            d.flags = fields.uint(name, member)
        elif field == "numa_node":
            d.numa_node = fields.uint(name, member)
        elif field == "pinning":
            d.pin_id = _pin_id(fields, name, member, is_inner)
        elif field == "map_extra":
            d.map_extra = fields.ulong(name, member)
        elif field == "values":
            is_last = i == len(members) - 1
            d.value_size, d.inner = _parse_values(
                fields, name, d.map_type, d.value_size, member, is_last, is_inner
            )
        elif not field:
            raise ObjectError(f"map '{name}': invalid field #{i}")
        # Any other field: ignored, as libbpf does with relaxed_maps (iproute2's setting).
    if d.map_type == 0:
        raise ObjectError(f"map '{name}': map type isn't specified")
    return _map_spec(name, d)


def _map_spec(name: str, d: _Definition) -> MapSpec:
    return MapSpec(
        name=name,
        type=d.map_type,
        key_size=d.key_size,
        value_size=d.value_size,
        max_entries=d.max_entries,
        flags=d.flags,
        origin=MapOrigin.BTF,
        section=BTF_MAPS_SECTION,
        pinning=Pinning.BY_NAME if d.pin_id == LIBBPF_PIN_BY_NAME else Pinning.NONE,
        pin_id=d.pin_id,
        map_extra=d.map_extra,
        numa_node=d.numa_node,
        inner=d.inner,
        btf_key_type_id=d.key_type_id,
        btf_value_type_id=d.value_type_id,
    )


def _checked_size(name: str, which: str, current: int, size: int) -> int:
    """_checked_size: `size`, unless a member set another `which` size before."""
    if current and current != size:
        raise ObjectError(f"map '{name}': conflicting {which} size {current} != {size}")
    return size


def _pin_id(fields: "_FieldReader", name: str, member: Member, is_inner: bool) -> int:
    if is_inner:
        raise ObjectError(f"map '{name}': inner def can't be pinned")
    pin_id = fields.uint(name, member)
    if pin_id not in (LIBBPF_PIN_NONE, LIBBPF_PIN_BY_NAME):
        raise ObjectError(f"map '{name}': invalid pinning value {pin_id}")
    return pin_id


class _FieldReader:
    """_FieldReader: the values of map-definition members, remembered per member type.

    clang emits one `int (*)[N]` type per distinct N and one pointer type per key or value
    type, and every map using them shares them: reading each once keeps `.maps` cheap.
    Only answers are remembered; an error is raised again, naming the map, at every use.
    """

    def __init__(self, btf: BtfSpec) -> None:
        self.btf = btf
        self._uints: dict[int, int] = {}  # member type -> uint()
        self._pointees: dict[int, tuple[int, int]] = {}  # member type -> pointee_and_size()

    def uint(self, name: str, member: Member) -> int:
        """uint: the N of `int (*f)[N]` (libbpf get_map_field_int)."""
        value = self._uints.get(member.type)
        if value is None:
            btf = self.btf
            target = btf.pointee(member.type)
            if target is None:
                self._unexpected(name, member, "PTR", member.type)
            value = btf.array_len(target)
            if value is None:
                self._unexpected(name, member, "ARRAY", target)
            self._uints[member.type] = value
        return value

    def pointee_and_size(self, name: str, member: Member) -> tuple[int, int]:
        """pointee_and_size: the type id T of `typeof(T) *f` and T's size."""
        found = self._pointees.get(member.type)
        if found is None:
            target = self._pointee(name, member)
            try:
                size = self.btf.resolve_size(target)
            except ObjectError as err:
                raise ObjectError(
                    f"map '{name}': can't determine {member.name} size for type [{target}]: {err}"
                ) from None
            found = self._pointees[member.type] = (target, size)
        return found

    def _pointee(self, name: str, member: Member) -> int:
        target = self.btf.pointee(member.type)
        if target is None:
            self._unexpected(name, member, "PTR", member.type)
        return target

    def _unexpected(self, name: str, member: Member, expected: str, type_id: int) -> NoReturn:
        """_unexpected: raise that `type_id` (through modifiers and typedefs) is not a PTR or
        an ARRAY as `expected`."""
        btf = self.btf
        kind = btf.kind(btf.skip_mods_and_typedefs(type_id)).name
        raise ObjectError(f"map '{name}': attr '{member.name}': expected {expected}, got {kind}")

    def ulong(self, name: str, member: Member) -> int:
        """ulong: the value of `enum { x = V } f` (libbpf get_map_field_long), or __uint."""
        btf = self.btf
        t = btf.type(btf.skip_mods_and_typedefs(member.type))
        if isinstance(t, Enum):
            if len(t.values) != 1:
                raise ObjectError(f"map '{name}': attr '{member.name}': invalid __ulong")
            return t.values[0].value & 0xFFFFFFFFFFFFFFFF
        return self.uint(name, member)


def _parse_values(
    fields: _FieldReader,
    name: str,
    map_type: int,
    value_size: int,
    member: Member,
    is_last: bool,
    is_inner: bool,
) -> tuple[int, MapSpec | None]:
    """_parse_values: `__array(values, T)`, checked in libbpf's order with its messages.

    Returns the value size (4: a map or program id) and the inner map's template, if any.
    """
    btf = fields.btf
    is_prog_array = map_type == BpfMapType.BPF_MAP_TYPE_PROG_ARRAY
    desc = "prog-array value" if is_prog_array else "map-in-map inner"
    if is_inner:
        raise ObjectError(f"map '{name}': multi-level inner maps not supported")
    if not is_last:
        raise ObjectError(f"map '{name}': '{member.name}' member should be last")
    if map_type not in _MAP_IN_MAP and not is_prog_array:
        raise ObjectError(f"map '{name}': should be map-in-map or prog-array")
    value_size = _checked_size(name, "value", value_size, 4)
    arr = btf.type(member.type)
    if not isinstance(arr, BtfArray) or arr.nelems:
        raise ObjectError(f"map '{name}': {desc} spec is not a zero-sized array")
    ptr = btf.type(btf.skip_mods_and_typedefs(arr.type))
    if not isinstance(ptr, Ptr):
        raise ObjectError(f"map '{name}': {desc} def is of unexpected kind {ptr.kind.name}")
    target = btf.type(btf.skip_mods_and_typedefs(ptr.type))
    if is_prog_array:
        if target.kind != Kind.FUNC_PROTO:
            raise ObjectError(f"map '{name}': {desc} def is of unexpected kind {target.kind.name}")
        return value_size, None
    if not isinstance(target, Composite) or target.kind != Kind.STRUCT:
        raise ObjectError(f"map '{name}': {desc} def is of unexpected kind {target.kind.name}")
    return value_size, _parse_def(fields, f"{name}.inner", target.members, is_inner=True)


def collect_static_slots(
    elf: ElfFile,
    rels: list[Relocation],
    specs: list[MapSpec],
    layouts: list[BtfMapLayout],
    entry_at: Callable[[int, int], str],
    maps_shndx: int,
) -> list[MapSpec]:
    """collect_static_slots: fill `contents` of maps whose `values` are statically initialised.

    `entry_at(section index, byte offset)` names the entry program that starts there, or is
    "" if none does.
    """
    by_name = {spec.name: spec for spec in reversed(specs)}  # the first of each name
    holding = _maps_holding(layouts, [rel.offset for rel in rels])
    slots: dict[str, dict[int, str]] = {}
    symbols = elf.symbols
    for i, rel in enumerate(rels):
        if not 0 < rel.sym < len(symbols):
            raise ObjectError(f"'.maps' relo #{i}: unknown symbol index {rel.sym}")
        sym = symbols[rel.sym]
        layout = holding[rel.offset]
        if layout is None:
            raise ObjectError(f"'.maps' relo #{i}: no map at offset {rel.offset}")
        spec = by_name[layout.name]
        if layout.values_offset is None:
            raise ObjectError(f"'.maps' relo #{i}: map '{spec.name}' has no 'values' member")
        slot = _slot_index(i, rel.offset - layout.offset - layout.values_offset)
        if spec.type in _MAP_IN_MAP:
            target = _inner_target(i, sym.shndx, sym.name, maps_shndx, by_name)
        else:
            target = entry_at(sym.shndx, sym.value)
            if not target:
                raise ObjectError(f"'.maps' relo #{i}: '{sym.name}' isn't an entry-point program")
        slots.setdefault(spec.name, {})[slot] = target
    return [
        s._replace(contents=tuple(sorted(slots[s.name].items())))
        if s.name in slots
        else s
        for s in specs
    ]


def _maps_holding(
    layouts: list[BtfMapLayout], offsets: list[int]
) -> dict[int, BtfMapLayout | None]:
    """_maps_holding: for each of `offsets` in `.maps`, the first map (in DATASEC order)
    whose bytes hold it, or None.

    A sound object's maps do not overlap, but a broken one's may: a sweep over the offsets
    in ascending order keeps the maps begun so far in a heap by DATASEC position, dropping
    from its top those ended, so the top is the answer (n log n, not a scan per offset).
    """
    import heapq  # objects with static slots (.rel.maps) alone need it

    by_start = sorted(range(len(layouts)), key=lambda i: layouts[i].offset)
    begun: list[tuple[int, int]] = []  # (DATASEC position, end offset)
    answers: dict[int, BtfMapLayout | None] = {}
    next_map = 0
    for offset in sorted(set(offsets)):
        while next_map < len(by_start) and layouts[by_start[next_map]].offset <= offset:
            i = by_start[next_map]
            heapq.heappush(begun, (i, layouts[i].offset + layouts[i].size))
            next_map += 1
        while begun and begun[0][1] <= offset:  # ended: offsets only grow
            heapq.heappop(begun)
        answers[offset] = layouts[begun[0][0]] if begun else None
    return answers


def _slot_index(relo: int, offset: int) -> int:
    if offset < 0:
        raise ObjectError(f"'.maps' relo #{relo}: unexpected relo pointing before values")
    if offset % _PTR_SIZE:
        raise ObjectError(f"'.maps' relo #{relo}: slot is not aligned")
    return offset // _PTR_SIZE


def _inner_target(
    relo: int, shndx: int, name: str, maps_shndx: int, specs: Mapping[str, MapSpec]
) -> str:
    if shndx != maps_shndx:
        raise ObjectError(f"'.maps' relo #{relo}: inner map '{name}' is not in section .maps")
    if name not in specs:
        raise ObjectError(f"'.maps' relo #{relo}: inner map '{name}' not found")
    return name
