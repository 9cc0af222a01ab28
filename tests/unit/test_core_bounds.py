"""CO-RE matching against hostile BTF ends, and in bounded work: a typedef whose FUNC_PROTO
takes and returns the typedef itself, and a struct whose anonymous member is the struct
itself (issue 20: both were RecursionError)."""

from __future__ import annotations

import struct

import pytest

from pybpftool.btf import BtfSpec, Kind, parse_btf
from pybpftool.btf.core import CoreKind, Result, resolve
from pybpftool.btf.corepatch import patch
from pybpftool.errors import ObjectError

BTF_MAGIC = 0xEB9F
STRINGS = b"\0long\0cyc\0s\0x\0"  # long: 1, cyc: 6, s: 10, x: 12


def rec(name_off: int, kind: Kind, size_or_type: int, vlen: int = 0) -> bytes:
    return struct.pack("<III", name_off, (int(kind) << 24) | vlen, size_or_type)


def btf_of(types: bytes) -> BtfSpec:
    header = struct.pack("<HBBIIIII", BTF_MAGIC, 1, 0, 24, 0, len(types), len(types), len(STRINGS))
    return parse_btf(header + types + STRINGS, "<")


def self_typed_proto(params: int) -> BtfSpec:
    """[1] long; [2] typedef cyc -> [3]; [3] FUNC_PROTO returning cyc, taking `params` cyc."""
    proto = rec(0, Kind.FUNC_PROTO, 2, params) + struct.pack("<II", 0, 2) * params
    return btf_of(rec(1, Kind.INT, 8) + struct.pack("<I", 64) + rec(6, Kind.TYPEDEF, 3) + proto)


def candidates_in(btf: BtfSpec):  # type: ignore[no-untyped-def]
    return lambda kind, name: btf.find(name, kind)


@pytest.mark.parametrize("params", [1, 2, 40])
def test_a_self_typed_function_prototype_is_refused(params: int) -> None:
    btf = self_typed_proto(params)
    with pytest.raises(ObjectError, match=r"nest function prototypes more than 32 deep"):
        resolve(btf, btf, candidates_in(btf), 2, "0", CoreKind.TYPE_EXISTS)


def self_containing_struct(depth: int) -> BtfSpec:
    """[1] long; [2] struct s { long x; }; then `depth` anonymous structs, each holding the
    next as an anonymous member, the last holding the first: a cycle with no member x."""
    types = rec(1, Kind.INT, 8) + struct.pack("<I", 64)
    types += rec(10, Kind.STRUCT, 8, 1) + struct.pack("<III", 12, 1, 0)
    first = 3
    for i in range(depth):
        nxt = first + (i + 1) % depth
        types += rec(10 if i == 0 else 0, Kind.STRUCT, 8, 1) + struct.pack("<III", 0, nxt, 0)
    return btf_of(types)


@pytest.mark.parametrize("depth", [1, 2, 5000])
def test_anonymous_members_that_loop_are_searched_once(depth: int) -> None:
    """The local struct s has member x; the target's s only loops through anonymous members:
    x does not exist there, so the relocation is poisoned, as for any missing field."""
    local, target = self_containing_struct(1), self_containing_struct(depth)
    local_s = local.find("s", Kind.STRUCT)[0]

    def candidates(kind: Kind, name: str) -> list[int]:
        return [3]

    result = resolve(local, target, candidates, local_s, "0:0", CoreKind.FIELD_BYTE_OFFSET)
    assert result.poison


def test_an_incompatible_member_in_an_anonymous_struct_does_not_end_the_search() -> None:
    """target: struct s { struct { struct s *x; }; long x; }: the anonymous struct's x is a
    pointer, not an int; the search goes on and finds s's own x at byte 8."""
    local = self_containing_struct(1)
    types = rec(1, Kind.INT, 8) + struct.pack("<I", 64)  # [1] long
    types += rec(10, Kind.STRUCT, 16, 2) + struct.pack("<IIIIII", 0, 3, 0, 12, 1, 64)  # [2] s
    types += rec(0, Kind.STRUCT, 8, 1) + struct.pack("<III", 12, 4, 0)  # [3] { x }
    types += rec(0, Kind.PTR, 2)  # [4] struct s *
    target = btf_of(types)
    result = resolve(local, target, lambda kind, name: [2], 2, "0:0", CoreKind.FIELD_BYTE_OFFSET)
    assert (result.poison, result.new) == (False, 8)


def test_poisoning_an_ld_imm64_cut_short_is_an_object_error() -> None:
    """A relocation (from a hostile .BTF.ext) on a program's last slot holding an ld_imm64
    opcode: there is no second slot to poison."""
    buf = bytearray(struct.pack("<BBhi", 0x18, 0, 0, 0))
    result = Result(0, 0, poison=True, description="<field_exists> [2] struct s.x")
    with pytest.raises(ObjectError, match=r"^CO-RE instruction 0 \(.*\): ld_imm64 is cut short"):
        patch(buf, 0, result, "<")


def bitfield_struct(int_size: int) -> BtfSpec:
    """[1] long of `int_size` bytes; [2] struct s { long x: 3; } (kind_flag offsets)."""
    types = rec(1, Kind.INT, int_size) + struct.pack("<I", 64)
    bitfield = (3 << 24) | 0
    types += struct.pack("<III", 10, (int(Kind.STRUCT) << 24) | (1 << 31) | 1, 8)
    types += struct.pack("<III", 12, 1, bitfield)
    return btf_of(types)


def test_a_bitfield_of_a_zero_size_type_is_an_object_error() -> None:
    local, target = bitfield_struct(8), bitfield_struct(0)
    with pytest.raises(ObjectError, match=r"bitfield .* of a type of no size"):
        resolve(local, target, lambda kind, name: [2], 2, "0:0", CoreKind.FIELD_BYTE_OFFSET)
