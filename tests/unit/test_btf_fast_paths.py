"""pointee and array_len read the kind index and the record's word without type(): each gives
what skip_mods_and_typedefs and the careful decoder give, and raises as they do."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from pybpftool.btf import Array, BtfSpec, Kind, parse_btf
from pybpftool.errors import ObjectError

BTF_MAGIC = 0xEB9F


@pytest.fixture(params=["<", ">"], ids=["le", "be"])
def bo(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def rec(bo: str, name_off: int, kind: Kind, size_or_type: int, vlen: int = 0) -> bytes:
    return struct.pack(bo + "III", name_off, (int(kind) << 24) | vlen, size_or_type)


def var_rec(bo: str, name_off: int, target: int, linkage: int) -> bytes:
    return rec(bo, name_off, Kind.VAR, target) + struct.pack(bo + "I", linkage)


def blob(bo: str, types: bytes, strings: bytes, type_len: int | None = None) -> bytes:
    type_len = len(types) if type_len is None else type_len
    header = struct.pack(
        bo + "HBBIIIII", BTF_MAGIC, 1, 0, 24, 0, type_len, len(types), len(strings)
    )
    return header + types + strings


STRINGS = b"\0int\0alpha\0beta\0"  # int: 1, alpha: 5, beta: 11


def chains_blob(bo: str) -> bytes:
    """1 INT; 2 PTR to 1; 3 CONST 2; 4 TYPEDEF 3; 5 ARRAY of 7 INTs; 6 VOLATILE 5; 7 TYPEDEF
    6; 8 CONST 9 and 9 TYPEDEF 8 (a loop); 10 CONST of missing 99; 11 TYPE_TAG 4."""
    types = (
        rec(bo, 1, Kind.INT, 4)
        + struct.pack(bo + "I", 32)
        + rec(bo, 0, Kind.PTR, 1)
        + rec(bo, 0, Kind.CONST, 2)
        + rec(bo, 5, Kind.TYPEDEF, 3)
        + rec(bo, 0, Kind.ARRAY, 0)
        + struct.pack(bo + "III", 1, 1, 7)
        + rec(bo, 0, Kind.VOLATILE, 5)
        + rec(bo, 11, Kind.TYPEDEF, 6)
        + rec(bo, 0, Kind.CONST, 9)
        + rec(bo, 5, Kind.TYPEDEF, 8)
        + rec(bo, 0, Kind.CONST, 99)
        + rec(bo, 11, Kind.TYPE_TAG, 4)
    )
    return blob(bo, types, STRINGS)


def outcome(call: Any) -> object:
    try:
        return call()
    except ObjectError as err:
        return str(err)


def through_chain(btf: BtfSpec, type_id: int, kind: Kind) -> object:
    """What skip_mods_and_typedefs, then a look at the type, answers."""
    skipped = btf.skip_mods_and_typedefs(type_id)
    if btf.kind(skipped) != kind:
        return None
    found = btf.type(skipped)
    return found.nelems if isinstance(found, Array) else found.type  # type: ignore[union-attr]


@pytest.mark.parametrize("type_id", range(13))
def test_pointee_and_array_len_follow_modifiers_and_typedefs(bo: str, type_id: int) -> None:
    btf, careful = parse_btf(chains_blob(bo), bo), parse_btf(chains_blob(bo), bo)
    assert outcome(lambda: btf.pointee(type_id)) == outcome(
        lambda: through_chain(careful, type_id, Kind.PTR)
    )
    assert outcome(lambda: btf.array_len(type_id)) == outcome(
        lambda: through_chain(careful, type_id, Kind.ARRAY)
    )
    loop = f".BTF: type chain from [{type_id}] is too deep or loops"
    expected = {
        **dict.fromkeys((2, 3, 4, 11), 1),
        **dict.fromkeys((8, 9), loop),
        10: ".BTF: type [10] refers to missing type [99]",
        12: ".BTF: type id 12 does not exist",
    }
    assert outcome(lambda: btf.pointee(type_id)) == expected.get(type_id)
    assert outcome(lambda: btf.array_len(type_id)) == (
        7 if type_id in (5, 6, 7) else expected.get(type_id) if type_id in (8, 9, 10, 12) else None
    )
