"""elf: a small, fast reader for ELF64 relocatable BPF objects, both byte orders.

Mirrors the structures of `<elf.h>` (Elf64_Ehdr, Elf64_Shdr, Elf64_Sym, Elf64_Rel). It exists
instead of pyelftools on the hot path because BPF objects carry thousands of relocations in debug
sections that a loader never reads: slicing section data once and decoding records with
`struct.iter_unpack` is ~50x faster than pyelftools' per-record structs (spec/python.md §3).
pyelftools stays the reference in the tests.

Every malformed input raises `ObjectError`; no `struct.error` or `IndexError` escapes.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

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
        self.sections = _parse_sections(data, self.byteorder, shoff, shnum, shstrndx)
        self._by_name: dict[str, Section] | None = None
        self._symbols: tuple[Symbol, ...] | None = None
        self._by_section: dict[int, list[Symbol]] | None = None
        self.symtab = next((s for s in self.sections if s.type == SHT_SYMTAB), None)

    @property
    def little_endian(self) -> bool:
        return self.byteorder == "<"

    def section_by_name(self, name: str) -> Section | None:
        """section_by_name: the first section with that exact name (ELF allows duplicates)."""
        if self._by_name is None:
            by_name: dict[str, Section] = {}
            for sec in self.sections:
                by_name.setdefault(sec.name, sec)
            self._by_name = by_name
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
        """symbols: every entry of .symtab in table order (index 0 is the null symbol)."""
        if self._symbols is None:
            self._symbols = _parse_symbols(self) if self.symtab is not None else ()
        return self._symbols

    def symbols_in(self, shndx: int) -> list[Symbol]:
        """symbols_in: the symbols defined in section `shndx`, in table order."""
        if self._by_section is None:
            by_section: dict[int, list[Symbol]] = {}
            for sym in self.symbols:
                by_section.setdefault(sym.shndx, []).append(sym)
            self._by_section = by_section
        return self._by_section.get(shndx, [])

    def relocations(self, rel: Section) -> list[Relocation]:
        """relocations: the records of one SHT_REL section."""
        new = tuple.__new__
        return [
            new(Relocation, (off, info >> 32, info & 0xFFFFFFFF))
            for off, info in self.relocation_records(rel)
        ]

    def relocation_records(self, rel: Section) -> list[tuple[int, int]]:
        """relocation_records: (r_offset, r_info) of each record of one SHT_REL section, for
        hot loops that split r_info themselves (ELF64_R_SYM is the high half, TYPE the low)."""
        if rel.entsize not in (0, _REL_SIZE) or rel.size % _REL_SIZE:
            raise ObjectError(f"relocation section {rel.name!r} has a bad entry size")
        return list(struct.iter_unpack(self.byteorder + "QQ", self.section_data(rel)))


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
) -> tuple[Section, ...]:
    end = shoff + shnum * _SHDR_SIZE
    if end > len(data):
        raise ObjectError("truncated ELF section header table")
    if not 0 < shstrndx < shnum:
        raise ObjectError(f"bad section name string table index {shstrndx}")
    raw = list(struct.iter_unpack(bo + "IIQQQQIIQQ", data[shoff:end]))
    size = len(data)
    for idx, (_n, sh_type, _f, _a, off, sz, *_rest) in enumerate(raw):
        if sh_type not in (SHT_NOBITS, SHT_NULL) and (off > size or sz > size - off):
            raise ObjectError(f"section {idx}: data lies outside the file (truncated object?)")
    names_hdr = raw[shstrndx]
    name_at = _StringTable(data, names_hdr[4], names_hdr[5]).at
    new = tuple.__new__  # the NamedTuple constructor minus a Python-level call per record
    return tuple(
        new(Section, (idx, name_at(name), sh_type, flags, off, sz, link, info, align, ent))
        for idx, (name, sh_type, flags, _addr, off, sz, link, info, align, ent) in enumerate(raw)
    )


class _StringTable:
    """_StringTable: names of an ELF string table, decoded once when the table is ASCII.

    Objects have thousands of names; one decode of the table and str.find per name is several
    times cheaper than slicing and decoding each name's bytes.
    """

    __slots__ = ("ascii", "data", "end", "size", "start")

    def __init__(self, data: bytes, offset: int, size: int) -> None:
        self.data, self.start, self.size, self.end = data, offset, size, offset + size
        raw = data[offset : offset + size]
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
    symtab = elf.symtab
    assert symtab is not None
    if symtab.entsize not in (0, _SYM_SIZE) or symtab.size % _SYM_SIZE:
        raise ObjectError("symbol table has a bad entry size")
    if not 0 < symtab.link < len(elf.sections):
        raise ObjectError(f"symbol table links to missing string table {symtab.link}")
    strtab = elf.sections[symtab.link]
    if strtab.type != SHT_STRTAB:
        raise ObjectError("symbol table's string table is not SHT_STRTAB")
    names = _StringTable(elf.data, strtab.offset, strtab.size)
    raw = elf.data[symtab.offset : symtab.offset + symtab.size]
    new = tuple.__new__
    out = []
    for idx, (name, info, other, shndx, value, size) in enumerate(
        struct.iter_unpack(elf.byteorder + "IBBHQQ", raw)
    ):
        try:
            text = names.at(name)
        except ObjectError:
            raise ObjectError(f"symbol {idx}: bad name index {name}") from None
        out.append(new(Symbol, (idx, text, value, size, info & 0xF, info >> 4, other & 0x3, shndx)))
    return tuple(out)
