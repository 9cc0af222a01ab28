"""_Parser._datasec_layouts with fix_datasecs: a DATASEC variable takes the offset of its
symbol in the DATASEC's own section, else of its symbol in any other section (libbpf); what
the layouts give fix_datasecs is what one dict of every symbol, own section winning, gives."""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

import pytest

from pybpftool.btf import BtfSpec, Datasec, Kind, Var, parse_btf
from pybpftool.btf.fixup import fix_datasecs
from pybpftool.elf import STT_FUNC, STT_OBJECT, Section, Symbol
from pybpftool.parser import _Parser

BTF_MAGIC = 0xEB9F
NAMES = ["", "int", "own", "elsewhere", "both", "nowhere", ".rodata", ".data", "é"]


class StubElf:
    """The things _datasec_layouts asks of an ElfFile."""

    def __init__(self, sections: list[str], symbols: list[tuple[str, int, int, int]]) -> None:
        self.sections = [Section(i, n, 1, 0, 0, 64 + i, 0, 0, 8, 0) for i, n in enumerate(sections)]
        self.symbols = tuple(
            Symbol(i, name, value, 4, st_type, 1, 0, shndx)
            for i, (name, shndx, value, st_type) in enumerate(symbols)
        )

    def section_by_name(self, name: str) -> Section | None:
        return next((s for s in self.sections if s.name == name), None)

    def symbols_in(self, shndx: int, stt: int | None = None) -> list[Symbol]:
        return [s for s in self.symbols if s.shndx == shndx and stt in (None, s.type)]


def strings(non_ascii: bool) -> tuple[bytes, dict[str, int]]:
    raw, at = b"", {}
    for name in NAMES if non_ascii else NAMES[:-1]:
        at[name] = len(raw)
        raw += name.encode() + b"\0"
    return raw, at


def btf_of(bo: str, datasecs: dict[str, list[str]], non_ascii: bool = False) -> BtfSpec:
    """An INT, one VAR per distinct name, then a DATASEC per entry of `datasecs` listing those
    VARs (or the INT, for the name "int")."""
    raw_strings, at = strings(non_ascii)
    names = sorted({n for vs in datasecs.values() for n in vs if n != "int"})
    ids = {"int": 1, **{n: 2 + i for i, n in enumerate(names)}}
    types = struct.pack(bo + "IIII", at["int"], int(Kind.INT) << 24, 4, 32)
    for name in names:
        types += struct.pack(bo + "IIII", at[name], int(Kind.VAR) << 24, 1, 1)
    for sec, variables in datasecs.items():
        types += struct.pack(bo + "III", at[sec], int(Kind.DATASEC) << 24 | len(variables), 0)
        types += b"".join(struct.pack(bo + "III", ids[v], 0, 4) for v in variables)
    header = struct.pack(
        bo + "HBBIIIII", BTF_MAGIC, 1, 0, 24, 0, len(types), len(types), len(raw_strings)
    )
    return parse_btf(header + types + raw_strings, bo)


def reference_layouts(elf: StubElf, btf: BtfSpec) -> dict[str, tuple[int, Mapping[str, int]]]:
    """The plain rule: every STT_OBJECT symbol by name, those of the own section winning."""
    anywhere = {s.name: s.value for s in elf.symbols if s.type == STT_OBJECT}
    out: dict[str, tuple[int, Mapping[str, int]]] = {}
    for type_id in btf.ids_of_kind(Kind.DATASEC):
        sec = elf.section_by_name(btf.type(type_id).name)
        if sec is not None:
            own = {s.name: s.value for s in elf.symbols_in(sec.ndx) if s.type == STT_OBJECT}
            out[sec.name] = (sec.size, {**anywhere, **own})
    return out


def placed(btf: BtfSpec) -> dict[str, list[tuple[str, int]]]:
    out = {}
    for type_id in btf.ids_of_kind(Kind.DATASEC):
        datasec = btf.type(type_id)
        assert isinstance(datasec, Datasec)
        out[datasec.name] = [(btf.type(v.type).name, v.offset) for v in datasec.vars]
    return out


SYMBOLS = [
    ("", 0, 0, 0),
    ("own", 1, 8, STT_OBJECT),
    ("elsewhere", 3, 16, STT_OBJECT),  # clang's .rodata.cst16 case
    ("both", 1, 4, STT_OBJECT),
    ("both", 3, 32, STT_OBJECT),
    ("nowhere", 1, 12, STT_FUNC),  # not an object: no offset
    ("own", 2, 40, STT_OBJECT),
]
SECTIONS = ["", ".rodata", ".data", ".rodata.cst16"]


@pytest.mark.parametrize("bo", ["<", ">"])
@pytest.mark.parametrize(
    "datasecs, non_ascii",
    [
        ({".rodata": ["own", "both"], ".data": ["own"]}, False),
        ({".rodata": ["own", "elsewhere", "both", "nowhere"], ".data": ["elsewhere"]}, False),
        ({".rodata": ["own", "int", "both"]}, False),
        ({".rodata": ["own"], ".data": ["both", "own"]}, True),
    ],
)
def test_offsets_are_those_of_the_plain_rule(
    bo: str, datasecs: dict[str, list[str]], non_ascii: bool
) -> None:
    elf: Any = StubElf(SECTIONS, SYMBOLS)
    parser = object.__new__(_Parser)
    parser.elf = elf
    fixed = fix_datasecs(
        btf_of(bo, datasecs, non_ascii), parser._datasec_layouts(btf_of(bo, datasecs, non_ascii))
    )
    expected_btf = btf_of(bo, datasecs, non_ascii)
    expected = fix_datasecs(expected_btf, reference_layouts(elf, expected_btf))
    assert placed(fixed) == placed(expected)
    assert fixed.raw == expected.raw


def test_a_variable_outside_its_own_section_takes_that_symbol() -> None:
    elf: Any = StubElf(SECTIONS, SYMBOLS)
    parser = object.__new__(_Parser)
    parser.elf = elf
    btf = btf_of("<", {".rodata": ["own", "elsewhere", "both"]})
    fixed = fix_datasecs(btf, parser._datasec_layouts(btf))
    assert sorted(placed(fixed)[".rodata"]) == [("both", 4), ("elsewhere", 16), ("own", 8)]
    var = fixed.type(fixed.find("elsewhere")[0])
    assert isinstance(var, Var)
