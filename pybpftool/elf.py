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
import sys
from array import array
from collections.abc import Callable, Iterator, Sequence
from itertools import accumulate, compress, islice, repeat
from operator import add, eq, itemgetter
from typing import Any, Literal, NamedTuple, overload

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
        "_rel_struct",
        "_symbol_table",
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
        self._symbol_table: SymbolTable | None = None
        # Built once: an object has a relocation section per program, hundreds of them.
        self._rel_struct = struct.Struct(self.byteorder + "QQ")

    @property
    def little_endian(self) -> bool:
        return self.byteorder == "<"

    def section_by_name(self, name: str) -> Section | None:
        """section_by_name: the first section with that exact name (ELF allows duplicates)."""
        if self._by_name is None:
            # Built back to front, so the first of each name is the one left standing.
            backwards = self.sections[::-1]
            self._by_name = {sec.name: sec for sec in backwards}
        return self._by_name.get(name)

    def section_data(self, sec: Section) -> bytes:
        """section_data: the bytes of a section; SHT_NOBITS sections read as zeros."""
        if sec.type == SHT_NOBITS:
            if sec.size > MAX_NOBITS_SIZE:
                raise ObjectError(f"section {sec.name!r}: {sec.size} bytes of zeros is too large")
            return bytes(sec.size)
        offset = sec.offset
        return self.data[offset : offset + sec.size]

    @property
    def symbol_table(self) -> SymbolTable:
        """symbol_table: .symtab as a sequence whose Symbols are built when first read.

        Reading it decodes and checks the whole table, so a malformed one is reported here,
        whichever of symbols, symbols_in or symbol_table is read first.
        """
        if self._symbol_table is None:
            self._symbol_table = _parse_symbols(self) if self.symtab is not None else _NO_SYMBOLS
        return self._symbol_table

    @property
    def symbols(self) -> tuple[Symbol, ...]:
        """symbols: every entry of .symtab in table order (index 0 is the null symbol)."""
        return self.symbol_table.all()

    def symbols_in(self, shndx: int, stt: int | None = None) -> list[Symbol]:
        """symbols_in: the symbols defined in section `shndx` (only those of type `stt` if
        given), in table order; a new list on each call.

        Asked once per code section: an answer SymbolTable.in_section has grouped already is
        found here, without a second call.
        """
        table = self._symbol_table
        if table is None:
            table = self.symbol_table
        by_section = table._by_type.get(stt)  # never for stt None
        if by_section is not None:
            return [*by_section.get(shndx, ())]
        return table.in_section(shndx, stt)

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
        size = rel.size
        if rel.entsize not in (0, _REL_SIZE) or size % _REL_SIZE:
            raise ObjectError(f"relocation section {rel.name!r} has a bad entry size")
        if rel.type == SHT_NOBITS:
            raw = self.section_data(rel)
        else:
            # _parse_sections checked that every section with data lies inside the file, so
            # this is section_data's slice without a call: hundreds of code sections read here.
            offset = rel.offset
            raw = self.data[offset : offset + size]
        return list(self._rel_struct.iter_unpack(raw))


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
    name_offs, types, flags, _addrs, offsets, sizes, *link_info_align_entsize = _columns(
        memoryview(data)[shoff:end], bo, "IIQQQQIIQQ"
    )
    if max(map(add, offsets, sizes)) > len(data):
        _check_extents(types, offsets, sizes, len(data))
    names_table = _StringTable(data, offsets[shstrndx], sizes[shstrndx])
    names = names_table.names(name_offs)
    if names is None:
        names = [names_table.at(offset) for offset in name_offs]
    columns = zip(
        range(shnum), names, types, flags, offsets, sizes, *link_info_align_entsize, strict=True
    )
    sections = tuple(map(tuple.__new__, repeat(Section), columns))
    # One scan of the type column: .symtab is usually the last of a thousand sections.
    try:
        return sections, sections[types.index(SHT_SYMTAB)]
    except ValueError:
        return sections, None


def _check_extents(
    types: Sequence[int], offsets: Sequence[int], sizes: Sequence[int], size: int
) -> None:
    """_check_extents: every section with data lies inside the file."""
    for idx, (sh_type, off, sz) in enumerate(zip(types, offsets, sizes, strict=True)):
        if sh_type not in (SHT_NOBITS, SHT_NULL) and (off > size or sz > size - off):
            raise ObjectError(f"section {idx}: data lies outside the file (truncated object?)")


def _columns(raw: memoryview, byteorder: str, fmt: str) -> list[Sequence[int]]:
    """_columns: the fields of the fixed-size records in `raw` (struct format `fmt` without
    its byte order, e.g. "IBBHQQ"), one sequence per field (bytes for one-byte fields).

    It gives what zip(*struct.iter_unpack(byteorder + fmt, raw)) gives, minus a tuple per record
    and a transposition, which cost more than the fields themselves. ELF records are naturally
    aligned, so each field is a strided slice of `raw` read as words of the field's width.
    """
    record_size = struct.calcsize("<" + fmt)
    words: dict[int, memoryview | array[int]] = {}
    columns: list[Sequence[int]] = []
    offset = 0
    for code in fmt:
        width = struct.calcsize("<" + code)
        assert offset % width == 0, (fmt, code)
        if width == 1:
            columns.append(raw[offset::record_size].tobytes())
        else:
            if width not in words:
                words[width] = unsigned_words(raw, byteorder, width)
            columns.append(words[width][offset // width :: record_size // width].tolist())
        offset += width
    return columns


def unsigned_words(raw: memoryview, byteorder: str, width: int) -> memoryview | array[int]:
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

    def text_for(self, offsets: Sequence[int]) -> str | None:
        """text_for: the decoded table if at() of every one of `offsets` is simply the text from
        there to the next NUL, else None.

        That holds when the table is ASCII, ends in NUL and every offset lies inside it: then
        no check of at() can fail, and names can be sliced without one.
        """
        text = self.ascii
        if text is None or not text.endswith("\0") or (offsets and max(offsets) >= len(text)):
            return None
        return text

    def names(self, offsets: Sequence[int]) -> list[str] | None:
        """names: at() of each offset, or None when at() has to check them one by one.

        When text_for() vouches for every offset, one comprehension slices every name. Offset 0
        names every STT_SECTION symbol (a third of a large object's), so that name is looked up
        once.
        """
        text = self.text_for(offsets)
        if text is None:
            return None
        find = text.find
        first = text[: find("\0")]
        return [text[offset : find("\0", offset)] if offset else first for offset in offsets]


class SymbolTable(Sequence[Symbol]):
    """SymbolTable: the entries of .symtab, decoded column-wise; Symbols (and their names) are
    built only when asked for.

    A large object has thousands of symbols, but a parse reads few of them: the functions of
    each code section, the objects of data and map sections, and the ones relocations name.
    Building a named tuple and slicing a name for every entry, then grouping them all by
    section, cost more than all of those. Its columns were checked when it was built: when
    `_StringTable.text_for` vouches for every name offset, names are sliced when needed, else
    every name was read (and checked) up front, so a bad name is reported when the table is
    built, never later. Symbols read twice are equal, not necessarily the same object.
    """

    __slots__ = (
        "_all",
        "_binds",
        "_built",
        "_by_type",
        "_first",
        "_name_offs",
        "_names",
        "_shndxs",
        "_sizes",
        "_text",
        "_types",
        "_values",
        "_visibilities",
    )

    def __init__(
        self,
        text: str | None,
        names: list[str] | None,
        name_offs: Sequence[int],
        values: Sequence[int],
        sizes: Sequence[int],
        types: bytes,
        binds: bytes,
        visibilities: bytes,
        shndxs: Sequence[int],
    ) -> None:
        # Exactly one of `text` (every name offset known to be good) and `names` is set.
        self._text, self._names = text, names
        self._first = text[: text.find("\0")] if text is not None else ""
        self._name_offs, self._values, self._sizes = name_offs, values, sizes
        self._types, self._binds, self._visibilities = types, binds, visibilities
        self._shndxs = shndxs
        self._all: tuple[Symbol, ...] | None = None
        self._built: dict[int, Symbol] = {}  # by index
        # For each symbol type asked for, its symbols by section (read by ElfFile.symbols_in).
        self._by_type: dict[int | None, dict[int, tuple[Symbol, ...]]] = {}

    def __len__(self) -> int:
        return len(self._name_offs)

    def __iter__(self) -> Iterator[Symbol]:
        return iter(self.all())  # not Sequence's, which reads them one by one

    @overload
    def __getitem__(self, index: int) -> Symbol: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Symbol, ...]: ...

    def __getitem__(self, index: int | slice) -> Symbol | tuple[Symbol, ...]:
        # Relocations read the same few symbols (maps, functions) by index, built already.
        try:
            return self._built[index]  # type: ignore[index]  # a slice raises TypeError
        except (KeyError, TypeError):
            pass
        if isinstance(index, slice):
            return self.all()[index]
        count = len(self._name_offs)
        if not -count <= index < count:
            raise IndexError("symbol index out of range")
        sym = self._built[index % count] = self._one(index % count)
        return sym

    def _one(self, ndx: int) -> Symbol:
        """_one: the symbol at `ndx`, built alone (cheaper than _build for one)."""
        names = self._names
        if names is not None:
            name = names[ndx]
        else:
            offset = self._name_offs[ndx]
            text = self._text
            assert text is not None
            name = text[offset : text.find("\0", offset)] if offset else self._first
        return tuple.__new__(
            Symbol,
            (
                ndx,
                name,
                self._values[ndx],
                self._sizes[ndx],
                self._types[ndx],
                self._binds[ndx],
                self._visibilities[ndx],
                self._shndxs[ndx],
            ),
        )

    def all(self) -> tuple[Symbol, ...]:
        """all: every symbol in table order."""
        if self._all is None:
            self._all = tuple(self._build(None))
        return self._all

    def in_section(self, shndx: int, stt: int | None = None) -> list[Symbol]:
        """in_section: the symbols of section `shndx` (only of type `stt` if given), in table
        order; a new list on each call.

        Callers ask for one type (the functions of a code section, the objects of a data
        section), so every symbol of a type is built at the first question about it.
        """
        if stt is None:
            shndxs, built = self._shndxs, self._built
            grouped = [sym for group in self._by_type.values() for sym in group.get(shndx, ())]
            if len(grouped) == shndxs.count(shndx):
                # All are of types grouped already (.maps holds the objects of its DATASEC):
                # a count is cheaper than finding them.
                return sorted(grouped, key=_NDX)
            indexes = list(compress(range(len(shndxs)), map(eq, shndxs, repeat(shndx))))
            missing = [ndx for ndx in indexes if ndx not in built]
            built.update(zip(missing, self._build(missing), strict=True))
            return list(map(built.__getitem__, indexes))
        by_section = self._by_type.get(stt)
        if by_section is None:
            by_section = self._by_type[stt] = self._group(stt)
        return [*by_section.get(shndx, ())]

    def _group(self, stt: int) -> dict[int, tuple[Symbol, ...]]:
        """_group: the symbols of type `stt` by section, in table order.

        Most sections have at most one symbol of a type (a code section's function), so the
        groups are made by C loops, and a Python loop regroups only when some section has more.
        """
        indexes = _positions(self._types, stt) if 0 <= stt < 256 else []
        syms = self._build(indexes)
        self._built.update(zip(indexes, syms, strict=True))  # relocations name some of them
        shndxs = list(map(_SHNDX, syms))
        by_section = dict(zip(shndxs, zip(syms), strict=True))  # the last of each, in a 1-tuple
        if len(by_section) < len(syms):
            lists: dict[int, list[Symbol]] = {}
            for sym, shndx in zip(syms, shndxs, strict=True):
                lists.setdefault(shndx, []).append(sym)
            by_section = {shndx: tuple(group) for shndx, group in lists.items()}
        return by_section

    def _build(self, indexes: list[int] | None) -> list[Symbol]:
        """_build: the symbols at `indexes` (ascending), or every one if it is None.

        Each column is picked by one C call (operator.itemgetter), much cheaper than indexing
        it once per symbol or filtering the whole column.
        """
        if indexes is None:
            pick: Callable[[Sequence[Any]], Sequence[Any]] = _same
            indexes = list(range(len(self._name_offs)))
        elif len(indexes) > 1:
            pick = itemgetter(*indexes)
        else:
            return [self._one(ndx) for ndx in indexes]  # itemgetter(i) gives no tuple
        if self._names is not None:
            names: Sequence[str] = pick(self._names)
        else:
            text = self._text
            assert text is not None
            find, first = text.find, self._first
            # Offset 0 (the empty name) names every STT_SECTION symbol.
            names = [text[off : find("\0", off)] if off else first for off in pick(self._name_offs)]
        columns = zip(
            indexes,
            names,
            pick(self._values),
            pick(self._sizes),
            pick(self._types),
            pick(self._binds),
            pick(self._visibilities),
            pick(self._shndxs),
            strict=True,
        )
        return list(map(tuple.__new__, repeat(Symbol), columns))


def _same(column: Sequence[Any]) -> Sequence[Any]:
    return column


def _positions(column: bytes, value: int) -> list[int]:
    """_positions: the indexes where `column` holds `value`, ascending.

    Splitting at `value` is a C scan; each match ends a piece, at the sum of the lengths (plus
    one each) of the pieces up to it, less one. That costs a few C steps per match and none
    per other entry, where filtering the column costs an int per entry.
    """
    pieces = column.split(bytes((value,)))
    lengths = map(add, map(len, pieces), repeat(1))
    return list(islice(accumulate(lengths, initial=-1), 1, len(pieces)))


_NDX = itemgetter(0)  # Symbol.ndx, read in C
_SHNDX = itemgetter(7)  # Symbol.shndx, read in C


def _parse_symbols(elf: ElfFile) -> SymbolTable:
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
    raw = memoryview(elf.data)[symtab.offset : symtab.offset + symtab.size]
    if not raw:
        return _NO_SYMBOLS
    name_offs, infos, others, shndxs, values, sizes = _columns(raw, elf.byteorder, "IBBHQQ")
    text = strings.text_for(name_offs)
    names = None
    if text is None:
        # Some name may be bad: read them all now, so it is reported when the table is read.
        names = [_symbol_name(strings, idx, offset) for idx, offset in enumerate(name_offs)]
    # ELF64_ST_TYPE, ELF64_ST_BIND and ELF64_ST_VISIBILITY of every symbol by one translate each.
    info_bytes = bytes(infos)
    types = info_bytes.translate(_ST_TYPE)
    binds = info_bytes.translate(_ST_BIND)
    visibilities = bytes(others).translate(_ST_VISIBILITY)
    return SymbolTable(text, names, name_offs, values, sizes, types, binds, visibilities, shndxs)


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
_ST_TYPE = bytes(info & 0xF for info in range(256))
_ST_BIND = bytes(info >> 4 for info in range(256))
_ST_VISIBILITY = bytes(other & 0x3 for other in range(256))
_NO_SYMBOLS = SymbolTable("", None, (), (), (), b"", b"", b"", ())
