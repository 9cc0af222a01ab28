"""mutate: derive broken objects from good ones, deterministically (a seeded generator).

Each mutation models a way real files go wrong or a hostile author would write them:
flipped bits, truncation, and corrupted header, section-header, symbol, relocation, map
definition, instruction, BTF type record and BTF.ext record fields set to boundary values
or to other plausible values (an existing type id, a symbol far past its section). The
structure-aware mutators find their field through the object's own layout, so most of them
reach past the header checks into the parser's deeper paths.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Iterator

from pybpftool.btf import parse_btf
from pybpftool.elf import SHT_PROGBITS, SHT_REL, parse_elf
from pybpftool.errors import ObjectError

BOUNDARY = (0, 1, 7, 8, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF)
# Values that pass range checks but mean something else: a value past a section, a 32-bit
# sign bit, the first value past 32 bits.
FAR = (0x80000000, 0x1_0000_0000, 0x40000000, 4096, 65536)


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


def _btf_section(data: bytes, name: str) -> tuple[int, bytes, str] | None:
    """_btf_section: (file offset, bytes, byte order) of section `name`, if present."""
    elf = parse_elf(data)
    sec = elf.section_by_name(name)
    if sec is None or sec.size < 24:
        return None
    return sec.offset, elf.section_data(sec), elf.byteorder


def btf_type_record(data: bytes, rng: random.Random) -> bytes:
    """btf_type_record: one word of one .BTF type record (its name, info, size or type, or a
    member, parameter, enumerator, array or DATASEC word): a boundary value, an existing type
    id (a loop, a kind mismatch) or the record's own id."""
    found = _btf_section(data, ".BTF")
    if found is None:
        return bit_flips(data, rng)
    at, raw, bo = found
    pos = _record_word(raw, bo, rng)
    if pos is None:
        return bit_flips(data, rng)
    word, type_id, count = pos
    buf = bytearray(data)
    choice = rng.random()
    if choice < 0.4:
        value = rng.randrange(count)  # an existing type id (or 0)
    elif choice < 0.5:
        value = type_id
    elif choice < 0.7:
        value = rng.choice(FAR)
    else:
        value = rng.choice((*BOUNDARY, 19, 20, 0x1F000000, 0x0D000001, 0x04000002))
    _put(buf, bo, "I", at + word, value)
    return bytes(buf)


def _record_word(raw: bytes, bo: str, rng: random.Random) -> tuple[int, int, int] | None:
    """_record_word: (offset in the blob, type id, type count) of a random word of a random
    type record, or None if the blob does not index."""
    try:
        offsets, _kinds = parse_btf(raw, bo).index_tables()
    except ObjectError:
        return None
    if len(offsets) < 2:
        return None
    type_id = rng.randrange(1, len(offsets))
    start = offsets[type_id]
    (hdr_len, type_off, type_len) = struct.unpack_from(bo + "III", raw, 4)
    end = offsets[type_id + 1] if type_id + 1 < len(offsets) else hdr_len + type_off + type_len
    words = max(1, (end - start) // 4)
    return start + 4 * rng.randrange(words), type_id, len(offsets)


def btf_ext_record(data: bytes, rng: random.Random) -> bytes:
    """btf_ext_record: one word of .BTF.ext: a block's record size, section name or count,
    or a func_info, line_info or CO-RE relocation field (instruction offset, type id,
    access string, kind)."""
    found = _btf_section(data, ".BTF.ext")
    if found is None:
        return bit_flips(data, rng)
    at, raw, bo = found
    words = _ext_words(raw, bo)
    if not words:
        return bit_flips(data, rng)
    buf = bytearray(data)
    value = rng.choice((*BOUNDARY, *FAR, 8, 16, 24, 1, 2, 3, 12, 13, 100, 0x7FF8))
    _put(buf, bo, "I", at + rng.choice(words), value)
    return bytes(buf)


def _ext_words(raw: bytes, bo: str) -> list[int]:
    """_ext_words: offsets of every block-header and record word of .BTF.ext's info blocks."""
    hdr_len = struct.unpack_from(bo + "I", raw, 4)[0]
    fields = struct.unpack_from(bo + "6I", raw, 8) if len(raw) >= 32 and hdr_len >= 32 else ()
    out = []
    for off, length in zip(fields[0::2], fields[1::2], strict=True):
        start, end = hdr_len + off, min(hdr_len + off + length, len(raw))
        if length < 4 or end - start < 4:
            continue
        rec_size = struct.unpack_from(bo + "I", raw, start)[0]
        out.append(start)
        pos = start + 4
        while 0 < rec_size < 4096 and pos + 8 <= end:
            count = struct.unpack_from(bo + "I", raw, pos + 4)[0]
            out += (pos, pos + 4)
            records = range(pos + 8, min(pos + 8 + count * rec_size, end), 4)
            out += records
            pos += 8 + count * rec_size
    return out


def map_definition(data: bytes, rng: random.Random) -> bytes:
    """map_definition: a field of a legacy `struct bpf_elf_map` (type, sizes, max entries,
    flags, id, pinning, inner id or index), or for BTF maps a type record of `.BTF`."""
    elf = parse_elf(data)
    legacy = elf.section_by_name("maps")
    if legacy is None or legacy.size < 4:
        return btf_type_record(data, rng)
    buf = bytearray(data)
    word = legacy.offset + 4 * rng.randrange(legacy.size // 4)
    value = rng.choice((*BOUNDARY, 1, 2, 3, 12, 13, 27, 0x40, *FAR))
    _put(buf, elf.byteorder, "I", word, value)
    return bytes(buf)


def instruction(data: bytes, rng: random.Random) -> bytes:
    """instruction: the opcode, registers, offset or immediate of one instruction of a code
    section, calls and ld_imm64 (what relocations and linking read) most often."""
    elf = parse_elf(data)
    code = [s for s in elf.sections if s.type == SHT_PROGBITS and s.is_exec and s.size >= 8]
    if not code:
        return bit_flips(data, rng)
    sec = rng.choice(code)
    raw = elf.section_data(sec)
    picks = [i for i in range(0, len(raw) - 7, 8) if raw[i] in (0x85, 0x18)]
    index = rng.choice(picks) if picks and rng.random() < 0.7 else 8 * rng.randrange(len(raw) // 8)
    buf = bytearray(data)
    field, fmt = rng.choice([(0, "B"), (1, "B"), (2, "H"), (4, "I"), (4, "I")])
    value = rng.choice((*BOUNDARY, *FAR, 0x85, 0x18, 0x10, 0x01, 0x04, 0x11, 0x41, -1 & 0xFFFF))
    _put(buf, elf.byteorder, fmt, sec.offset + index + field, value)
    return bytes(buf)


def data_symbol(data: bytes, rng: random.Random) -> bytes:
    """data_symbol: the value or size of a symbol some relocation names, set past its
    section (0x80000000 and the like): what references to global data and maps read."""
    elf = parse_elf(data)
    named = {r.sym for s in elf.sections if s.type == SHT_REL for r in elf.relocations(s)} - {0}
    if not named or elf.symtab is None:
        return bit_flips(data, rng)
    sym = rng.choice(sorted(named))
    buf = bytearray(data)
    field = rng.choice((8, 8, 16))
    _put(buf, elf.byteorder, "Q", elf.symtab.offset + 24 * sym + field, rng.choice(FAR))
    return bytes(buf)


MUTATORS: tuple[Callable[[bytes, random.Random], bytes], ...] = (
    bit_flips,
    truncate,
    header_field,
    section_field,
    symbol_field,
    relocation_field,
    btf_field,
    btf_type_record,
    btf_ext_record,
    map_definition,
    instruction,
    data_symbol,
)


def mutations(data: bytes, seed: int, count: int) -> Iterator[tuple[str, bytes]]:
    """mutations: `count` broken variants of `data`, each labelled with its mutator name;
    variant i depends only on `seed` and i (its own generator), so a finding can be replayed
    alone."""
    for i in range(count):
        mutator = MUTATORS[i % len(MUTATORS)]
        yield mutator.__name__, mutator(data, random.Random(f"{seed}-{i}"))


def mutation(data: bytes, seed: int, index: int) -> tuple[str, bytes]:
    """mutation: variant `index` of mutations(data, seed, ...), made alone."""
    mutator = MUTATORS[index % len(MUTATORS)]
    return mutator.__name__, mutator(data, random.Random(f"{seed}-{index}"))


def target_mutations(raw: bytes, bo: str, seed: int, count: int) -> Iterator[bytes]:
    """target_mutations: `count` broken variants of a CO-RE target BTF blob: type record
    words as btf_type_record sets them, a few header fields, or flipped bits."""
    rng = random.Random(seed)
    for _ in range(count):
        buf = bytearray(raw)
        pick = rng.random()
        if pick < 0.8:
            for _ in range(rng.randint(1, 3)):
                found = _record_word(bytes(buf), bo, rng)
                if found is None:
                    break
                word, type_id, types = found
                value = rng.choice(
                    (rng.randrange(types), type_id, *BOUNDARY, 0x0D000002, 0x08000000)
                )
                _put(buf, bo, "I", word, value)
        elif pick < 0.9:
            _put(buf, bo, "I", rng.choice((4, 8, 12, 16, 20)), rng.choice((*BOUNDARY, *FAR)))
        else:
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
        yield bytes(buf)
