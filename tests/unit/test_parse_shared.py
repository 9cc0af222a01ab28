"""Relocations that two programs share, and the parse's bookkeeping: a target remembered from
one section must not hide what is wrong with the same reference in another."""

from __future__ import annotations

import struct

import bpfobjs
import pytest

from pybpftool.elf import R_BPF_64_64, parse_elf
from pybpftool.errors import ObjectError
from pybpftool.parser import parse_object
from pybpftool.spec import RefKind

BPF_MOV64_IMM = 0xB7
BPF_CALL = 0x85


def test_programs_share_map_global_and_subprogram(target: str) -> None:
    spec = parse_object(bpfobjs.build("shared_refs", target))
    first, second = spec.program("first"), spec.program("second")
    assert first is not None and second is not None
    for prog in (first, second):
        assert prog.maps_used == ("shared_hits", "shared_r.bss")
        assert prog.subprograms == ("shared_helper",)
    assert first.insns == second.insns
    assert first.references == second.references
    assert [r.kind for r in first.references] == [RefKind.MAP, RefKind.MAP_VALUE]


def map_reference_offset(data: bytes, section: str) -> int:
    """The file offset of the ld_imm64 that loads `shared_hits` in `section`."""
    elf = parse_elf(data)
    code = elf.section_by_name(section)
    rel = elf.section_by_name(".rel" + section)
    assert code is not None and rel is not None
    for r in elf.relocations(rel):
        if r.type == R_BPF_64_64 and elf.symbols[r.sym].name == "shared_hits":
            return code.offset + r.offset
    raise AssertionError(f"no reference to shared_hits in {section}")


def test_a_remembered_target_does_not_excuse_a_bad_instruction(target: str) -> None:
    data = bytearray(bpfobjs.build("shared_refs", target).read_bytes())
    # The first section resolves shared_hits normally; in the second the same relocation
    # now sits on a mov, which no ld_imm64 answer may cover.
    data[map_reference_offset(bytes(data), "xdp/second")] = BPF_MOV64_IMM
    with pytest.raises(ObjectError, match=r"section 'xdp/second': relocation for a non-ld_imm64"):
        parse_object(bytes(data))


def byteorder(target: str) -> str:
    return "<" if target == "bpfel" else ">"


def call_imm(insns: bytes, index: int, target: str) -> int:
    code, _regs, _off, imm = struct.unpack_from(byteorder(target) + "BBhi", insns, index * 8)
    assert code == BPF_CALL
    return imm


def test_programs_calling_the_same_subprogram_get_the_same_block(target: str) -> None:
    spec = parse_object(bpfobjs.build("shared_block", target))
    first, second = spec.program("first"), spec.program("second")
    assert first is not None and second is not None
    for prog in (first, second):
        assert prog.subprograms == ("bump",)
        assert [(s.start, s.end, s.at) for s in prog.layout[1:]] == [(0, 3, 3)]
        assert call_imm(prog.insns, 0, target) == 2  # to bump, appended at 3
    assert first.insns[3 * 8 :] == second.insns[3 * 8 :]


def test_a_block_that_calls_back_into_a_program_is_laid_out_for_it(target: str) -> None:
    """bump (insns 0-2) is patched to call `first` (insns 3-5) at its second instruction."""
    data = bytearray(bpfobjs.build("shared_block", target).read_bytes())
    section = parse_elf(bytes(data)).section_by_name("xdp")
    assert section is not None
    src_reg = 0x10 if target == "bpfel" else 0x01  # BPF_PSEUDO_CALL in the src nibble
    struct.pack_into(byteorder(target) + "BBhi", data, section.offset + 8, BPF_CALL, src_reg, 0, 1)
    spec = parse_object(bytes(data))
    first, second = spec.program("first"), spec.program("second")
    assert first is not None and second is not None
    # first: bump appended at 3; its call (now at 4) goes back to first's own start.
    assert first.subprograms == ("bump",)
    assert call_imm(first.insns, 4, target) == 0 - 4 - 1
    # second: bump at 3, and first appended after it at 6 as a subprogram of second.
    assert second.subprograms == ("bump", "first")
    assert [(s.start, s.end, s.at) for s in second.layout] == [(6, 9, 0), (0, 3, 3), (3, 6, 6)]
    assert call_imm(second.insns, 4, target) == 6 - 4 - 1
    assert call_imm(second.insns, 6, target) == 3 - 6 - 1


def test_a_function_ending_inside_an_ld_imm64_is_refused(target: str) -> None:
    """`first`'s st_size made to end between the two slots of its map reference (insn 4):
    a linked copy would have no second slot to patch (issue 20: a struct.error in relocate)."""
    data = bytearray(bpfobjs.build("shared_refs", target).read_bytes())
    elf = parse_elf(bytes(data))
    (first,) = [s for s in elf.symbols if s.name == "first"]
    assert elf.symtab is not None
    struct.pack_into(elf.byteorder + "Q", data, elf.symtab.offset + first.ndx * 24 + 16, 5 * 8)
    with pytest.raises(ObjectError, match=r"^function 'first': ld_imm64 at instruction 4 runs"):
        parse_object(bytes(data))


def test_a_global_function_moved_into_another_code_section(target: str) -> None:
    """optional_tc's symbol moved (st_shndx) into xdp_main's section: two functions then start
    at instruction 0 there, one of them the section's whole (the first long-run finding)."""
    data = bytearray(bpfobjs.build("global_data", target).read_bytes())
    elf = parse_elf(bytes(data))
    (moved,) = [s for s in elf.symbols if s.name == "optional_tc"]
    xdp = elf.section_by_name("xdp")
    assert elf.symtab is not None and xdp is not None
    struct.pack_into(elf.byteorder + "H", data, elf.symtab.offset + moved.ndx * 24 + 6, xdp.ndx)
    spec = parse_object(bytes(data))
    assert [(p.name, p.subprograms) for p in spec.programs] == [
        ("xdp_main", ("visit", "scale", "add_hits")),
        ("optional_tc", ()),
        ("", ("scale", "add_hits")),
        ("plain_cls", ()),
    ]
