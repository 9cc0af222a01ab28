"""Our ELF reader against pyelftools, the reference: for every test object in both byte
orders, sections, symbols and relocations must be seen identically."""

from __future__ import annotations

import io

import bpfobjs
import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.enums import ENUM_ST_INFO_BIND, ENUM_ST_INFO_TYPE
from elftools.elf.relocation import RelocationSection

from pybpftool.elf import parse_elf


@pytest.mark.parametrize("name", bpfobjs.sources())
def test_reader_matches_pyelftools(name: str, target: str) -> None:
    data = bpfobjs.build(name, target).read_bytes()
    ours = parse_elf(data)
    ref = ELFFile(io.BytesIO(data))

    assert ours.little_endian == ref.little_endian
    assert [(s.name, s.type, s.flags, s.offset, s.size, s.link, s.info) for s in ours.sections] == [
        (
            s.name,
            s.header.sh_type if isinstance(s.header.sh_type, int) else _sht(s),
            s.header.sh_flags,
            s.header.sh_offset,
            s.header.sh_size,
            s.header.sh_link,
            s.header.sh_info,
        )
        for s in ref.iter_sections()
    ]

    symtab = ref.get_section_by_name(".symtab")
    assert [(s.name, s.value, s.size, s.shndx, s.type, s.bind) for s in ours.symbols] == [
        (
            s.name,
            s.entry.st_value,
            s.entry.st_size,
            _shndx(s.entry.st_shndx),
            ENUM_ST_INFO_TYPE[s.entry.st_info.type],
            ENUM_ST_INFO_BIND[s.entry.st_info.bind],
        )
        for s in symtab.iter_symbols()
    ]

    for rel_sec in ref.iter_sections():
        if not isinstance(rel_sec, RelocationSection):
            continue
        mine = ours.sections[ref.get_section_index(rel_sec.name)]
        assert [(r.offset, r.sym, r.type) for r in ours.relocations(mine)] == [
            (r.entry.r_offset, r.entry.r_info_sym, r.entry.r_info_type)
            for r in rel_sec.iter_relocations()
        ], rel_sec.name


def _sht(section: object) -> int:
    from elftools.elf.enums import ENUM_SH_TYPE_BASE

    return int(ENUM_SH_TYPE_BASE[section.header.sh_type])  # type: ignore[attr-defined]


def _shndx(value: object) -> int:
    special = {"SHN_UNDEF": 0, "SHN_ABS": 0xFFF1, "SHN_COMMON": 0xFFF2}
    return special[value] if isinstance(value, str) else int(value)  # type: ignore[call-overload]
