"""legacy: iproute2's `struct bpf_elf_map` and libbpf < 1.0 `struct bpf_map_def` in section `maps`.

Mirrors iproute2 lib/bpf_legacy.c (bpf_fetch_maps_begin/_end, bpf_fixup_mmaps,
bpf_map_verify_all_offs): the size of one definition is the section size divided by the number
of global map symbols; definitions smaller than the 9 x u32 struct are zero-extended (so the
5 x u32 bpf_map_def reads as a bpf_elf_map with id, pinning, inner_id and inner_idx zero),
larger ones are rejected. Messages are iproute2's.
"""

from __future__ import annotations

import struct

from pybpftool.elf import STB_GLOBAL, STT_NOTYPE, STT_OBJECT, ElfFile, Section, Symbol
from pybpftool.errors import ObjectError
from pybpftool.spec import LegacyMapDef, MapOrigin, MapSpec, Pinning
from pybpftool.uapi import BpfMapType

LEGACY_MAPS_SECTION = "maps"
ELF_MAX_MAPS = 64  # iproute2 ELF_MAX_MAPS
BPF_ELF_MAP_SIZE = 36  # sizeof(struct bpf_elf_map): 9 x u32
BPF_ELF_MAP_MIN = 16  # iproute2 bpf_elf_map_min: type, size_key, size_value, max_elem
BPF_ELF_NO_SLOT = 0xFFFFFFFF  # inner_idx meaning "do not insert into the outer map"

PIN_NONE, PIN_OBJECT_NS, PIN_GLOBAL_NS = 0, 1, 2

_FIXUP_HINT = "Error fixing up map structure, incompatible struct bpf_elf_map used?"


def map_symbols(elf: ElfFile, sec: Section) -> list[Symbol]:
    """map_symbols: global NOTYPE/OBJECT symbols in the maps section, by offset."""
    syms = [
        s
        for s in elf.symbols_in(sec.ndx)
        if s.bind == STB_GLOBAL and s.type in (STT_NOTYPE, STT_OBJECT)
    ]
    return sorted(syms, key=lambda s: s.value)


def parse_legacy_maps(elf: ElfFile, sec: Section) -> list[MapSpec]:
    """parse_legacy_maps: every map definition of section `maps`, in section order."""
    syms = map_symbols(elf, sec)
    map_len = _definition_size(sec.size, len(syms))
    by_offset = {s.value: s for s in syms}
    data = elf.section_data(sec)
    specs = []
    for off in range(0, sec.size, map_len):
        sym = by_offset.get(off)
        if sym is None:
            raise ObjectError("Different struct bpf_elf_map in use!", _FIXUP_HINT)
        raw = data[off : off + map_len] + bytes(BPF_ELF_MAP_SIZE - map_len)
        specs.append(_map_spec(sym.name, struct.unpack(elf.byteorder + "9I", raw), map_len))
    if len(by_offset) != len(specs):
        raise ObjectError("Different struct bpf_elf_map in use!", _FIXUP_HINT)
    return _link_inner_maps(specs)


def _definition_size(sec_size: int, nsyms: int) -> int:
    if sec_size > ELF_MAX_MAPS * BPF_ELF_MAP_SIZE:
        raise ObjectError("Too many BPF maps in ELF section!", _FIXUP_HINT)
    if nsyms == 0 or nsyms > ELF_MAX_MAPS:
        raise ObjectError(f"{nsyms} maps not supported in current map section!", _FIXUP_HINT)
    if sec_size % nsyms:
        raise ObjectError(
            "Number BPF map symbols are not multiple of struct bpf_elf_map!", _FIXUP_HINT
        )
    map_len = sec_size // nsyms
    if map_len > BPF_ELF_MAP_SIZE:
        raise ObjectError(
            "struct bpf_elf_map not supported, coming from future version?", _FIXUP_HINT
        )
    if map_len < BPF_ELF_MAP_MIN:
        raise ObjectError("struct bpf_elf_map too small, not supported!", _FIXUP_HINT)
    return map_len


def _pinning(value: int) -> Pinning:
    if value == PIN_NONE:
        return Pinning.NONE
    if value == PIN_OBJECT_NS:
        return Pinning.OBJECT_NS
    if value == PIN_GLOBAL_NS:
        return Pinning.GLOBAL_NS
    return Pinning.CUSTOM


def _map_spec(name: str, fields: tuple[int, ...], map_len: int) -> MapSpec:
    mtype, key, value, max_elem, flags, map_id, pinning, inner_id, inner_idx = fields
    return MapSpec(
        name=name,
        type=mtype,
        key_size=key,
        value_size=value,
        max_entries=max_elem,
        flags=flags,
        origin=MapOrigin.LEGACY,
        section=LEGACY_MAPS_SECTION,
        pinning=_pinning(pinning),
        pin_id=pinning,
        legacy=LegacyMapDef(map_id, pinning, inner_id, inner_idx, map_len),
    )


def _link_inner_maps(specs: list[MapSpec]) -> list[MapSpec]:
    """_link_inner_maps: give each outer map its template (map with id == inner_id) and slots.

    Mirrors iproute2's map-in-map passes: an inner map with `id` and an `inner_idx` other
    than BPF_ELF_NO_SLOT goes into slot inner_idx of every outer whose inner_id is that id.
    """
    outer_types = (BpfMapType.BPF_MAP_TYPE_ARRAY_OF_MAPS, BpfMapType.BPF_MAP_TYPE_HASH_OF_MAPS)
    out = []
    for spec in specs:
        legacy = spec.legacy
        assert legacy is not None
        if spec.type not in outer_types:
            out.append(spec)
            continue
        if legacy.inner_id == 0:
            raise ObjectError(f"Map '{spec.name}' cannot be created since no inner map ID defined!")
        inner = next((m for m in specs if m.legacy and m.legacy.id == legacy.inner_id), None)
        if inner is None:
            raise ObjectError(
                f"Map '{spec.name}' cannot be loaded. "
                f"Inner map with ID {legacy.inner_id} not found!"
            )
        slots = tuple(
            (m.legacy.inner_idx, m.name)
            for m in specs
            if m.legacy
            and m.legacy.id == legacy.inner_id
            and m.legacy.inner_id == 0
            and m.legacy.inner_idx != BPF_ELF_NO_SLOT
        )
        out.append(spec._replace(inner=inner, contents=slots))
    return out
