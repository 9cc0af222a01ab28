"""fix_datasecs: DATASEC sizes and variable offsets from the ELF object, and the decoded
DATASECs it hands to the patched spec are what decoding the patched blob gives."""

from __future__ import annotations

import struct

import bpfobjs
import pytest

from pybpftool.btf import BtfSpec, Datasec, Kind, Var, parse_btf
from pybpftool.btf.fixup import fix_datasecs
from pybpftool.elf import STT_OBJECT, parse_elf
from pybpftool.parser import parse_object


def datasecs(btf: BtfSpec) -> list[Datasec]:
    found = [btf.type(type_id) for type_id in btf.ids_of_kind(Kind.DATASEC)]
    assert all(isinstance(d, Datasec) for d in found)
    return found  # type: ignore[return-value]


@pytest.mark.parametrize("target", bpfobjs.TARGETS)
def test_datasecs_take_the_elf_layout(target: str) -> None:
    path = bpfobjs.build("btf_kinds", target)
    btf = parse_object(path).btf
    assert btf is not None
    elf = parse_elf(path.read_bytes())
    fixed = datasecs(btf)
    assert {d.name for d in fixed} >= {".data", ".bss"}
    for datasec in fixed:
        section = elf.section_by_name(datasec.name)
        assert section is not None
        assert datasec.size == section.size
        symbols = {s.name: s.value for s in elf.symbols_in(section.ndx) if s.type == STT_OBJECT}
        names = [btf.type(v.type).name for v in datasec.vars]
        assert [v.offset for v in datasec.vars] == [symbols[name] for name in names]
        assert [v.offset for v in datasec.vars] == sorted(v.offset for v in datasec.vars)


@pytest.mark.parametrize("target", bpfobjs.TARGETS)
def test_handed_over_datasecs_are_the_decoded_ones(target: str) -> None:
    btf = parse_object(bpfobjs.build("btf_kinds", target)).btf
    assert btf is not None
    assert datasecs(btf) == datasecs(parse_btf(btf.raw, btf.byteorder))


def test_nothing_to_change_gives_the_spec_itself() -> None:
    btf = parse_object(bpfobjs.build("btf_kinds", "bpfel")).btf
    assert btf is not None
    layouts = {}
    for datasec in datasecs(btf):
        variables = [btf.type(v.type) for v in datasec.vars]
        offsets = {v.name: info.offset for v, info in zip(variables, datasec.vars, strict=True)}
        assert all(isinstance(v, Var) for v in variables)
        layouts[datasec.name] = (datasec.size, offsets)
    assert fix_datasecs(btf, layouts) is btf


@pytest.mark.parametrize("target", bpfobjs.TARGETS)
def test_only_the_datasec_records_change(target: str) -> None:
    # The patched blob is the original with each DATASEC's size and entries written over it.
    original = parse_btf(*bpfobjs.btf_section("btf_kinds", target))
    fixed = parse_object(bpfobjs.build("btf_kinds", target)).btf
    assert fixed is not None
    expected = bytearray(original.raw)
    changed = 0
    for datasec in datasecs(fixed):
        pos = fixed.record_offset(datasec.id)
        words = [datasec.size] + [w for v in datasec.vars for w in v]
        struct.pack_into(f"{fixed.byteorder}{len(words)}I", expected, pos + 8, *words)
        changed += datasec != original.type(datasec.id)
    assert changed >= 2
    assert fixed.raw == bytes(expected)
