"""ext: the .BTF.ext section: func_info, line_info and CO-RE relocation records per section.

Mirrors include/uapi/linux/btf.h-adjacent struct btf_ext_header and libbpf's btf_ext parsing:
each block starts with its record size, then repeats {section name offset, record count,
records}. Records larger than we know are accepted and their tail ignored, as libbpf does;
smaller ones are refused. `insn_off` values are byte offsets, as stored.

Annotations here are evaluated when defined (no `from __future__ import annotations`):
typing.NamedTuple compiles a string annotation into a ForwardRef per field, which a cold
attach, defining these records, paid for.
"""

import struct
from collections.abc import Callable
from typing import Any, NamedTuple

from pybpftool.btf.spec import BtfSpec, check_header, gather, u32_words
from pybpftool.errors import ObjectError


class FuncInfo(NamedTuple):
    """FuncInfo: struct bpf_func_info."""

    insn_off: int
    type_id: int


class LineInfo(NamedTuple):
    """LineInfo: struct bpf_line_info with its file and line text resolved."""

    insn_off: int
    file_name: str
    line: str
    line_num: int
    column: int
    file_name_off: int = 0
    line_off: int = 0


class CoreRelo(NamedTuple):
    """CoreRelo: struct bpf_core_relo with its access string resolved (e.g. "0:1:2")."""

    insn_off: int
    type_id: int
    access: str
    kind: int


class _Blocks(NamedTuple):
    """_Blocks: where the records of one info block (func_info, ...) are. Block k holds
    `counts[k]` records of `rec_size` bytes at `first + 4 * heads[k]`, for the section whose
    name is at `names[k]` of the string section."""

    first: int
    rec_size: int
    heads: list[int]
    names: tuple[int, ...]
    counts: tuple[int, ...]


_NO_BLOCKS = _Blocks(0, 0, [], (), ())


class BtfExt:
    """BtfExt: records of .BTF.ext, keyed by ELF section name.

    The layout and the section names are validated when the section is parsed; the names
    and the records themselves (thousands in a large object, needed only when a program is
    loaded) are decoded on first access.
    """

    __slots__ = ("_blocks", "_btf", "_cache", "_data", "byteorder")

    def __init__(
        self, data: bytes, byteorder: str, btf: BtfSpec, blocks: dict[str, _Blocks]
    ) -> None:
        self._data = data
        self.byteorder = byteorder
        self._btf = btf
        self._blocks = blocks
        self._cache: dict[str, dict[str, tuple[Any, ...]]] = {}

    @property
    def func_info(self) -> dict[str, tuple[FuncInfo, ...]]:
        return self._decoded("func_info", lambda o, t: FuncInfo(o, t))

    @property
    def line_info(self) -> dict[str, tuple[LineInfo, ...]]:
        string = self._btf.string
        return self._decoded(
            "line_info",
            lambda o, f, ln, col: LineInfo(o, string(f), string(ln), col >> 10, col & 0x3FF, f, ln),
        )

    @property
    def core_relos(self) -> dict[str, tuple[CoreRelo, ...]]:
        string = self._btf.string
        return self._decoded("core_relo", lambda o, t, a, k: CoreRelo(o, t, string(a), k))

    def _decoded(self, what: str, make: Callable[..., Any]) -> dict[str, tuple[Any, ...]]:
        if what not in self._cache:
            self._cache[what] = {
                sec: tuple(make(*rec) for rec in self._records(what, blocks))
                for sec, blocks in self._by_section(what).items()
            }
        return self._cache[what]

    def _by_section(self, what: str) -> dict[str, list[tuple[int, int, int]]]:
        """_by_section: (first record, count, record size) of each block, by section name."""
        out: dict[str, list[tuple[int, int, int]]] = {}
        string = self._btf.string
        first, rec_size, heads, names, counts = self._blocks[what]
        for name_off, head, count in zip(names, heads, counts, strict=True):
            out.setdefault(string(name_off), []).append((first + 4 * head, count, rec_size))
        return out

    def _records(self, what: str, blocks: list[tuple[int, int, int]]) -> list[tuple[int, ...]]:
        fmt = self.byteorder + "I" * (_MIN_RECORD[what] // 4)
        out: list[tuple[int, ...]] = []
        for pos, count, rec_size in blocks:
            out += (struct.unpack_from(fmt, self._data, pos + i * rec_size) for i in range(count))
        return out


_MIN_RECORD = {"func_info": 8, "line_info": 16, "core_relo": 16}


def _blocks(data: bytes, bo: str, start: int, length: int, what: str, btf: BtfSpec) -> _Blocks:
    """_blocks: the layout of one info block, checked as libbpf checks it."""
    if length == 0:
        return _NO_BLOCKS
    end = start + length
    if start < 0 or end > len(data) or length < 4:
        raise ObjectError(f".BTF.ext: {what} lies outside the section")
    rec_size = struct.unpack_from(bo + "I", data, start)[0]
    if rec_size < _MIN_RECORD[what] or rec_size % 4:
        raise ObjectError(f".BTF.ext: {what} record size {rec_size} is too small")
    # After the record size, block k has a (name offset, count) header at words heads[k] and
    # heads[k] + 1, then its records. A large object has thousands of blocks: the walk only
    # steps from header to header, and the counts and names are checked after it in bulk.
    names = u32_words(data, start + 4, end, bo)
    counts = names[1:]  # counts[i] is names[i + 1]
    heads = []
    head, stop, step = 0, len(counts), rec_size // 4
    while head < stop:
        heads.append(head)
        head += 2 + counts[head] * step
    found, name_offs = gather(counts, heads), gather(names, heads)
    bad = _first_bad(found, head > len(names))
    # A walk checking block by block would have read the names of the blocks before it first.
    btf.check_strings(name_offs[:bad])
    if bad < len(heads):
        raise ObjectError(f".BTF.ext: {what} block has a bad record count {found[bad]}")
    if 4 * head < length - 4:
        raise ObjectError(f".BTF.ext: {what} block header is truncated")
    return _Blocks(start + 12, rec_size, heads, name_offs, found)


def _first_bad(counts: tuple[int, ...], overran: bool) -> int:
    """_first_bad: the first bad block of a walk: one without records, or else the last one
    if its records run past the end (`overran`); len(counts) if none is bad."""
    if 0 in counts:
        return counts.index(0)
    return len(counts) - 1 if overran else len(counts)


def parse_btf_ext(data: bytes, byteorder: str, btf: BtfSpec) -> BtfExt:
    """parse_btf_ext: validate .BTF.ext; names and strings are read from `btf`."""
    words = check_header(data, byteorder, ".BTF.ext")
    hdr_len = words[0]
    if hdr_len < 24:
        raise ObjectError(f".BTF.ext: header length {hdr_len} is shorter than 24")
    fi_off, fi_len, li_off, li_len = words[1:5]
    core_off, core_len = words[5:7] if hdr_len >= 32 else (0, 0)
    blocks = {
        "func_info": _blocks(data, byteorder, hdr_len + fi_off, fi_len, "func_info", btf),
        "line_info": _blocks(data, byteorder, hdr_len + li_off, li_len, "line_info", btf),
        "core_relo": _blocks(data, byteorder, hdr_len + core_off, core_len, "core_relo", btf),
    }
    return BtfExt(data, byteorder, btf, blocks)
