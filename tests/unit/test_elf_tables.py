"""The ELF reader's tables: string table names, symbol names, section extents and lookups."""

from __future__ import annotations

import struct

import bpfobjs
import pytest

from pybpftool.elf import SHT_NOBITS, SHT_PROGBITS, SHT_SYMTAB, _StringTable, parse_elf
from pybpftool.errors import ObjectError

TABLE = b"\0.text\0.rel.text\0maps\0\0x\0"


def test_names_are_read_up_to_their_nul() -> None:
    table = _StringTable(b"junk" + TABLE + b"junk", 4, len(TABLE))
    # 0: empty name; 11: ".text" inside ".rel.text" (tail merging); 22: empty between NULs.
    assert [table.at(offset) for offset in (0, 1, 7, 11, 17, 22, 23)] == [
        "",
        ".text",
        ".rel.text",
        ".text",
        "maps",
        "",
        "x",
    ]


@pytest.mark.parametrize(
    ("table", "offset", "message"),
    [
        pytest.param(TABLE, len(TABLE), "outside its string table", id="offset-outside"),
        pytest.param(TABLE[:-1], 23, "not NUL-terminated", id="not-nul-terminated"),
        pytest.param(b"\0caf\xc3\xa9", 1, "not NUL-terminated", id="not-ascii-unterminated"),
        pytest.param(b"", 0, "outside its string table", id="empty-table"),
    ],
)
def test_bad_name_offsets_are_refused(table: bytes, offset: int, message: str) -> None:
    with pytest.raises(ObjectError, match=message):
        _StringTable(table, 0, len(table)).at(offset)


def test_non_ascii_names_are_decoded() -> None:
    table = _StringTable(b"\0caf\xc3\xa9\0\xff\0", 0, 9)
    assert (table.at(1), table.at(7)) == ("café", "\\xff")


def _symbol_entry(data: bytes, index: int) -> int:
    elf = parse_elf(data)
    assert elf.symtab is not None
    return elf.symtab.offset + index * 24


def test_bad_symbol_name_is_reported(target: str) -> None:
    data = bytearray(bpfobjs.build("legacy_maps", target).read_bytes())
    bo = "<" if data[5] == 1 else ">"
    struct.pack_into(bo + "I", data, _symbol_entry(bytes(data), 2), 0xFFFFFF)
    with pytest.raises(ObjectError, match=r"^symbol 2: bad name index 16777215$"):
        parse_elf(bytes(data)).symbols  # noqa: B018


def test_nobits_section_may_lie_outside_the_file(target: str) -> None:
    data = bytearray(bpfobjs.build("global_data", target).read_bytes())
    bo = "<" if data[5] == 1 else ">"
    elf = parse_elf(bytes(data))
    bss = elf.section_by_name(".bss")
    assert bss is not None and bss.type == SHT_NOBITS
    shoff = struct.unpack_from(bo + "Q", data, 40)[0]
    struct.pack_into(bo + "Q", data, shoff + bss.ndx * 64 + 24, len(data) + 4096)
    assert parse_elf(bytes(data)).sections[bss.ndx].offset == len(data) + 4096


def test_section_by_name_gives_the_first_of_duplicate_names(target: str) -> None:
    data = bytearray(bpfobjs.build("global_data", target).read_bytes())
    bo = "<" if data[5] == 1 else ">"
    elf = parse_elf(bytes(data))
    license_ = elf.section_by_name("license")
    assert license_ is not None and license_.ndx > 1
    # The section before license and every one after it take license's name (its sh_name).
    shoff = struct.unpack_from(bo + "Q", data, 40)[0]
    sh_name = struct.unpack_from(bo + "I", data, shoff + license_.ndx * 64)[0]
    first = license_.ndx - 1
    for ndx in [first, *range(license_.ndx + 1, len(elf.sections))]:
        struct.pack_into(bo + "I", data, shoff + ndx * 64, sh_name)
    found = parse_elf(bytes(data)).section_by_name("license")
    assert found is not None and found.ndx == first


def _retype(data: bytearray, ndx: int, sh_type: int) -> None:
    bo = "<" if data[5] == 1 else ">"
    shoff = struct.unpack_from(bo + "Q", data, 40)[0]
    struct.pack_into(bo + "I", data, shoff + ndx * 64 + 4, sh_type)


def test_symtab_is_the_first_symbol_table_or_none(target: str) -> None:
    data = bytearray(bpfobjs.build("global_data", target).read_bytes())
    elf = parse_elf(bytes(data))
    symtab, first = elf.symtab, elf.sections[1]
    assert symtab is not None and symtab.ndx > 1
    _retype(data, 1, SHT_SYMTAB)
    assert parse_elf(bytes(data)).symtab == first._replace(type=SHT_SYMTAB)
    _retype(data, 1, first.type)
    _retype(data, symtab.ndx, SHT_PROGBITS)
    elf = parse_elf(bytes(data))
    assert elf.symtab is None and elf.symbols == ()
