"""The symbol table: symbols_in gives what filtering the whole table gives, for every section
and type; a bad table is reported by whichever reader comes first."""

from __future__ import annotations

import struct

import bpfobjs
import pytest

from pybpftool.elf import STT_FUNC, STT_OBJECT, ElfFile, Symbol, parse_elf
from pybpftool.errors import ObjectError

TYPES = [None, 0, 1, 2, 3, 4, 15, 16]


def _objects(target: str) -> list[bytes]:
    return [bpfobjs.build(name, target).read_bytes() for name in bpfobjs.sources()]


def _expected(full: tuple[Symbol, ...], shndx: int, stt: int | None) -> list[Symbol]:
    return [s for s in full if s.shndx == shndx and stt in (None, s.type)]


def _mangled(data: bytes) -> bytes:
    """`data` with the first byte of each symbol name made non-ASCII."""
    elf = parse_elf(data)
    assert elf.symtab is not None
    strtab = elf.sections[elf.symtab.link]
    out = bytearray(data)
    for entry in range(elf.symtab.offset, elf.symtab.offset + elf.symtab.size, 24):
        (name,) = struct.unpack_from(elf.byteorder + "I", data, entry)
        if name and data[strtab.offset + name] != 0:
            out[strtab.offset + name] = 0xE9
    return bytes(out)


def _check_sections(elf: ElfFile, full: tuple[Symbol, ...]) -> None:
    for shndx in [*range(len(elf.sections)), 0xFFF1, 0xFFF2]:
        for stt in TYPES:
            got = elf.symbols_in(shndx, stt)
            assert got == _expected(full, shndx, stt), (shndx, stt)
            got.append(full[0])  # a new list each time: the next answer is unchanged
            assert elf.symbols_in(shndx, stt) == _expected(full, shndx, stt)


@pytest.mark.parametrize("mangle", [False, True])
def test_symbols_in_matches_the_whole_table(target: str, mangle: bool) -> None:
    for data in _objects(target):
        if mangle:
            data = _mangled(data)
        elf = parse_elf(data)
        full = elf.symbols
        assert [s.ndx for s in full] == list(range(len(full)))
        assert mangle == any("\\x" in s.name for s in full)
        _check_sections(parse_elf(data), full)


def test_functions_and_objects_share_sections(target: str) -> None:
    """Sections with several symbols of one type (subprograms, maps) exist in the objects."""
    several = set()
    for data in _objects(target):
        elf = parse_elf(data)
        for sec in elf.sections:
            several |= {
                stt for stt in (STT_FUNC, STT_OBJECT) if len(elf.symbols_in(sec.ndx, stt)) > 1
            }
    assert several == {STT_FUNC, STT_OBJECT}


@pytest.mark.parametrize(
    "read",
    [
        lambda elf: elf.symbols,
        lambda elf: elf.symbols_in(1, STT_FUNC),
        lambda elf: elf.symbols_in(1),
    ],
)
def test_a_bad_name_is_reported_by_the_first_reader(target: str, read: object) -> None:
    data = bytearray(bpfobjs.build("legacy_maps", target).read_bytes())
    elf = parse_elf(bytes(data))
    assert elf.symtab is not None
    struct.pack_into(elf.byteorder + "I", data, elf.symtab.offset + 2 * 24, 0xFFFFFF)
    with pytest.raises(ObjectError, match=r"^symbol 2: bad name index 16777215$"):
        read(parse_elf(bytes(data)))  # type: ignore[operator]
