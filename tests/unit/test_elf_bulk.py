"""The ELF reader's bulk paths against their one-record-at-a-time equivalents, and the careful
fallbacks they leave malformed input to."""

from __future__ import annotations

import random
import struct

import bpfobjs
import pytest

from pybpftool.elf import SHT_NOBITS, SHT_PROGBITS, SHT_SYMTAB, _columns, _StringTable, parse_elf
from pybpftool.errors import ObjectError


@pytest.mark.parametrize("fmt", ["IBBHQQ", "IIQQQQIIQQ", "QQ"])
@pytest.mark.parametrize("byteorder", ["<", ">"])
def test_columns_match_iter_unpack(fmt: str, byteorder: str) -> None:
    rng = random.Random(fmt + byteorder)
    raw = rng.randbytes(struct.calcsize("<" + fmt) * 37)
    expected = [list(col) for col in zip(*struct.iter_unpack(byteorder + fmt, raw), strict=True)]
    columns = _columns(memoryview(raw), byteorder, fmt)
    assert [list(column) for column in columns] == expected


TABLE = b"\0.text\0.rel.text\0maps\0\0x\0"


def test_names_match_at() -> None:
    table = _StringTable(b"junk" + TABLE + b"junk", 4, len(TABLE))
    # 0: empty name; 12: ".text" inside ".rel.text" (tail merging); 22: empty between NULs.
    offsets = list(range(len(TABLE)))
    assert table.names(offsets) == [table.at(offset) for offset in offsets]
    assert table.names([]) == []


@pytest.mark.parametrize(
    ("table", "offsets"),
    [
        pytest.param(TABLE, [0, len(TABLE)], id="offset-outside"),
        pytest.param(TABLE[:-1], [0, 1], id="not-nul-terminated"),
        pytest.param(b"\0caf\xc3\xa9\0", [0, 1], id="not-ascii"),
        pytest.param(b"", [], id="empty-table"),
    ],
)
def test_names_leave_doubtful_tables_to_at(table: bytes, offsets: list[int]) -> None:
    assert _StringTable(table, 0, len(table)).names(offsets) is None


def test_non_ascii_names_are_read_one_by_one() -> None:
    table = _StringTable(b"\0caf\xc3\xa9\0", 0, 7)
    assert table.names([1]) is None
    assert table.at(1) == "café"


def _symbol_entry(data: bytes, index: int) -> int:
    elf = parse_elf(data)
    assert elf.symtab is not None
    return elf.symtab.offset + index * 24


def test_bad_symbol_name_is_reported_by_the_careful_path(target: str) -> None:
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
