"""CO-RE relocations against a custom target (issue 6).

tests/bpf/core_reloc.c is built twice; the `-DTARGET` build's .BTF, cut out with
llvm-objcopy, stands in for a kernel. Each program of the object is one case; its relocated
instructions are shown before and after as short text ("ldxw +4", "imm 12", "lddw 20",
"poisoned") so the expectations read like the C comments in the object.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest
from bpfobjs import build

from pybpftool.btf import Kind
from pybpftool.btf.compat import essential_name
from pybpftool.btf.core import CoreKind
from pybpftool.btf.corepatch import POISON_HELPER
from pybpftool.btf.target import TargetBtf
from pybpftool.errors import ObjectError
from pybpftool.loader.corerelo import CoreRelocator, explain_poison
from pybpftool.parser import parse_object
from pybpftool.spec import ObjectSpec

LDX_SIZES = {0x61: "w", 0x69: "h", 0x71: "b", 0x79: "dw"}


def target_btf(target: str, tmp_path: Path) -> bytes:
    """target_btf: the .BTF of core_reloc built with -DTARGET (the aya pattern)."""
    out = tmp_path / f"target-{target}.btf"
    subprocess.run(
        [
            "llvm-objcopy-14",
            f"--dump-section=.BTF={out}",
            str(build("core_reloc", target, "-DTARGET")),
        ],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


@pytest.fixture
def case(target: str, tmp_path: Path) -> tuple[ObjectSpec, TargetBtf]:
    spec = parse_object(build("core_reloc", target))
    return spec, TargetBtf(target_btf(target, tmp_path))


def show(insns: bytes, idx: int, bo: str) -> str:
    code, _, off, imm = struct.unpack_from(bo + "BBhi", insns, idx * 8)
    if code == 0x85 and imm == POISON_HELPER:
        return "poisoned"
    if code in LDX_SIZES:
        return f"ldx{LDX_SIZES[code]} {off:+d}"
    if code == 0x18:
        hi = struct.unpack_from(bo + "i", insns, idx * 8 + 12)[0]
        return f"lddw {(imm & 0xFFFFFFFF) | (hi << 32)}"
    return f"imm {imm}"


def relocated(spec: ObjectSpec, target: TargetBtf, name: str) -> list[tuple[str, str, str]]:
    """relocated: (relocation kind, before, after) of each CO-RE instruction of `name`."""
    prog = next(p for p in spec.programs if p.name == name)
    assert spec.btf_ext is not None
    buf = bytearray(prog.insns)
    CoreRelocator(spec, opener=lambda path: target).apply(prog, buf)
    rows = []
    for relo in spec.btf_ext.core_relos[prog.section]:
        span = prog.layout[0]
        if span.start * 8 <= relo.insn_off < span.end * 8:
            idx = relo.insn_off // 8 - span.start
            before, after = show(prog.insns, idx, spec.byteorder), show(buf, idx, spec.byteorder)
            rows.append((CoreKind(relo.kind).name.lower(), before, after))
    return sorted(rows)


# What each program's relocations become against the target (see core_reloc.c).
EXPECTED = {
    "field_offset": [("field_byte_offset", "ldxw +4", "ldxw +8")],
    "field_offset_imm": [("field_byte_offset", "imm 0", "imm 12")],
    "array_element": [("field_byte_offset", "ldxb +18", "ldxb +28")],
    "nested_field": [("field_byte_offset", "ldxw +20", "ldxw +40")],
    "byte_size": [("field_byte_size", "imm 4", "imm 8")],
    "exists": [("field_exists", "imm 1", "imm 0"), ("field_exists", "imm 1", "imm 1")],
    "guarded_missing": [
        ("field_byte_offset", "ldxw +28", "poisoned"),
        ("field_exists", "imm 1", "imm 0"),
    ],
    "reached_missing": [("field_byte_offset", "ldxw +28", "poisoned")],
    "signedness": [("field_signed", "imm 0", "imm 0"), ("field_signed", "imm 1", "imm 0")],
    "widened_load": [("field_byte_offset", "ldxw +8", "ldxdw +16")],  # unsigned: safe
    "narrowed_signed": [("field_byte_offset", "ldxw +12", "poisoned")],  # int -> short
    "flavour": [("field_byte_offset", "ldxw +4", "ldxw +8"), ("field_exists", "imm 1", "imm 0")],
    "absent_type": [("field_byte_offset", "ldxw +0", "poisoned")],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_field_relocations(case: tuple[ObjectSpec, TargetBtf], name: str) -> None:
    assert relocated(*case, name) == sorted(EXPECTED[name])


def test_bitfield_offset_size_and_shifts(case: tuple[ObjectSpec, TargetBtf]) -> None:
    spec, target = case
    rows = dict((kind, after) for kind, _, after in relocated(spec, target, "bitfield_shifts"))
    # `mid`: 5 bits at bit 3 of a u32 locally, 7 bits at bit 10 in the target.
    lshift = 64 - (10 + 7) if spec.byteorder == "<" else 32 + 10
    assert rows == {
        "field_lshift_u64": f"imm {lshift}",
        "field_rshift_u64": f"imm {64 - 7}",
        "field_byte_offset": "imm 0",
        "field_byte_size": "imm 4",
    }


def test_type_relocations(case: tuple[ObjectSpec, TargetBtf]) -> None:
    after = [row[1:] for row in relocated(*case, "types")]
    # core_rec exists (32 bytes here, 48 there); core_absent exists only here (4 bytes).
    assert sorted(after) == sorted(
        [("imm 1", "imm 1"), ("imm 1", "imm 0"), ("imm 32", "imm 48"), ("imm 4", "imm 0")]
    )


def test_type_ids_local_and_target(case: tuple[ObjectSpec, TargetBtf]) -> None:
    spec, target = case
    assert spec.btf is not None
    local_id = spec.btf.find("core_rec", Kind.STRUCT)[0]
    target_id = target.btf.find("core_rec", Kind.STRUCT)[0]
    assert local_id != target_id  # the target's numbering differs, so the test means something
    rows = relocated(spec, target, "type_ids")
    assert rows == sorted(
        [
            ("type_id_local", f"lddw {local_id}", f"lddw {local_id}"),
            ("type_id_target", f"lddw {local_id}", f"lddw {target_id}"),
        ]
    )


def test_enum_values_and_flavoured_enumerators(case: tuple[ObjectSpec, TargetBtf]) -> None:
    rows = relocated(*case, "enums")
    assert [(k, b.split()[-1], a.split()[-1]) for k, b, a in rows] == sorted(
        [
            ("enumval_exists", "1", "1"),  # GREEN
            ("enumval_exists", "1", "0"),  # BLUE is gone
            ("enumval_value", "2", "20"),  # GREEN = 20 there
            ("enumval_value", "2", "20"),  # GREEN___v2 of enum core_color___v2 is GREEN
        ]
    )
    assert [r[2] for r in relocated(*case, "missing_enum_value")] == ["poisoned"]


def test_32_bit_enumerators_as_libbpf_reads_them(case: tuple[ObjectSpec, TargetBtf]) -> None:
    """clang 14 writes 0xffffffff zero-extended and -5 sign-extended (BTF cannot say which);
    libbpf reads a 32-bit enumerator as s32, so the target's values come sign-extended."""
    assert relocated(*case, "wide_enums") == sorted(
        [
            ("enumval_value", "lddw 4294967295", "lddw -2"),
            ("enumval_value", "lddw -5", "lddw -7"),
        ]
    )


def test_ambiguous_flavours_are_an_error_naming_both(case: tuple[ObjectSpec, TargetBtf]) -> None:
    spec, target = case
    prog = next(p for p in spec.programs if p.name == "ambiguous")
    with pytest.raises(ObjectError) as err:
        CoreRelocator(spec, opener=lambda path: target).apply(prog, bytearray(prog.insns))
    message = err.value.message
    assert "program 'ambiguous'" in message and "ambiguous" in message
    assert "core_amb___one" in message and "core_amb___two" in message


def test_the_target_is_opened_once_and_only_when_needed(
    case: tuple[ObjectSpec, TargetBtf],
) -> None:
    spec, target = case
    opened: list[str] = []

    def opener(path: str) -> TargetBtf:
        opened.append(path)
        return target

    core = CoreRelocator(spec, "/the/target", opener=opener)
    assert opened == []
    for prog in spec.programs:
        if prog.name != "ambiguous":
            core.apply(prog, bytearray(prog.insns))
    assert opened == ["/the/target"]


def test_objects_without_core_relocations_never_open_a_target(target: str) -> None:
    spec = parse_object(build("global_data", target))
    core = CoreRelocator(spec, opener=lambda path: pytest.fail("opened a target"))
    for prog in spec.programs:
        buf = bytearray(prog.insns)
        assert core.apply(prog, buf) == ()
        assert bytes(buf) == prog.insns


def test_poisoned_instructions_are_explained_in_the_verifier_log(
    case: tuple[ObjectSpec, TargetBtf],
) -> None:
    spec, target = case
    prog = next(p for p in spec.programs if p.name == "reached_missing")
    poisoned = CoreRelocator(spec, opener=lambda path: target).apply(prog, bytearray(prog.insns))
    ((idx, what),) = poisoned
    log = (
        f"7: (15) if r0 == 0x0 goto pc+1\n{idx}: (85) call unknown#195896080\n"
        "invalid func unknown#195896080\nprocessed 8 insns\n"
    )
    assert spec.btf is not None
    rec = spec.btf.find("core_rec", Kind.STRUCT)[0]
    assert explain_poison(log, poisoned).split("\n")[1:3] == [
        f"{idx}: <invalid CO-RE relocation>",
        "failed to resolve CO-RE relocation "
        f"<byte_off> [{rec}] struct core_rec.gone (0:6 @ offset 28)",
    ]
    assert what.startswith("<byte_off>")


@pytest.mark.parametrize(
    ("name", "essential"),
    [
        ("task_struct___old", "task_struct"),
        ("a___b___c", "a___b"),
        ("task_struct", "task_struct"),
        ("x____y", "x____y"),  # four underscores: no flavour
        ("___x", "___x"),
        ("x___", "x___"),
    ],
)
def test_essential_names_drop_the_last_flavour(name: str, essential: str) -> None:
    assert essential_name(name) == essential
