"""The converter's building blocks alone: the ELF writer, the BTF builder, ULEB128 lists."""

from __future__ import annotations

import bpfobjs
import pytest

from pybpftool.btf import Kind, parse_btf
from pybpftool.convert.btfbuild import BtfBuilder
from pybpftool.convert.elfwrite import (
    OutSection,
    OutSymbol,
    encode_relocations,
    null_section,
    null_symbol,
    write_elf,
)
from pybpftool.convert.ulebs import decode_ulebs, encode_ulebs
from pybpftool.elf import (
    SHF_ALLOC,
    SHF_EXECINSTR,
    SHT_NOBITS,
    SHT_PROGBITS,
    SHT_REL,
    SHT_STRTAB,
    SHT_SYMTAB,
    STB_GLOBAL,
    STB_LOCAL,
    STT_FUNC,
    STT_SECTION,
    parse_elf,
)
from pybpftool.errors import ObjectError

EXIT = bytes([0x95, 0, 0, 0, 0, 0, 0, 0])


def small_object(byteorder: str, symbols: list[OutSymbol] | None = None) -> bytes:
    sections = [
        null_section(),
        OutSection(".strtab", SHT_STRTAB, 0, b""),
        OutSection("xdp", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, EXIT * 2, addralign=8),
        OutSection(
            ".relxdp", SHT_REL, 0x40, encode_relocations(byteorder, [(8, 2, 10)]), 5, 2, 8, 16
        ),
        OutSection(".bss", SHT_NOBITS, SHF_ALLOC, b"", addralign=8, size=4096),
        OutSection(".symtab", SHT_SYMTAB, 0, b"", 1, 0, 8, 24),
    ]
    if symbols is None:
        symbols = [
            null_symbol(),
            OutSymbol("", 0, 0, STT_SECTION, STB_LOCAL, 0, 2),
            OutSymbol("main", 0, 16, STT_FUNC, STB_GLOBAL, 0, 2),
        ]
    return write_elf(byteorder, sections, symbols)


@pytest.mark.parametrize("byteorder", ["<", ">"])
def test_written_object_reads_back(byteorder: str) -> None:
    elf = parse_elf(small_object(byteorder))
    assert elf.byteorder == byteorder
    assert [(s.name, s.type) for s in elf.sections] == [
        ("", 0),
        (".strtab", SHT_STRTAB),
        ("xdp", SHT_PROGBITS),
        (".relxdp", SHT_REL),
        (".bss", SHT_NOBITS),
        (".symtab", SHT_SYMTAB),
    ]
    xdp, rel, bss, symtab = elf.sections[2], elf.sections[3], elf.sections[4], elf.sections[5]
    assert elf.section_data(xdp) == EXIT * 2 and xdp.offset % 8 == 0
    assert bss.size == 4096 and elf.section_data(bss) == bytes(4096)
    assert [tuple(r) for r in elf.relocations(rel)] == [(8, 2, 10)]
    assert symtab.info == 2  # the first global symbol
    assert [(s.name, s.bind, s.shndx) for s in elf.symbols] == [
        ("", STB_LOCAL, 0),
        ("", STB_LOCAL, 2),
        ("main", STB_GLOBAL, 2),
    ]


def test_writer_output_is_deterministic() -> None:
    assert small_object("<") == small_object("<")


def test_globals_before_locals_are_a_bug_not_an_object() -> None:
    symbols = [null_symbol(), OutSymbol("g", 0, 0, STT_FUNC, STB_GLOBAL, 0, 2)]
    symbols.append(OutSymbol("l", 0, 0, STT_FUNC, STB_LOCAL, 0, 2))
    with pytest.raises(ValueError, match="locals come first"):
        small_object("<", symbols)


def test_a_name_with_a_nul_cannot_be_written() -> None:
    symbols = [null_symbol(), OutSymbol("a\0b", 0, 0, STT_FUNC, STB_GLOBAL, 0, 2)]
    with pytest.raises(ObjectError, match="NUL"):
        small_object("<", symbols)


@pytest.mark.parametrize("values", [[], [0], [127, 128, 300, 1 << 40], list(range(200))])
def test_uleb128_round_trip(values: list[int]) -> None:
    assert decode_ulebs(encode_ulebs(values)) == values


@pytest.mark.parametrize("raw", [b"\x80", b"\xff" * 10 + b"\x01"])
def test_bad_uleb128_is_an_object_error(raw: bytes) -> None:
    with pytest.raises(ObjectError):
        decode_ulebs(raw)


def test_btf_builder_keeps_every_type_and_string_of_its_base(target: str) -> None:
    raw, bo = bpfobjs.btf_section("btf_kinds", target)
    base = parse_btf(raw, bo)
    builder = BtfBuilder(bo, base)
    new_id = builder.struct("added", 8, [("p", builder.ptr(builder.find_int("int", 4, True)), 0)])
    out = parse_btf(builder.encode(), bo)
    assert [out.type(i) for i in range(1, len(base))] == [base.type(i) for i in range(1, len(base))]
    assert new_id == len(base) + 1  # a PTR, then the struct; `int` was found, not added
    assert out.type(new_id).name == "added" and out.kind(new_id) is Kind.STRUCT


def test_btf_builder_shares_equal_records_and_strings() -> None:
    builder = BtfBuilder("<")
    i = builder.int_type("int", 4, True)
    assert builder.ptr(builder.array(i, i, 4)) == builder.ptr(builder.array(i, i, 4))
    assert builder.string("x") == builder.string("x")
    assert builder.var("v", i) != builder.var("v", i)  # two variables, even if alike
    out = parse_btf(builder.encode(), "<")
    assert len(out) == len(builder)


def test_btf_builder_replaces_a_record_in_place() -> None:
    builder = BtfBuilder("<")
    i = builder.int_type("int", 4, True)
    sec = builder.datasec("maps", 0, [])
    v = builder.var("m", i)
    builder.replace(sec, builder.datasec_record(".maps", 16, [(v, 8, 8)]))
    out = parse_btf(builder.encode(), "<")
    datasec = out.datasec(".maps")
    assert datasec is not None and datasec.id == sec and datasec.size == 16
    assert [tuple(e) for e in datasec.vars] == [(v, 8, 8)]
