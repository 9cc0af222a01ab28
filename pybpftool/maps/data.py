"""data: global data sections as one-entry array maps (libbpf "internal maps").

Mirrors libbpf's bpf_object__init_global_data_maps / bpf_object__init_internal_map:
`.data`, `.rodata`, `.bss` and their `.data.*`, `.rodata.*`, `.bss.*` variants (including
clang's `.rodata.str1.1` and `.rodata.cst16`) become BPF_MAP_TYPE_ARRAY maps with key 4,
value = section size, one entry and the section's bytes as initial value. Flags follow
libbpf 1.1 (the version iproute2 6.1 is built with, our differential oracle): a map is
BPF_F_MMAPABLE when its section's DATASEC holds a global variable (libbpf map_is_mmapable),
`.rodata*` is also BPF_F_RDONLY_PROG and frozen after it is filled.
"""

from __future__ import annotations

from pybpftool.btf import BtfSpec, Datasec, Var
from pybpftool.elf import SHT_NOBITS, SHT_PROGBITS, ElfFile, Section
from pybpftool.spec import MapOrigin, MapSpec
from pybpftool.uapi import BpfMapType

BPF_F_RDONLY_PROG = 1 << 7
BPF_F_MMAPABLE = 1 << 10
BPF_OBJ_NAME_LEN = 16
BTF_VAR_STATIC = 0


def is_data_section(sec: Section) -> bool:
    """is_data_section: libbpf's SEC_DATA / SEC_RODATA / SEC_BSS classification."""
    if sec.size == 0:
        return False
    if sec.type == SHT_PROGBITS and not sec.is_exec:
        return _has_prefix(sec.name, ".data") or _has_prefix(sec.name, ".rodata")
    return sec.type == SHT_NOBITS and _has_prefix(sec.name, ".bss")


def _has_prefix(name: str, base: str) -> bool:
    return name == base or name.startswith(base + ".")


def internal_map_name(obj_name: str, section: str) -> str:
    """internal_map_name: the kernel-visible name libbpf gives a data map.

    Up to 8 characters of the object name, then the section name (at least 7 characters
    reserved for it), 15 characters in all; no object prefix when the section name has a
    second dot (`.data.custom`, `.rodata.str1.1`); characters the kernel refuses become `_`.
    """
    suffix_len = max(7, len(section))
    prefix_len = 0 if "." in section[1:] else min(BPF_OBJ_NAME_LEN - suffix_len - 1, len(obj_name))
    name = (obj_name[: max(prefix_len, 0)] + section[:suffix_len])[: BPF_OBJ_NAME_LEN - 1]
    return "".join(c if c.isascii() and (c.isalnum() or c in "_.") else "_" for c in name)


def parse_data_map(elf: ElfFile, sec: Section, obj_name: str, btf: BtfSpec | None) -> MapSpec:
    """parse_data_map: the internal map of one data section."""
    rodata = _has_prefix(sec.name, ".rodata")
    datasec = btf.datasec(sec.name) if btf is not None else None
    value_type = datasec.id if datasec is not None else 0
    mmapable = btf is not None and datasec is not None and _has_global_var(btf, datasec)
    return MapSpec(
        name=internal_map_name(obj_name, sec.name),
        type=BpfMapType.BPF_MAP_TYPE_ARRAY,
        key_size=4,
        value_size=sec.size,
        max_entries=1,
        flags=(BPF_F_MMAPABLE if mmapable else 0) | (BPF_F_RDONLY_PROG if rodata else 0),
        origin=MapOrigin.DATA,
        section=sec.name,
        data=elf.section_data(sec),
        freeze=rodata,
        btf_value_type_id=value_type,
    )


def _has_global_var(btf: BtfSpec, datasec: Datasec) -> bool:
    """_has_global_var: libbpf's map_is_mmapable: the section holds a non-static variable.

    User space may only mmap the global variables; a section of static ones (or one without
    BTF, such as clang's .rodata.str1.1) is not made mmapable.
    """
    for info in datasec.vars:
        var = btf.type(info.type)
        if isinstance(var, Var) and var.linkage != BTF_VAR_STATIC:
            return True
    return False
