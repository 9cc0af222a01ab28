"""The type index of a .BTF blob (BtfSpec._index): where each record starts and its kind, as a
plain record-by-record walk finds them, for any alignment of the type section, both byte
orders, and the exact refusals of a malformed section."""

from __future__ import annotations

import struct

import bpfobjs
import pytest

from pybpftool.btf import Kind, parse_btf
from pybpftool.errors import ObjectError

BTF_MAGIC = 0xEB9F
# Bytes after the 12-byte header: fixed, and per vlen entry (include/uapi/linux/btf.h).
FIXED = {Kind.INT: 4, Kind.ARRAY: 12, Kind.VAR: 4, Kind.DECL_TAG: 4}
PER_VLEN = {
    Kind.STRUCT: 12,
    Kind.UNION: 12,
    Kind.ENUM: 8,
    Kind.FUNC_PROTO: 8,
    Kind.DATASEC: 12,
    Kind.ENUM64: 12,
}


@pytest.fixture(params=["<", ">"], ids=["le", "be"])
def bo(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def rec(bo: str, kind: int, vlen: int = 0, kflag: bool = False, tail: int | None = None) -> bytes:
    """rec: a type record of `kind` with zeroed fields and the tail its kind and vlen call for."""
    info = (int(kflag) << 31) | (kind << 24) | vlen
    if tail is None:
        tail = FIXED.get(Kind(kind), 0) + PER_VLEN.get(Kind(kind), 0) * vlen
    return struct.pack(bo + "III", 0, info, 4) + bytes(tail)


def blob(bo: str, types: bytes, type_off: int = 0) -> bytes:
    """blob: a .BTF section whose type section starts `type_off` bytes after the header."""
    strings = b"\0"
    header = struct.pack(
        bo + "HBBIIIII",
        BTF_MAGIC,
        1,
        0,
        24,
        type_off,
        len(types),
        type_off + len(types),
        len(strings),
    )
    return header + bytes(type_off) + types + strings


def walk(raw: bytes, bo: str) -> tuple[list[int], bytes]:
    """walk: the index of a well-formed blob, one struct read per record (the reference)."""
    hdr_len, type_off, type_len = struct.unpack_from(bo + "III", raw, 4)
    pos, end = hdr_len + type_off, hdr_len + type_off + type_len
    offsets, kinds = [0], [0]
    while pos < end:
        info = struct.unpack_from(bo + "I", raw, pos + 4)[0]
        kind = Kind((info >> 24) & 0x1F)
        offsets.append(pos)
        kinds.append(kind)
        pos += 12 + FIXED.get(kind, 0) + PER_VLEN.get(kind, 0) * (info & 0xFFFF)
    assert pos == end
    return offsets, bytes(kinds)


def index(raw: bytes, bo: str) -> tuple[list[int], bytes]:
    offsets, kinds = parse_btf(raw, bo).index_tables()
    return list(offsets), bytes(kinds)


@pytest.mark.parametrize("target", bpfobjs.TARGETS)
def test_index_of_a_compiled_object_is_the_plain_walk(target: str) -> None:
    raw, bo = bpfobjs.btf_section("btf_kinds", target)
    assert index(raw, bo) == walk(raw, bo)


EVERY_KIND = [
    (Kind.INT, 0),
    (Kind.STRUCT, 3),
    (Kind.STRUCT, 3),  # an info word seen before
    (Kind.UNION, 0),
    (Kind.ENUM, 2),
    (Kind.FUNC_PROTO, 1),
    (Kind.DATASEC, 4),
    (Kind.ENUM64, 2),
    (Kind.ARRAY, 0),
    (Kind.VAR, 0),
    (Kind.DECL_TAG, 0),
    (Kind.PTR, 0),
    (Kind.FLOAT, 0),
    (Kind.INT, 0),
]


@pytest.mark.parametrize("type_off", [0, 1, 2, 3, 4])
def test_index_at_any_alignment_and_kflag(bo: str, type_off: int) -> None:
    types = b"".join(
        rec(bo, kind, vlen, kflag=i % 2 == 1) for i, (kind, vlen) in enumerate(EVERY_KIND)
    )
    raw = blob(bo, types, type_off)
    offsets, kinds = index(raw, bo)
    assert (offsets, kinds) == walk(raw, bo)
    assert list(kinds[1:]) == [kind for kind, _ in EVERY_KIND]
    assert offsets[1] == 24 + type_off


def test_empty_type_section(bo: str) -> None:
    assert index(blob(bo, b""), bo) == ([0], b"\0")


@pytest.mark.parametrize("type_off", [0, 1, 3])
@pytest.mark.parametrize(
    ("types", "message"),
    [
        pytest.param(lambda bo: rec(bo, Kind.INT)[:14], "type #1 runs past", id="2-of-4-tail"),
        pytest.param(lambda bo: rec(bo, Kind.INT)[:10], "type #1 is truncated", id="10-bytes"),
        pytest.param(
            lambda bo: rec(bo, Kind.PTR) + rec(bo, Kind.PTR)[:11],
            "type #2 is truncated",
            id="11-bytes",
        ),
        pytest.param(
            lambda bo: rec(bo, Kind.PTR) * 3 + bytes(2), "type #4 is truncated", id="2-bytes"
        ),
        pytest.param(
            lambda bo: rec(bo, Kind.PTR) * 3 + rec(bo, 31, kflag=True, tail=0),
            "type #4 has unknown kind 31",
            id="kind-31",
        ),
        pytest.param(
            lambda bo: rec(bo, Kind.PTR) + rec(bo, 0, tail=0),
            "type #2 has unknown kind 0",
            id="kind-0",
        ),
        pytest.param(
            lambda bo: rec(bo, Kind.STRUCT, 2, tail=24) + rec(bo, Kind.STRUCT, 2, tail=12),
            "type #2 runs past",
            id="struct-members",
        ),
    ],
)
def test_malformed_type_section(bo: str, type_off: int, types: object, message: str) -> None:
    with pytest.raises(ObjectError, match=message):
        parse_btf(blob(bo, types(bo), type_off), bo)  # type: ignore[operator]
