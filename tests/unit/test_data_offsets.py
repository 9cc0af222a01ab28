"""A data variable's symbol far past its section (st_value 0x80000000 in an 8-byte .rodata):
the parse keeps the offset (the kernel judges it, as with libbpf), the loader's pure steps
turn it into bytes or a one-line ObjectError, never a struct.error (issue 20)."""

from __future__ import annotations

import struct

import bpfobjs
import pytest

from pybpftool.btf.fixup import sanitize
from pybpftool.elf import parse_elf
from pybpftool.errors import ObjectError
from pybpftool.loader.programs import relocate
from pybpftool.parser import parse_object
from pybpftool.spec import ObjectSpec, RefKind

FAR = 0x80000000


def with_symbol_value(data: bytes, name: str, value: int) -> bytes:
    """`data` with symbol `name`'s st_value set to `value`."""
    elf = parse_elf(data)
    (sym,) = [s for s in elf.symbols if s.name == name]
    assert elf.symtab is not None
    out = bytearray(data)
    struct.pack_into(elf.byteorder + "Q", out, elf.symtab.offset + sym.ndx * 24 + 8, value)
    return bytes(out)


def far_limit(target: str, *flags: str, value: int = FAR) -> ObjectSpec:
    data = bpfobjs.build("rodata_ref", target, *flags).read_bytes()
    return parse_object(with_symbol_value(data, "limit", value), name="rodata_ref")


def test_the_datasec_keeps_the_far_offset(target: str) -> None:
    spec = far_limit(target)
    assert spec.btf is not None
    datasec = spec.btf.datasec(".rodata")
    assert datasec is not None and [v.offset for v in datasec.vars] == [FAR]


def test_sanitize_refuses_what_no_struct_member_can_hold(target: str) -> None:
    spec = far_limit(target)
    assert spec.btf is not None
    message = r"^DATASEC '\.rodata': variable #\d+ at byte offset 2147483648 lies beyond"
    with pytest.raises(ObjectError, match=message):
        sanitize(spec.btf)


@pytest.mark.parametrize("flags", [(), ("-g0",)], ids=["btf", "no-btf"])
def test_relocate_writes_the_offset_as_32_bits(target: str, flags: tuple[str, ...]) -> None:
    spec = far_limit(target, *flags)
    assert (spec.btf is None) == bool(flags)
    (prog,) = spec.programs
    (ref,) = [r for r in prog.references if r.kind is RefKind.MAP_VALUE]
    assert ref.offset == FAR
    insns = relocate(prog, {m.name: 5 for m in spec.maps}, spec.byteorder)
    imm, second_imm = struct.unpack_from(spec.byteorder + "4xI4xI", insns, ref.insn * 8)
    assert (imm, second_imm) == (5, FAR)  # the map fd, then the offset the verifier checks


@pytest.mark.parametrize("value", [1 << 32, (1 << 64) - 8])
def test_an_offset_beyond_32_bits_is_refused_by_the_parse(target: str, value: int) -> None:
    with pytest.raises(ObjectError, match=r"offset \d+ of '\.rodata' does not fit 32 bits"):
        far_limit(target, "-g0", value=value)
