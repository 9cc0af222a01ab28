"""ext: the .BTF.ext section: func_info, line_info and CO-RE relocation records per section.

Mirrors include/uapi/linux/btf.h-adjacent struct btf_ext_header and libbpf's btf_ext parsing:
each block starts with its record size, then repeats {section name offset, record count,
records}. Records larger than we know are accepted and their tail ignored, as libbpf does;
smaller ones are refused. `insn_off` values are byte offsets, as stored.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from pybpftool.btf.spec import BtfSpec, check_header
from pybpftool.errors import ObjectError


@dataclass(frozen=True, slots=True)
class FuncInfo:
    """FuncInfo: struct bpf_func_info."""

    insn_off: int
    type_id: int


@dataclass(frozen=True, slots=True)
class LineInfo:
    """LineInfo: struct bpf_line_info with its file and line text resolved."""

    insn_off: int
    file_name: str
    line: str
    line_num: int
    column: int
    file_name_off: int = 0
    line_off: int = 0


@dataclass(frozen=True, slots=True)
class CoreRelo:
    """CoreRelo: struct bpf_core_relo with its access string resolved (e.g. "0:1:2")."""

    insn_off: int
    type_id: int
    access: str
    kind: int


@dataclass(frozen=True, slots=True)
class BtfExt:
    """BtfExt: records of .BTF.ext, keyed by ELF section name."""

    func_info: dict[str, tuple[FuncInfo, ...]] = field(default_factory=dict)
    line_info: dict[str, tuple[LineInfo, ...]] = field(default_factory=dict)
    core_relos: dict[str, tuple[CoreRelo, ...]] = field(default_factory=dict)


_MIN_RECORD = {"func_info": 8, "line_info": 16, "core_relo": 16}


def _blocks(
    data: bytes, bo: str, start: int, length: int, what: str, btf: BtfSpec
) -> dict[str, list[tuple[int, ...]]]:
    """_blocks: {section: [record words]} of one info block."""
    out: dict[str, list[tuple[int, ...]]] = {}
    if length == 0:
        return out
    end = start + length
    if start < 0 or end > len(data) or length < 4:
        raise ObjectError(f".BTF.ext: {what} lies outside the section")
    rec_size = struct.unpack_from(bo + "I", data, start)[0]
    if rec_size < _MIN_RECORD[what] or rec_size % 4:
        raise ObjectError(f".BTF.ext: {what} record size {rec_size} is too small")
    words = _MIN_RECORD[what] // 4
    pos = start + 4
    while pos < end:
        if pos + 8 > end:
            raise ObjectError(f".BTF.ext: {what} block header is truncated")
        name_off, count = struct.unpack_from(bo + "II", data, pos)
        pos += 8
        if count == 0 or count * rec_size > end - pos:
            raise ObjectError(f".BTF.ext: {what} block has a bad record count {count}")
        records = [
            struct.unpack_from(bo + "I" * words, data, pos + i * rec_size) for i in range(count)
        ]
        out.setdefault(btf.string(name_off), []).extend(records)
        pos += count * rec_size
    return out


def parse_btf_ext(data: bytes, byteorder: str, btf: BtfSpec) -> BtfExt:
    """parse_btf_ext: decode .BTF.ext; names and strings are read from `btf`."""
    words = check_header(data, byteorder, ".BTF.ext")
    hdr_len = words[0]
    if hdr_len < 24:
        raise ObjectError(f".BTF.ext: header length {hdr_len} is shorter than 24")
    fi_off, fi_len, li_off, li_len = words[1:5]
    core_off, core_len = words[5:7] if hdr_len >= 32 else (0, 0)
    funcs = _blocks(data, byteorder, hdr_len + fi_off, fi_len, "func_info", btf)
    lines = _blocks(data, byteorder, hdr_len + li_off, li_len, "line_info", btf)
    relos = _blocks(data, byteorder, hdr_len + core_off, core_len, "core_relo", btf)
    return BtfExt(
        func_info={s: tuple(FuncInfo(o, t) for o, t in r) for s, r in funcs.items()},
        line_info={
            s: tuple(
                LineInfo(o, btf.string(f), btf.string(ln), col >> 10, col & 0x3FF, f, ln)
                for o, f, ln, col in r
            )
            for s, r in lines.items()
        },
        core_relos={
            s: tuple(CoreRelo(o, t, btf.string(a), k) for o, t, a, k in r) for s, r in relos.items()
        },
    )
