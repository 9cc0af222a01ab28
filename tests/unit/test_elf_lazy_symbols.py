"""The symbol table builds Symbols only when asked; whatever is asked first and in whatever
order, each answer must be what filtering the whole table gives, and a bad table must be
reported by whichever of its readers comes first."""

from __future__ import annotations

import random
import struct

import bpfobjs
import pytest

from pybpftool.elf import STT_FUNC, STT_OBJECT, ElfFile, Symbol, _positions, parse_elf
from pybpftool.errors import ObjectError

# None (every type) is asked before, between and after types are grouped.
TYPES = [None, 1, None, 2, None, 0, 3, 4, 15, 16, None]


def _objects(target: str) -> list[bytes]:
    return [bpfobjs.build(name, target).read_bytes() for name in bpfobjs.sources()]


def _expected(full: tuple[Symbol, ...], shndx: int, stt: int | None) -> list[Symbol]:
    return [s for s in full if s.shndx == shndx and stt in (None, s.type)]


def _check_sections(elf: ElfFile, full: tuple[Symbol, ...]) -> None:
    for shndx in [*range(len(elf.sections)), 0xFFF1, 0xFFF2]:
        for stt in TYPES:
            got = elf.symbols_in(shndx, stt)
            assert got == _expected(full, shndx, stt), (shndx, stt)
            got.append(full[0])  # a new list each time: the next answer is unchanged
            got.reverse()
            assert elf.symbols_in(shndx, stt) == _expected(full, shndx, stt)


def _check_indexes(elf: ElfFile, full: tuple[Symbol, ...]) -> None:
    table = elf.symbol_table
    assert len(table) == len(full)
    assert [table[i] for i in range(len(full))] == list(full)
    assert [table[-i] for i in range(1, len(full) + 1)] == [
        full[-i] for i in range(1, len(full) + 1)
    ]
    assert table[1:4] == full[1:4] and list(table) == list(full)
    with pytest.raises(IndexError):
        table[len(full)]
    with pytest.raises(IndexError):
        table[-len(full) - 1]


def _mangled(data: bytes) -> bytes:
    """`data` with the first byte of each symbol name made non-ASCII (the careful path)."""
    elf = parse_elf(data)
    assert elf.symtab is not None
    strtab = elf.sections[elf.symtab.link]
    out = bytearray(data)
    bo = elf.byteorder
    for entry in range(elf.symtab.offset, elf.symtab.offset + elf.symtab.size, 24):
        (name,) = struct.unpack_from(bo + "I", data, entry)
        if name and data[strtab.offset + name] != 0:
            out[strtab.offset + name] = 0xE9
    return bytes(out)


@pytest.mark.parametrize("mangle", [False, True])
@pytest.mark.parametrize("order", ["sections", "indexes", "all"])
def test_lazy_answers_match_the_whole_table(target: str, mangle: bool, order: str) -> None:
    for data in _objects(target):
        if mangle:
            data = _mangled(data)
        full = parse_elf(data).symbols
        assert mangle == any("\\x" in s.name for s in full)
        elf = parse_elf(data)
        if order == "all":
            assert elf.symbols == full
        if order == "indexes":
            _check_indexes(elf, full)
        _check_sections(elf, full)
        _check_indexes(elf, full)
        assert elf.symbols == full


@pytest.mark.parametrize("first", [STT_OBJECT, STT_FUNC])
def test_every_type_after_one_is_grouped(target: str, first: int) -> None:
    """With one type grouped, a section holding only that type is answered from the group."""
    for data in _objects(target):
        full = parse_elf(data).symbols
        for shndx in range(len(parse_elf(data).sections)):
            elf = parse_elf(data)
            assert elf.symbols_in(shndx, first) == _expected(full, shndx, first)
            assert elf.symbols_in(shndx) == _expected(full, shndx, None)


def test_functions_and_objects_are_grouped_by_section(target: str) -> None:
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
        lambda elf: elf.symbol_table,
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


def test_positions_match_a_scan() -> None:
    rng = random.Random(7)
    for size in (0, 1, 2, 5, 40):
        column = bytes(rng.choice((0, 1, 2, 255)) for _ in range(size))
        for value in (0, 1, 2, 3, 255):
            assert _positions(column, value) == [i for i, v in enumerate(column) if v == value]
