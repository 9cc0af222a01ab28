"""The shortcuts of BtfSpec that read records without type(): each gives what the careful
decoder gives on sound records, and hands anything else back to it (which decodes or raises
exactly as before)."""

from __future__ import annotations

import struct
from typing import Any

import bpfobjs
import pytest

from pybpftool.btf import Array, BtfSpec, Datasec, Kind, Var, parse_btf
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


def vars_blob(bo: str, strings: bytes = STRINGS) -> bytes:
    """Types: 1 INT; 2-6 VARs (sound, unnamed static, bad target, bad name, sound); 7 a
    DATASEC listing 2, 3, 4, 5, 1 (not a VAR), 6."""
    types = (
        rec(bo, 1, Kind.INT, 4)
        + struct.pack(bo + "I", 32)
        + var_rec(bo, 5, 1, 1)
        + var_rec(bo, 0, 1, 0)
        + var_rec(bo, 11, 99, 1)
        + var_rec(bo, 500, 1, 1)
        + var_rec(bo, 11, 1, 2)
        + rec(bo, 0, Kind.DATASEC, 0, 6)
        + b"".join(struct.pack(bo + "III", t, 0, 4) for t in (2, 3, 4, 5, 1, 6))
    )
    return blob(bo, types, strings)


def datasec_of(btf: BtfSpec, type_id: int) -> Datasec:
    found = btf.type(type_id)
    assert isinstance(found, Datasec)
    return found


def test_vars_of_decodes_sound_vars_and_leaves_the_rest_to_type(bo: str) -> None:
    btf = parse_btf(vars_blob(bo), bo)
    found = btf.vars_of(7)
    careful = parse_btf(vars_blob(bo), bo)
    assert found == [careful.type(2), careful.type(3), None, None, None, careful.type(6)]
    assert found[0] == Var(2, Kind.VAR, "alpha", 1, 1)
    assert found[1] == Var(3, Kind.VAR, "", 1, 0)
    assert found[5] == Var(6, Kind.VAR, "beta", 1, 2)
    assert btf.type(2) is found[0]  # cached
    with pytest.raises(ObjectError, match=r"type \[4\] refers to missing type \[99\]"):
        btf.type(4)
    with pytest.raises(ObjectError, match="string offset 500 outside the string section"):
        btf.type(5)
    # Decoded types are answered from the cache, whatever their kind.
    int_type = btf.type(1)
    assert btf.vars_of(7)[4] is int_type


def test_vars_of_needs_terminated_ascii_names(bo: str) -> None:
    for strings in (b"\0int\0alpha\0beta", b"\0int\0alpha\0b\xc3\xa9\0"):
        btf = parse_btf(vars_blob(bo, strings), bo)
        assert btf.vars_of(7) == [None] * 6


@pytest.mark.parametrize("kind, type_id, entry", [(Kind.VAR, 1, 4), (Kind.INT, 2, 0)])
def test_vars_of_checks_the_record_against_a_given_index(
    bo: str, kind: Kind, type_id: int, entry: int
) -> None:
    # An index from elsewhere that gives a record a kind it does not have.
    raw = vars_blob(bo)
    offsets, kinds = parse_btf(raw, bo).index_tables()
    kinds = bytearray(kinds)
    kinds[type_id] = kind
    btf = BtfSpec(raw, bo, (offsets, kinds))
    assert btf.vars_of(7)[entry] is None
    with pytest.raises(ObjectError, match=rf"type \[{type_id}\] does not match the type index"):
        btf.type(type_id)


def test_vars_of_wants_the_whole_record_in_the_type_section(bo: str) -> None:
    # The index of the whole blob over a type section cut short in the last VAR's record.
    types = (
        rec(bo, 1, Kind.INT, 4)
        + struct.pack(bo + "I", 32)
        + rec(bo, 0, Kind.DATASEC, 0, 1)
        + struct.pack(bo + "III", 3, 0, 4)
        + var_rec(bo, 5, 1, 1)
    )
    index = parse_btf(blob(bo, types, STRINGS), bo).index_tables()
    btf = BtfSpec(blob(bo, types, STRINGS, type_len=len(types) - 4), bo, index)
    assert btf.vars_of(2) == [None]
    with pytest.raises(ObjectError, match=r"type \[3\] does not match the type index"):
        btf.type(3)


@pytest.mark.parametrize("target", bpfobjs.TARGETS)
def test_vars_of_agrees_with_type_on_real_objects(target: str) -> None:
    raw, bo = bpfobjs.btf_section("btf_kinds", target)
    btf, careful = parse_btf(raw, bo), parse_btf(raw, bo)
    ids = btf.ids_of_kind(Kind.DATASEC)
    assert ids
    for type_id in ids:
        datasec = datasec_of(btf, type_id)
        assert btf.vars_of(type_id) == [careful.type(v.type) for v in datasec.vars]


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
