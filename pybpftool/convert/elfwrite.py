"""elfwrite: encode an ELF64 relocatable BPF object from sections and symbols (<elf.h>).

The writer knows the container only: the ELF header, the section header table, one string
table holding section and symbol names (clang does the same: its `.strtab` is also the section
name table), and the symbol table. What the sections hold is the caller's business; the
caller gives every section its final place, so `link` and `info` are final indexes.

The output is deterministic: the same sections and symbols give the same bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import NamedTuple

from pybpftool.elf import (
    ELFCLASS64,
    ELFDATA2LSB,
    ELFDATA2MSB,
    EM_BPF,
    ET_REL,
    SHN_LORESERVE,
    SHT_NOBITS,
    SHT_NULL,
    SHT_STRTAB,
    SHT_SYMTAB,
    STB_LOCAL,
)
from pybpftool.errors import ObjectError

EV_CURRENT = 1
SHF_INFO_LINK = 0x40
EHDR_SIZE = 64
SHDR_SIZE = 64
SYM_SIZE = 24
REL_SIZE = 16


class OutSection(NamedTuple):
    """OutSection: one section of the output, at its final index in the section list.

    `data` is ignored for the symbol table and the string table (the writer makes them);
    for SHT_NOBITS `size` gives the size, for others the data does.
    """

    name: str
    type: int
    flags: int
    data: bytes
    link: int = 0
    info: int = 0
    addralign: int = 1
    entsize: int = 0
    size: int = 0  # SHT_NOBITS only


class OutSymbol(NamedTuple):
    """OutSymbol: one Elf64_Sym; `shndx` is a final section index or an SHN_* value."""

    name: str
    value: int
    size: int
    type: int
    bind: int
    other: int
    shndx: int


def null_section() -> OutSection:
    """null_section: section 0, which every ELF file starts with."""
    return OutSection("", SHT_NULL, 0, b"")


def null_symbol() -> OutSymbol:
    """null_symbol: symbol 0, which every symbol table starts with."""
    return OutSymbol("", 0, 0, 0, STB_LOCAL, 0, 0)


class StringTable:
    """StringTable: NUL-separated names, each stored once (a name that ends another is not
    shared: simple and deterministic)."""

    def __init__(self) -> None:
        self._data = bytearray(b"\0")
        self._offsets: dict[str, int] = {"": 0}

    def add(self, name: str) -> int:
        offset = self._offsets.get(name)
        if offset is None:
            raw = name.encode("utf-8", "surrogateescape")
            if b"\0" in raw:
                raise ObjectError(f"name {name!r} contains a NUL byte")
            offset = self._offsets[name] = len(self._data)
            self._data += raw + b"\0"
        return offset

    def data(self) -> bytes:
        return bytes(self._data)


def write_elf(
    byteorder: str, sections: Sequence[OutSection], symbols: Sequence[OutSymbol]
) -> bytes:
    """write_elf: the ELF file of `sections` (index 0 the null section, exactly one
    SHT_SYMTAB, whose link names the string table) and `symbols` (0 the null symbol,
    locals first)."""
    _check_layout(sections, symbols)
    strings = StringTable()
    name_offs = [strings.add(sec.name) for sec in sections]
    symtab_index = next(i for i, sec in enumerate(sections) if sec.type == SHT_SYMTAB)
    strtab_index = sections[symtab_index].link
    symtab_data = _symbol_table(byteorder, symbols, strings)
    first_global = next((i for i, sym in enumerate(symbols) if sym.bind != STB_LOCAL), len(symbols))
    out = bytearray(EHDR_SIZE)
    headers = [bytes(SHDR_SIZE)]
    for index, sec in enumerate(sections[1:], start=1):
        data, info = sec.data, sec.info
        if index == symtab_index:
            data, info = symtab_data, first_global
        elif index == strtab_index:
            data = strings.data()
        align = _alignment(sec)
        offset = -len(out) % align + len(out)
        out += bytes(offset - len(out))
        size = sec.size if sec.type == SHT_NOBITS else len(data)
        if sec.type != SHT_NOBITS:
            out += data
        headers.append(
            struct.pack(
                byteorder + "IIQQQQIIQQ",
                name_offs[index],
                sec.type,
                sec.flags,
                0,  # sh_addr: nothing is loaded at an address
                offset,
                size,
                sec.link,
                info,
                sec.addralign,
                sec.entsize,
            )
        )
    shoff = -len(out) % 8 + len(out)
    out += bytes(shoff - len(out))
    out += b"".join(headers)
    out[:EHDR_SIZE] = _header(byteorder, shoff, len(sections), strtab_index)
    return bytes(out)


MAX_ALIGN = 1 << 16  # more than any BPF section needs; bounds the padding a file can ask for


def _alignment(sec: OutSection) -> int:
    align = max(sec.addralign, 1)
    if align & (align - 1) or align > MAX_ALIGN:
        raise ObjectError(f"section {sec.name!r}: alignment {sec.addralign} is not supported")
    return align


def _check_layout(sections: Sequence[OutSection], symbols: Sequence[OutSymbol]) -> None:
    """_check_layout: the promises write_elf relies on; a broken one is a converter bug."""
    if not sections or sections[0].type != SHT_NULL:
        raise ValueError("write_elf: section 0 must be the null section")
    if len(sections) >= SHN_LORESERVE:
        raise ObjectError(f"{len(sections)} sections need extended numbering, not supported")
    tables = [i for i, sec in enumerate(sections) if sec.type == SHT_SYMTAB]
    if len(tables) != 1:
        raise ValueError("write_elf: exactly one symbol table is needed")
    link = sections[tables[0]].link
    if not 0 < link < len(sections) or sections[link].type != SHT_STRTAB:
        raise ValueError("write_elf: the symbol table must link to a string table")
    binds = [sym.bind != STB_LOCAL for sym in symbols]
    if binds and (binds[0] or binds != sorted(binds)):
        raise ValueError("write_elf: symbol 0 is the null symbol and locals come first")


def _symbol_table(byteorder: str, symbols: Sequence[OutSymbol], strings: StringTable) -> bytes:
    pack = struct.Struct(byteorder + "IBBHQQ").pack
    return b"".join(
        pack(
            strings.add(sym.name),
            (sym.bind << 4) | (sym.type & 0xF),
            sym.other,
            sym.shndx,
            sym.value,
            sym.size,
        )
        for sym in symbols
    )


def _header(byteorder: str, shoff: int, shnum: int, shstrndx: int) -> bytes:
    ident = b"\x7fELF" + bytes(
        [ELFCLASS64, ELFDATA2LSB if byteorder == "<" else ELFDATA2MSB, EV_CURRENT]
    )
    ident += bytes(16 - len(ident))
    return ident + struct.pack(
        byteorder + "HHIQQQIHHHHHH",
        ET_REL,
        EM_BPF,
        EV_CURRENT,
        0,  # e_entry
        0,  # e_phoff: no program headers in a relocatable object
        shoff,
        0,  # e_flags
        EHDR_SIZE,
        0,  # e_phentsize
        0,  # e_phnum
        SHDR_SIZE,
        shnum,
        shstrndx,
    )


def encode_relocations(byteorder: str, records: Sequence[tuple[int, int, int]]) -> bytes:
    """encode_relocations: Elf64_Rel records from (r_offset, symbol index, type)."""
    pack = struct.Struct(byteorder + "QQ").pack
    return b"".join(pack(offset, (sym << 32) | rtype) for offset, sym, rtype in records)
