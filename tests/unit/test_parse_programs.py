"""Programs, subprograms and global data: flattening of BPF-to-BPF calls and callbacks,
data maps with their initial bytes, libbpf's internal map names, autoload, iproute2-style
sections without a global function."""

from __future__ import annotations

import struct

import bpfobjs

from pybpftool.insn import BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, Insn
from pybpftool.maps.data import internal_map_name
from pybpftool.parser import object_name, parse_object
from pybpftool.spec import MapOrigin, ProgramSpec, RefKind
from pybpftool.uapi import BpfMapType, BpfProgType

MMAPABLE, RDONLY_PROG = 0x400, 0x80


def code_targets(prog: ProgramSpec, byteorder: str) -> list[tuple[int, int]]:
    """(instruction, destination) of every subprogram call and callback address."""
    out = []
    i = 0
    while i < prog.insn_count:
        insn = Insn(prog.insns, i, byteorder)
        if (insn.is_call and insn.src == BPF_PSEUDO_CALL) or (
            insn.is_ld_imm64 and insn.src == BPF_PSEUDO_FUNC
        ):
            out.append((i, i + insn.imm + 1))
        i += 2 if insn.is_ld_imm64 else 1
    return out


def test_data_sections_become_array_maps(target: str) -> None:
    spec = parse_object(bpfobjs.build("global_data", target), name="global_data")
    data_maps = [m for m in spec.maps if m.origin is MapOrigin.DATA]
    assert [(m.name, m.section, m.value_size, m.flags, m.freeze) for m in data_maps] == [
        ("global_d.data", ".data", 4, MMAPABLE, False),
        ("global_d.rodata", ".rodata", 4, MMAPABLE | RDONLY_PROG, True),
        (".data.custom", ".data.custom", 4, MMAPABLE, False),
        (".rodata.custom", ".rodata.custom", 10, MMAPABLE | RDONLY_PROG, True),
        # No DATASEC of their own (clang lists `table` under .rodata): not mmapable.
        (".rodata.cst16", ".rodata.cst16", 16, RDONLY_PROG, True),
        (".rodata.str1.1", ".rodata.str1.1", 9, RDONLY_PROG, True),
        ("global_d.bss", ".bss", 8, MMAPABLE, False),
    ]
    assert all(
        (m.type, m.key_size, m.max_entries) == (BpfMapType.BPF_MAP_TYPE_ARRAY, 4, 1)
        for m in data_maps
    )
    bo = spec.byteorder
    by_section = {m.section: m for m in data_maps}
    assert by_section[".data"].data == struct.pack(bo + "i", 7)
    assert by_section[".rodata"].data == struct.pack(bo + "I", 100)
    assert by_section[".rodata.custom"].data == b"pybpftool\0"
    assert by_section[".rodata.str1.1"].data == b"hits %d\n\0"
    assert by_section[".bss"].data == bytes(8)
    assert by_section[".rodata.cst16"].data == struct.pack(
        bo + "QQ", 0x1122334455667788, 0x99AABBCCDDEEFF00
    )


def test_data_maps_carry_their_datasec_type(target: str) -> None:
    spec = parse_object(bpfobjs.build("global_data", target), name="global_data")
    assert spec.btf is not None
    for m in spec.maps:
        if m.origin is MapOrigin.DATA and m.section in (".data", ".rodata", ".bss"):
            assert spec.btf.name_of(m.btf_value_type_id) == m.section
    strings = spec.map(".rodata.str1.1")
    assert strings is not None and strings.btf_value_type_id == 0  # clang emits no DATASEC


def test_data_references_carry_offsets(target: str) -> None:
    spec = parse_object(bpfobjs.build("global_data", target), name="global_data")
    prog = spec.program("xdp_main")
    assert prog is not None
    values = {(r.target, r.offset) for r in prog.references if r.kind is RefKind.MAP_VALUE}
    assert ("global_d.data", 0) in values
    assert (".data.custom", 0) in values
    assert (".rodata.custom", 0) in values
    assert any(t == ".rodata.str1.1" for t, _ in values)
    assert ("global_d.bss", 0) in values  # reached through the add_hits subprogram
    assert {r.target for r in prog.references if r.kind is RefKind.MAP} == {"values"}


def test_subprograms_are_appended_and_calls_rewritten(target: str) -> None:
    spec = parse_object(bpfobjs.build("global_data", target), name="global_data")
    prog = spec.program("xdp_main")
    assert prog is not None and prog.type == BpfProgType.BPF_PROG_TYPE_XDP
    assert sorted(prog.subprograms) == ["add_hits", "scale", "visit"]
    starts = {span.at for span in prog.layout[1:]}
    targets = code_targets(prog, spec.byteorder)
    assert {dest for _, dest in targets} == starts
    assert prog.layout[0].at == 0 and prog.layout[0].section == "xdp"
    assert sum(s.end - s.start for s in prog.layout) == prog.insn_count


def test_every_program_gets_its_own_copy(target: str) -> None:
    spec = parse_object(bpfobjs.build("global_data", target), name="global_data")
    tc = spec.program("optional_tc")
    assert tc is not None
    assert tc.subprograms == ("scale", "add_hits")
    assert {dest for _, dest in code_targets(tc, spec.byteorder)} == {s.at for s in tc.layout[1:]}
    plain = spec.program("plain_cls")
    assert plain is not None and plain.subprograms == () and plain.references == ()


def test_subprograms_come_in_libbpfs_order(target: str) -> None:
    """call_order calls outer then last, and outer calls inner: libbpf walks each appended
    subprogram at once (depth first), so inner comes before last."""
    spec = parse_object(bpfobjs.build("call_order", target))
    prog = spec.program("call_order")
    assert prog is not None
    assert prog.subprograms == ("outer", "inner", "last")
    at = {name: span.at for name, span in zip(prog.subprograms, prog.layout[1:], strict=True)}
    assert at["outer"] < at["inner"] < at["last"]
    callers = {dest: insn for insn, dest in code_targets(prog, spec.byteorder)}
    assert set(callers) == set(at.values())
    assert at["outer"] <= callers[at["inner"]] < at["inner"]  # inner is called from outer
    assert callers[at["last"]] < at["outer"]  # last from the program itself


def test_question_mark_section_is_not_autoloaded(target: str) -> None:
    spec = parse_object(bpfobjs.build("global_data", target), name="global_data")
    assert {p.name: (p.section, p.autoload) for p in spec.programs} == {
        "xdp_main": ("xdp", True),
        "optional_tc": ("tc/ingress", False),  # libbpf drops the "?" from the name
        "plain_cls": ("classifier", True),
    }
    tc = spec.program("optional_tc")
    assert tc is not None and tc.type == BpfProgType.BPF_PROG_TYPE_SCHED_CLS


def test_static_function_section_is_one_program(target: str) -> None:
    spec = parse_object(bpfobjs.build("static_prog", target))
    (prog,) = spec.programs
    assert (prog.name, prog.section, prog.type) == ("act_main", "action", None)
    assert prog.subprograms == ("twice",)


def test_object_name_and_internal_map_names() -> None:
    assert object_name("/tmp/tc_btf.o") == "tc_btf"
    assert object_name("bootstrap.bpf.o") == "bootstrap"
    assert internal_map_name("tc_btf", ".rodata") == "tc_btf.rodata"
    assert internal_map_name("my_object_name", ".rodata") == "my_objec.rodata"
    assert internal_map_name("my_object_name", ".bss") == "my_objec.bss"
    assert internal_map_name("tc_btf", ".data.custom") == ".data.custom"
    assert internal_map_name("x", ".rodata.str1.1") == ".rodata.str1.1"
    assert internal_map_name("x", ".data.a-very-long-name") == ".data.a_very_lo"
    assert internal_map_name("a-b", ".bss") == "a_b.bss"
