"""mutate: derive broken objects from good ones, deterministically (a seeded generator).

Each mutation models a way real files go wrong: flipped bits, truncation, and corrupted
header, section-header, symbol, relocation and BTF fields set to boundary values.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator

from pybpftool.elf import parse_elf

BOUNDARY = (0, 1, 7, 8, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF)


def _put(buf: bytearray, bo: str, fmt: str, off: int, value: int) -> None:
    size = struct.calcsize(fmt)
    if 0 <= off <= len(buf) - size:
        struct.pack_into(bo + fmt, buf, off, value & ((1 << (8 * size)) - 1))


def bit_flips(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        pos = rng.randrange(len(buf))
        buf[pos] ^= 1 << rng.randrange(8)
    return bytes(buf)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


def header_field(data: bytes, rng: random.Random) -> bytes:
    """header_field: an ELF header field (type, machine, shoff, shentsize, shnum, shstrndx)."""
    buf = bytearray(data)
    bo = "<" if data[5] == 1 else ">"
    off, fmt = rng.choice(
        [(16, "H"), (18, "H"), (40, "Q"), (58, "H"), (60, "H"), (62, "H"), (4, "B"), (5, "B")]
    )
    _put(buf, bo, fmt, off, rng.choice(BOUNDARY) if rng.random() < 0.7 else rng.getrandbits(64))
    return bytes(buf)


def section_field(data: bytes, rng: random.Random) -> bytes:
    """section_field: one field of one section header."""
    elf = parse_elf(data)
    bo = elf.byteorder
    shoff = struct.unpack_from(bo + "Q", data, 40)[0]
    sec = rng.randrange(len(elf.sections))
    field_off, fmt = rng.choice(
        [(0, "I"), (4, "I"), (8, "Q"), (24, "Q"), (32, "Q"), (40, "I"), (44, "I"), (56, "Q")]
    )
    buf = bytearray(data)
    value = rng.choice(BOUNDARY) if rng.random() < 0.6 else rng.getrandbits(32)
    _put(buf, bo, fmt, shoff + sec * 64 + field_off, value)
    return bytes(buf)


def _records(data: bytes, sh_type: int, name_prefix: str = "") -> list[tuple[int, int]]:
    elf = parse_elf(data)
    return [
        (s.offset, s.size)
        for s in elf.sections
        if s.type == sh_type and s.name.startswith(name_prefix)
    ]


def symbol_field(data: bytes, rng: random.Random) -> bytes:
    """symbol_field: st_name, st_info, st_shndx, st_value or st_size of one symbol."""
    bo = "<" if data[5] == 1 else ">"
    ((off, size),) = _records(data, 2)
    sym = rng.randrange(size // 24)
    field_off, fmt = rng.choice([(0, "I"), (4, "B"), (6, "H"), (8, "Q"), (16, "Q")])
    buf = bytearray(data)
    _put(buf, bo, fmt, off + sym * 24 + field_off, rng.choice((*BOUNDARY, 3, 4, 5, 6, 16)))
    return bytes(buf)


def relocation_field(data: bytes, rng: random.Random) -> bytes:
    """relocation_field: r_offset, symbol or type of one relocation in a code or .maps section."""
    bo = "<" if data[5] == 1 else ">"
    rels = [r for r in _records(data, 9) if r[1]]
    off, size = rng.choice(rels)
    entry = off + rng.randrange(size // 16) * 16
    buf = bytearray(data)
    if rng.random() < 0.5:
        _put(buf, bo, "Q", entry, rng.choice((*BOUNDARY, 4, 12, 4096)))
    else:
        sym = rng.choice((*BOUNDARY, 1, 2, 3, 4096))
        rtype = rng.choice((1, 2, 3, 4, 10, 11, 0xFF))
        _put(buf, bo, "Q", entry + 8, (sym << 32) | rtype)
    return bytes(buf)


def btf_field(data: bytes, rng: random.Random) -> bytes:
    """btf_field: a .BTF / .BTF.ext header field or a word inside the type section."""
    elf = parse_elf(data)
    bo = elf.byteorder
    secs = [s for s in elf.sections if s.name in (".BTF", ".BTF.ext") and s.size >= 24]
    if not secs:
        return bit_flips(data, rng)
    sec = rng.choice(secs)
    buf = bytearray(data)
    if rng.random() < 0.4:
        field_off, fmt = rng.choice(
            [(0, "H"), (2, "B"), (4, "I"), (8, "I"), (12, "I"), (16, "I"), (20, "I")]
        )
    else:
        field_off, fmt = 24 + 4 * rng.randrange((sec.size - 24) // 4), "I"
    _put(buf, bo, fmt, sec.offset + field_off, rng.choice((*BOUNDARY, 19, 20, 16777216)))
    return bytes(buf)


MUTATORS = (
    bit_flips,
    truncate,
    header_field,
    section_field,
    symbol_field,
    relocation_field,
    btf_field,
)


def mutations(data: bytes, seed: int, count: int) -> Iterator[tuple[str, bytes]]:
    """mutations: `count` broken variants of `data`, each labelled with its mutator name."""
    rng = random.Random(seed)
    for i in range(count):
        mutator = MUTATORS[i % len(MUTATORS)]
        yield mutator.__name__, mutator(data, rng)
