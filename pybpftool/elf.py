"""elf: a small, fast reader for ELF64 relocatable BPF objects, both byte orders.

Mirrors the structures of `<elf.h>` (Elf64_Ehdr, Elf64_Shdr, Elf64_Sym, Elf64_Rel). It exists
instead of pyelftools on the hot path because BPF objects carry thousands of relocations in debug
sections that a loader never reads: slicing section data once and decoding records with
`struct.iter_unpack` is ~50x faster than pyelftools' per-record structs (spec/python.md §3).
pyelftools stays the reference in the tests.

Every malformed input raises `ObjectError`; no `struct.error` or `IndexError` escapes.

Annotations here are evaluated when defined (no `from __future__ import annotations`):
typing.NamedTuple compiles a string annotation into a ForwardRef per field, which a cold
attach, defining these records, paid for.
"""

import struct
import sys
from array import array
from typing import Literal, NamedTuple

from pybpftool.errors import ElfContextError, ObjectError

EM_NONE = 0
EM_BPF = 247
ET_REL = 1
ELFCLASS32 = 1
ELFCLASS64 = 2
ELFDATA2LSB = 1
ELFDATA2MSB = 2

SHT_NULL = 0
SHT_PROGBITS = 1
SHT_SYMTAB = 2
SHT_STRTAB = 3
SHT_RELA = 4
SHT_NOBITS = 8
SHT_REL = 9

SHF_WRITE = 0x1
SHF_ALLOC = 0x2
SHF_EXECINSTR = 0x4

SHN_UNDEF = 0
SHN_LORESERVE = 0xFF00
SHN_ABS = 0xFFF1
SHN_COMMON = 0xFFF2
SHN_XINDEX = 0xFFFF

STB_LOCAL = 0
STB_GLOBAL = 1
STB_WEAK = 2

STT_NOTYPE = 0
STT_OBJECT = 1
STT_FUNC = 2
STT_SECTION = 3
STT_FILE = 4

STV_DEFAULT = 0
STV_HIDDEN = 2

# linux/include/uapi/linux/elf-em.h + llvm BPF relocation numbers (llvm-readelf names).
R_BPF_NONE = 0
R_BPF_64_64 = 1
R_BPF_64_ABS64 = 2
R_BPF_64_ABS32 = 3
R_BPF_64_NODYLD32 = 4
R_BPF_64_32 = 10

RELOCATION_NAMES = {
    R_BPF_NONE: "R_BPF_NONE",
    R_BPF_64_64: "R_BPF_64_64",
    R_BPF_64_ABS64: "R_BPF_64_ABS64",
    R_BPF_64_ABS32: "R_BPF_64_ABS32",
    R_BPF_64_NODYLD32: "R_BPF_64_NODYLD32",
    R_BPF_64_32: "R_BPF_64_32",
}

# A .bss larger than this cannot be a BPF map value; refusing it bounds our memory use.
MAX_NOBITS_SIZE = 1 << 26

_EHDR_SIZE = 64
_SHDR_SIZE = 64
_SYM_SIZE = 24
_REL_SIZE = 16


class Section(NamedTuple):
    """Section: one Elf64_Shdr plus its index and resolved name."""

    ndx: int
    name: str
    type: int
    flags: int
    offset: int
    size: int
    link: int
    info: int
    addralign: int
    entsize: int

    @property
    def is_exec(self) -> bool:
        return self.type == SHT_PROGBITS and bool(self.flags & SHF_EXECINSTR)


class Symbol(NamedTuple):
    """Symbol: one Elf64_Sym with its index, name and the decoded st_info/st_other."""

    ndx: int
    name: str
    value: int
    size: int
    type: int
    bind: int
    visibility: int
    shndx: int


class Relocation(NamedTuple):
    """Relocation: one Elf64_Rel (r_offset, symbol index, relocation type)."""

    offset: int
    sym: int
    type: int


def decode_name(raw: bytes) -> str:
    """decode_name: bytes of an ELF/BTF name to str; invalid UTF-8 kept visible, never fatal."""
    return raw.decode("utf-8", "backslashreplace")


class ElfFile:
    """ElfFile: the parsed container: header facts, sections, symbols, relocation access."""

    __slots__ = (
        "_by_name",
        "_by_section",
        "_symbols",
        "byteorder",
        "data",
        "machine",
        "sections",
        "symtab",
    )

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.byteorder, self.machine, shoff, shnum, shstrndx = _parse_header(data)
        self.sections, self.symtab = _parse_sections(data, self.byteorder, shoff, shnum, shstrndx)
        self._by_name: dict[str, Section] | None = None
        self._symbols: tuple[Symbol, ...] | None = None
        self._by_section: dict[int, list[Symbol]] | None = None

    @property
    def little_endian(self) -> bool:
        return self.byteorder == "<"

    def section_by_name(self, name: str) -> Section | None:
        """section_by_name: the first section with that exact name (ELF allows duplicates)."""
        if self._by_name is None:
            self._by_name = {}
            for sec in self.sections:
                self._by_name.setdefault(sec.name, sec)
        return self._by_name.get(name)

    def section_data(self, sec: Section) -> bytes:
        """section_data: the bytes of a section; SHT_NOBITS sections read as zeros."""
        if sec.type == SHT_NOBITS:
            if sec.size > MAX_NOBITS_SIZE:
                raise ObjectError(f"section {sec.name!r}: {sec.size} bytes of zeros is too large")
            return bytes(sec.size)
        return self.data[sec.offset : sec.offset + sec.size]

    @property
    def symbols(self) -> tuple[Symbol, ...]:
        """symbols: every entry of .symtab in table order (index 0 is the null symbol), read
        and checked whole the first time any symbol is asked for."""
        if self._symbols is None:
            self._symbols = _parse_symbols(self) if self.symtab is not None else ()
        return self._symbols

    def symbols_in(self, shndx: int, stt: int | None = None) -> list[Symbol]:
        """symbols_in: the symbols defined in section `shndx` (only those of type `stt` if
        given), in table order."""
        if self._by_section is None:
            self._by_section = {}
            for sym in self.symbols:
                self._by_section.setdefault(sym.shndx, []).append(sym)
        in_section = self._by_section.get(shndx, [])
        return [sym for sym in in_section if stt is None or sym.type == stt]

    def relocations(self, rel: Section) -> list[Relocation]:
        """relocations: the records of one SHT_REL section."""
        if rel.entsize not in (0, _REL_SIZE) or rel.size % _REL_SIZE:
            raise ObjectError(f"relocation section {rel.name!r} has a bad entry size")
        records = struct.iter_unpack(self.byteorder + "QQ", self.section_data(rel))
        return [Relocation(offset, info >> 32, info & 0xFFFFFFFF) for offset, info in records]


def parse_elf(data: bytes) -> ElfFile:
    """parse_elf: validate the ELF header and read the section table of a BPF object."""
    return ElfFile(data)


def _parse_header(data: bytes) -> tuple[str, int, int, int, int]:
    if len(data) < 16 or data[:4] != b"\x7fELF":
        raise ElfContextError("not an ELF file")
    if data[4] == ELFCLASS32:
        raise ElfContextError("32-bit ELF file, eBPF objects are ELF64")
    if data[4] != ELFCLASS64:
        raise ElfContextError(f"unknown ELF class {data[4]}")
    if data[5] == ELFDATA2LSB:
        bo = "<"
    elif data[5] == ELFDATA2MSB:
        bo = ">"
    else:
        raise ElfContextError("ELF format error, wrong endianness info?")
    if len(data) < _EHDR_SIZE:
        raise ElfContextError("truncated ELF header")
    (
        e_type,
        e_machine,
        _ver,
        _entry,
        _phoff,
        shoff,
        _flags,
        _ehsize,
        _phentsize,
        _phnum,
        shentsize,
        shnum,
        shstrndx,
    ) = struct.unpack_from(bo + "HHIQQQIHHHHHH", data, 16)
    if e_type != ET_REL:
        raise ElfContextError("ELF format error, ELF file not for eBPF? (not a relocatable object)")
    if e_machine not in (EM_NONE, EM_BPF):
        raise ElfContextError(
            f"ELF format error, ELF file not for eBPF? (e_machine {e_machine}, expected EM_BPF)"
        )
    if shoff == 0:
        raise ElfContextError("ELF file has no section header table")
    if shentsize != _SHDR_SIZE:
        raise ElfContextError(f"bad ELF section header size {shentsize}")
    if shoff + _SHDR_SIZE > len(data):
        raise ElfContextError("truncated ELF section header table")
    if shnum == 0 or shstrndx == SHN_XINDEX:
        # Extended numbering: the real values live in section 0 (gABI "Sections").
        _n, _t, _f, _a, _o, size0, link0 = struct.unpack_from(bo + "IIQQQQI", data, shoff)
        shnum = shnum or size0
        if shstrndx == SHN_XINDEX:
            shstrndx = link0
    return bo, e_machine, shoff, shnum, shstrndx


def _parse_sections(
    data: bytes, bo: str, shoff: int, shnum: int, shstrndx: int
) -> tuple[tuple[Section, ...], Section | None]:
    """_parse_sections: the section table, and its first SHT_SYMTAB if there is one."""
    end = shoff + shnum * _SHDR_SIZE
    if end > len(data):
        raise ObjectError("truncated ELF section header table")
    if not 0 < shstrndx < shnum:
        raise ObjectError(f"bad section name string table index {shstrndx}")
    headers = list(struct.iter_unpack(bo + "IIQQQQIIQQ", data[shoff:end]))
    for idx, (_name, sh_type, _flags, _addr, offset, size, *_rest) in enumerate(headers):
        if sh_type not in (SHT_NOBITS, SHT_NULL) and (
            offset > len(data) or size > len(data) - offset
        ):
            raise ObjectError(f"section {idx}: data lies outside the file (truncated object?)")
    names = _StringTable(data, headers[shstrndx][4], headers[shstrndx][5])
    sections = tuple(
        Section(idx, names.at(name), sh_type, flags, *place)
        for idx, (name, sh_type, flags, _addr, *place) in enumerate(headers)
    )
    symtab = next((sec for sec in sections if sec.type == SHT_SYMTAB), None)
    return sections, symtab


def unsigned_words(raw: memoryview, byteorder: str, width: int) -> "memoryview | array[int]":
    """unsigned_words: `raw` read as unsigned words of `width` bytes (2, 4 or 8) in the given
    byte order: a view of it (no copy) in the machine's order, else a byteswapped copy."""
    code = _UNSIGNED_CODES[width]
    if byteorder == _HOST_BYTEORDER:
        return raw.cast(code)  # no copy
    swapped = array(code)
    swapped.frombytes(raw)
    swapped.byteswap()
    return swapped


class _StringTable:
    """_StringTable: the NUL-terminated names of an ELF string table, by offset."""

    __slots__ = ("ascii", "data", "end", "size", "start")

    def __init__(self, data: bytes, offset: int, size: int) -> None:
        self.data, self.start, self.size, self.end = data, offset, size, offset + size
        raw = data[offset : offset + size]
        # An ASCII table (the usual case) is decoded once, and each name is a slice of it.
        self.ascii = raw.decode("ascii") if raw.isascii() else None

    def at(self, offset: int) -> str:
        if not 0 <= offset < self.size:
            raise ObjectError(f"string index {offset} outside its string table ({self.size} bytes)")
        if self.ascii is not None:
            stop = self.ascii.find("\0", offset)
            if stop >= 0:
                return self.ascii[offset:stop]
        else:
            stop = self.data.find(b"\0", self.start + offset, self.end)
            if stop >= 0:
                return decode_name(self.data[self.start + offset : stop])
        raise ObjectError(f"string at index {offset} is not NUL-terminated")


def _parse_symbols(elf: ElfFile) -> tuple[Symbol, ...]:
    """_parse_symbols: every entry of .symtab, checked."""
    symtab = elf.symtab
    assert symtab is not None
    if symtab.entsize not in (0, _SYM_SIZE) or symtab.size % _SYM_SIZE:
        raise ObjectError("symbol table has a bad entry size")
    if not 0 < symtab.link < len(elf.sections):
        raise ObjectError(f"symbol table links to missing string table {symtab.link}")
    strtab = elf.sections[symtab.link]
    if strtab.type != SHT_STRTAB:
        raise ObjectError("symbol table's string table is not SHT_STRTAB")
    strings = _StringTable(elf.data, strtab.offset, strtab.size)
    records = struct.iter_unpack(elf.byteorder + "IBBHQQ", elf.section_data(symtab))
    return tuple(
        _symbol(idx, _symbol_name(strings, idx, name), info, other, shndx, value, size)
        for idx, (name, info, other, shndx, value, size) in enumerate(records)
    )


def _symbol(
    idx: int, name: str, info: int, other: int, shndx: int, value: int, size: int
) -> Symbol:
    """_symbol: one Elf64_Sym with st_info split (ELF64_ST_TYPE, ELF64_ST_BIND) and
    st_other's ELF64_ST_VISIBILITY."""
    return Symbol(idx, name, value, size, info & 0xF, info >> 4, other & 0x3, shndx)


def _symbol_name(strings: _StringTable, idx: int, offset: int) -> str:
    try:
        return strings.at(offset)
    except ObjectError:
        raise ObjectError(f"symbol {idx}: bad name index {offset}") from None


_HOST_BYTEORDER = "<" if sys.byteorder == "little" else ">"
# struct and array (and memoryview) share these codes; they have these sizes on every platform
# CPython supports, as struct's native sizes confirm at import.
_UNSIGNED_CODES: dict[int, Literal["H", "I", "Q"]] = {2: "H", 4: "I", 8: "Q"}
assert all(struct.calcsize(code) == width for width, code in _UNSIGNED_CODES.items())
