"""The BTF decoder: every kind clang-14 emits, decoded as bpftool decodes it; ENUM64 from a
hand-built blob; malformed blobs refused with ObjectError; .BTF.ext func_info and line_info."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import tracemalloc
from pathlib import Path
from typing import Any

import bpfobjs
import pytest
from elftools.elf.elffile import ELFFile

from pybpftool.btf import (
    Array,
    BtfSpec,
    BtfType,
    Composite,
    Datasec,
    DeclTag,
    Enum,
    EnumValue,
    Float,
    Func,
    FuncProto,
    Fwd,
    Int,
    Kind,
    Member,
    Modifier,
    Ptr,
    Typedef,
    Var,
    parse_btf,
)
from pybpftool.errors import ObjectError
from pybpftool.parser import parse_object

OBJ = "btf_kinds"
SOURCE = bpfobjs.BPF_DIR / f"{OBJ}.c"
BYTEORDER = {"bpfel": "<", "bpfeb": ">"}

# ---------------------------------------------------------------------------------------------
# The object's types against `bpftool btf dump file OBJ -j`.
# ---------------------------------------------------------------------------------------------

# bpftool's spellings (btf.c: btf_int_enc_str, btf_func_linkage_str, btf_var_linkage_str).
INT_ENCODING = {0: "(none)", 1: "SIGNED", 2: "CHAR", 4: "BOOL"}
LINKAGE = {0: "static", 1: "global", 2: "extern"}


def raw_btf(target: str) -> BtfSpec:
    """raw_btf: the object's .BTF section as compiled (parse_object fixes DATASEC sizes)."""
    return parse_btf(*bpfobjs.btf_section(OBJ, target))


def bpftool_types(target: str) -> list[dict[str, Any]]:
    bpftool = shutil.which("bpftool")
    if bpftool is None:
        pytest.fail("bpftool is required to check the BTF decoder")
    out = subprocess.run(
        [bpftool, "btf", "dump", "file", str(bpfobjs.build(OBJ, target)), "-j"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    types: list[dict[str, Any]] = json.loads(out)["types"]
    for t in types:
        if t["kind"] == "ENUM" and t["encoding"] == "UNSIGNED":
            # bpftool prints an unsigned ENUM's s32 `val` through a u64: undo its sign extension.
            for v in t["values"]:
                v["val"] &= 0xFFFFFFFF
    return types


def as_bpftool(t: BtfType) -> dict[str, Any]:
    """as_bpftool: one of our records in bpftool's JSON shape (bpftool btf.c dump_btf_type)."""
    out: dict[str, Any] = {"id": t.id, "kind": t.kind.name, "name": t.name or "(anon)"}
    if isinstance(t, Int):
        out |= {
            "size": t.size,
            "bits_offset": t.bit_offset,
            "nr_bits": t.bits,
            "encoding": INT_ENCODING.get(t.encoding, "UNKN"),
        }
    elif isinstance(t, Ptr | Typedef | Modifier):
        out["type_id"] = t.type
    elif isinstance(t, Array):
        out |= {"type_id": t.type, "index_type_id": t.index_type, "nr_elems": t.nelems}
    elif isinstance(t, Composite):
        members = []
        for m in t.members:
            member = {"name": m.name or "(anon)", "type_id": m.type, "bits_offset": m.bit_offset}
            if m.bitfield_size:
                member["bitfield_size"] = m.bitfield_size
            members.append(member)
        out |= {"size": t.size, "vlen": len(t.members), "members": members}
    elif isinstance(t, Enum):
        out |= {
            "encoding": "SIGNED" if t.signed else "UNSIGNED",
            "size": t.size,
            "vlen": len(t.values),
            "values": [{"name": v.name, "val": v.value} for v in t.values],
        }
    elif isinstance(t, Fwd):
        out["fwd_kind"] = "union" if t.is_union else "struct"
    elif isinstance(t, Func):
        out |= {"type_id": t.type, "linkage": LINKAGE[t.linkage]}
    elif isinstance(t, FuncProto):
        params = [{"name": p.name or "(anon)", "type_id": p.type} for p in t.params]
        out |= {"ret_type_id": t.return_type, "vlen": len(t.params), "params": params}
    elif isinstance(t, Var):
        out |= {"type_id": t.type, "linkage": LINKAGE[t.linkage]}
    elif isinstance(t, Datasec):
        entries = [{"type_id": v.type, "offset": v.offset, "size": v.size} for v in t.vars]
        out |= {"size": t.size, "vlen": len(t.vars), "vars": entries}
    elif isinstance(t, Float):
        out["size"] = t.size
    elif isinstance(t, DeclTag):
        out |= {"type_id": t.type, "component_idx": t.component_idx}
    return out


def test_object_has_every_kind_clang14_emits(target: str) -> None:
    kinds = {t["kind"] for t in bpftool_types(target)}
    assert kinds == {k.name for k in Kind} - {"UNKN", "ENUM64"}


def test_every_type_decodes_as_bpftool_decodes_it(target: str) -> None:
    reference = bpftool_types(target)
    btf = raw_btf(target)
    assert len(btf) == len(reference) + 1  # type 0 is void
    for expected in reference:
        assert as_bpftool(btf.type(expected["id"])) == expected
        assert btf.kind(expected["id"]).name == expected["kind"]


def test_both_byte_orders_decode_alike() -> None:
    little, big = raw_btf("bpfel"), raw_btf("bpfeb")
    assert [little.type(i) for i in range(len(little))] == [big.type(i) for i in range(len(big))]


def test_bitfields_and_decl_tag_of_a_member(target: str) -> None:
    btf = raw_btf(target)
    (struct_id,) = btf.find("kinds_struct", Kind.STRUCT)
    members = {m.name: m for m in btf.type(struct_id).members}  # type: ignore[union-attr]
    # signed char c; _Bool flag; unsigned int low : 3; unsigned int high : 5;
    assert members["low"].bit_offset == 16 and members["low"].bitfield_size == 3
    assert members["high"].bit_offset == 19 and members["high"].bitfield_size == 5
    assert members["wide"].bitfield_size == 0
    (tag_id,) = btf.find("wide_member", Kind.DECL_TAG)
    tag = btf.type(tag_id)
    assert isinstance(tag, DeclTag) and tag.type == struct_id
    assert list(members)[tag.component_idx] == "wide"


def test_decl_tag_of_a_function_and_type_tag_of_a_pointer(target: str) -> None:
    btf = raw_btf(target)
    (func_id,) = btf.find("kinds_helper", Kind.FUNC)
    (tag_id,) = btf.find("helper_fn", Kind.DECL_TAG)
    assert btf.type(tag_id) == DeclTag(tag_id, Kind.DECL_TAG, "helper_fn", func_id, -1)
    (type_tag_id,) = btf.find("user", Kind.TYPE_TAG)
    assert btf.skip_mods_and_typedefs(type_tag_id) == btf.find("int", Kind.INT)[0]


def test_sizes_resolve_through_typedefs_arrays_and_modifiers(target: str) -> None:
    btf = raw_btf(target)
    (struct_id,) = btf.find("kinds_struct", Kind.STRUCT)
    members = {m.name: m.type for m in btf.type(struct_id).members}  # type: ignore[union-attr]
    assert btf.resolve_size(members["counts"]) == 4 * 4  # kinds_u32_t[4]
    assert btf.resolve_size(members["name"]) == 8
    assert btf.resolve_size(members["ratio"]) == 8  # double
    assert btf.resolve_size(members["u"]) == 4
    assert btf.resolve_size(members["cv"]) == 8  # a pointer
    (var_id,) = btf.find("kinds_counter", Kind.VAR)
    assert btf.resolve_size(var_id) == 4  # static volatile int
    assert btf.resolve_size(struct_id) == btf.type(struct_id).size  # type: ignore[union-attr]


def test_data_sections_list_their_variables(target: str) -> None:
    btf = raw_btf(target)
    names = {
        sec: [btf.name_of(v.type) for v in btf.datasec(sec).vars]  # type: ignore[union-attr]
        for sec in (".data", ".bss")
    }
    assert names == {".data": ["kinds_data", "kinds_float"], ".bss": ["kinds_bss", "kinds_counter"]}
    assert btf.datasec(".rodata") is None


# ---------------------------------------------------------------------------------------------
# Hand-built blobs: ENUM64 and malformed input.
# ---------------------------------------------------------------------------------------------

BTF_MAGIC = 0xEB9F
INT_SIGNED = 1


def info(kind: Kind | int, vlen: int = 0, kflag: bool = False) -> int:
    return (int(kflag) << 31) | (int(kind) << 24) | vlen


def rec(bo: str, name_off: int, kind: Kind | int, size_or_type: int, vlen: int = 0) -> bytes:
    """rec: a struct btf_type (name_off, info, size/type)."""
    return struct.pack(bo + "III", name_off, info(kind, vlen), size_or_type)


def int_rec(bo: str, name_off: int = 0, size: int = 4, encoding: int = INT_SIGNED) -> bytes:
    return rec(bo, name_off, Kind.INT, size) + struct.pack(bo + "I", encoding << 24 | size * 8)


def blob(
    bo: str,
    types: bytes,
    strings: bytes = b"\0",
    *,
    magic: int = BTF_MAGIC,
    version: int = 1,
    hdr_len: int = 24,
    type_len: int | None = None,
    str_off: int | None = None,
) -> bytes:
    """blob: a .BTF section: header, type section, string section."""
    type_len = len(types) if type_len is None else type_len
    str_off = len(types) if str_off is None else str_off
    header = struct.pack(
        bo + "HBBIIIII", magic, version, 0, hdr_len, 0, type_len, str_off, len(strings)
    )
    return header + types + strings


def enum64_values(bo: str, *values: tuple[int, int]) -> bytes:
    """enum64_values: struct btf_enum64 entries (name_off, val_lo32, val_hi32)."""
    return b"".join(
        struct.pack(bo + "III", name, (v & (2**64 - 1)) & 0xFFFFFFFF, (v & (2**64 - 1)) >> 32)
        for name, v in values
    )


@pytest.fixture(params=["<", ">"], ids=["le", "be"])
def bo(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_enum64_unsigned_value_above_32_bits(bo: str) -> None:
    strings = b"\0big\0HUGE\0SMALL\0"
    types = struct.pack(bo + "III", 1, info(Kind.ENUM64, 2), 8) + enum64_values(
        bo, (5, 2**40 + 7), (10, 1)
    )
    btf = parse_btf(blob(bo, types, strings), bo)
    assert btf.kind(1) == Kind.ENUM64
    assert btf.type(1) == Enum(
        1, Kind.ENUM64, "big", 8, False, (EnumValue("HUGE", 2**40 + 7), EnumValue("SMALL", 1))
    )
    assert btf.resolve_size(1) == 8


def test_enum64_signed_value_is_negative(bo: str) -> None:
    strings = b"\0sgn\0MINUS\0TOP\0"
    types = struct.pack(bo + "III", 1, info(Kind.ENUM64, 2, kflag=True), 8) + enum64_values(
        bo, (5, -(2**33)), (11, 2**63 - 1)
    )
    btf = parse_btf(blob(bo, types, strings), bo)
    assert btf.type(1) == Enum(
        1, Kind.ENUM64, "sgn", 8, True, (EnumValue("MINUS", -(2**33)), EnumValue("TOP", 2**63 - 1))
    )


def test_unsigned_enum64_keeps_the_top_bit(bo: str) -> None:
    types = struct.pack(bo + "III", 0, info(Kind.ENUM64, 1), 8) + enum64_values(bo, (1, 2**63))
    btf = parse_btf(blob(bo, types, b"\0X\0"), bo)
    assert btf.type(1).values == (EnumValue("X", 2**63),)  # type: ignore[union-attr]


def test_signed_enum32_value_is_negative(bo: str) -> None:
    types = struct.pack(bo + "III", 0, info(Kind.ENUM, 1, kflag=True), 4)
    types += struct.pack(bo + "Ii", 1, -5)
    btf = parse_btf(blob(bo, types, b"\0NEG\0"), bo)
    assert btf.type(1).values == (EnumValue("NEG", -5),)  # type: ignore[union-attr]


def test_hand_built_types_decode(bo: str) -> None:
    strings = b"\0int\0pair\0a\0b\0"
    types = int_rec(bo, 1)  # [1] int
    types += rec(bo, 5, Kind.STRUCT, 8, vlen=2)  # [2] struct pair { int a; int b; }
    types += struct.pack(bo + "III", 10, 1, 0) + struct.pack(bo + "III", 12, 1, 32)
    types += rec(bo, 0, Kind.PTR, 2)  # [3] struct pair *
    btf = parse_btf(blob(bo, types, strings), bo)
    assert len(btf) == 4
    assert btf.type(1) == Int(1, Kind.INT, "int", 4, INT_SIGNED, 0, 32)
    assert btf.type(2) == Composite(
        2, Kind.STRUCT, "pair", 8, (Member("a", 1, 0, 0), Member("b", 1, 32, 0))
    )
    assert btf.type(3) == Ptr(3, Kind.PTR, "", 2)
    assert btf.find("pair") == [2] and btf.find("pair", Kind.UNION) == []


def test_a_member_record_shared_by_structs_decodes_by_each_kind_flag(bo: str) -> None:
    # Member records are decoded once per raw record and kind_flag: the same 12 bytes are
    # `int a` at bit 0x1000008 in a plain struct, and a 1-bit field at bit 8 under kind_flag.
    strings = b"\0int\0a\0"
    member = struct.pack(bo + "III", 5, 1, 0x1000008)
    types = int_rec(bo, 1)  # [1] int
    types += rec(bo, 0, Kind.STRUCT, 4, vlen=1) + member  # [2]
    types += struct.pack(bo + "III", 0, info(Kind.STRUCT, 1, kflag=True), 4) + member  # [3]
    types += rec(bo, 0, Kind.STRUCT, 4, vlen=1) + member  # [4]
    btf = parse_btf(blob(bo, types, strings), bo)
    plain, bitfield = Member("a", 1, 0x1000008, 0), Member("a", 1, 8, 1)
    assert btf.type(2) == Composite(2, Kind.STRUCT, "", 4, (plain,))
    assert btf.type(3) == Composite(3, Kind.STRUCT, "", 4, (bitfield,))
    assert btf.type(4) == Composite(4, Kind.STRUCT, "", 4, (plain,))


def test_void_and_other_sizeless_types(bo: str) -> None:
    types = rec(bo, 0, Kind.FUNC_PROTO, 0)  # [1] void (void)
    btf = parse_btf(blob(bo, types), bo)
    with pytest.raises(ObjectError, match="has no size"):
        btf.resolve_size(1)
    with pytest.raises(ObjectError, match="has no size"):
        btf.resolve_size(0)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(
            lambda bo: blob(bo, int_rec(bo), magic=0x1234), "bad magic 0x1234", id="bad-magic"
        ),
        pytest.param(lambda bo: blob(bo, int_rec(bo))[:6], "truncated header", id="truncated"),
        pytest.param(
            lambda bo: blob(bo, int_rec(bo), version=2), "unsupported version 2", id="version"
        ),
        pytest.param(
            lambda bo: blob(bo, int_rec(bo), hdr_len=16),
            "header length 16 is shorter than 24",
            id="short-header",
        ),
        pytest.param(
            lambda bo: blob(bo, int_rec(bo), hdr_len=1000),
            "bad header length 1000",
            id="header-past-blob",
        ),
        pytest.param(
            lambda bo: blob(bo, int_rec(bo), type_len=4096),
            "type section lies outside the blob",
            id="type-section-outside",
        ),
        pytest.param(
            lambda bo: blob(bo, int_rec(bo), str_off=4096),
            "string section lies outside the blob",
            id="string-section-outside",
        ),
        pytest.param(
            lambda bo: blob(bo, int_rec(bo) + rec(bo, 0, 20, 0)),
            "type #2 has unknown kind 20",
            id="kind-20",
        ),
        pytest.param(
            lambda bo: blob(bo, rec(bo, 0, 0, 0)), "type #1 has unknown kind 0", id="kind-0"
        ),
        pytest.param(
            # An INT record is 16 bytes; the type section holds only its first 12.
            lambda bo: blob(bo, int_rec(bo)[:12]),
            "type #1 runs past the type section",
            id="record-past-section",
        ),
        pytest.param(
            # A STRUCT that announces two members and carries one.
            lambda bo: blob(bo, int_rec(bo) + rec(bo, 0, Kind.STRUCT, 4, 2) + bytes(12)),
            "type #2 runs past the type section",
            id="members-past-section",
        ),
        pytest.param(
            lambda bo: blob(bo, int_rec(bo) + bytes(8)),
            "type #2 is truncated",
            id="truncated-record",
        ),
        pytest.param(
            lambda bo: blob(bo, int_rec(bo), b"x\0"),
            "string section must start with an empty string",
            id="strings-no-nul",
        ),
        pytest.param(
            lambda bo: blob(bo, int_rec(bo), b""),
            "string section must start with an empty string",
            id="strings-empty",
        ),
    ],
)
def test_malformed_blob_is_refused(bo: str, make: Any, message: str) -> None:
    with pytest.raises(ObjectError, match=message):
        parse_btf(make(bo), bo)


def test_other_byte_order_is_named(bo: str) -> None:
    other = "<" if bo == ">" else ">"
    with pytest.raises(ObjectError, match="byte order differs"):
        parse_btf(blob(other, int_rec(other)), bo)


def test_reference_to_a_missing_type(bo: str) -> None:
    btf = parse_btf(blob(bo, int_rec(bo) + rec(bo, 0, Kind.PTR, 7)), bo)
    with pytest.raises(ObjectError, match=r"type \[2\] refers to missing type \[7\]"):
        btf.type(2)
    with pytest.raises(ObjectError, match="type id 3 does not exist"):
        btf.type(3)


def test_string_offset_outside_the_string_section(bo: str) -> None:
    btf = parse_btf(blob(bo, int_rec(bo, name_off=100), b"\0int\0"), bo)
    with pytest.raises(ObjectError, match="string offset 100 outside the string section"):
        btf.type(1)


def test_string_without_terminating_nul(bo: str) -> None:
    btf = parse_btf(blob(bo, int_rec(bo, name_off=1), b"\0int"), bo)
    with pytest.raises(ObjectError, match="string at offset 1 is not NUL-terminated"):
        btf.type(1)


@pytest.mark.parametrize("last", [b"plain", b"bad\xff"], ids=["ascii", "not-utf8"])
def test_names_are_read_on_demand_from_a_large_string_section(bo: str, last: bytes) -> None:
    """A kernel's BTF has megabytes of names of which a CO-RE load reads a handful: the
    spec decodes each name when asked (the same name either way), never the whole section."""
    strings = b"\0int\0caf\xc3\xa9\0" + b"x" * 4_000_000 + b"\0" + last + b"\0"
    types = int_rec(bo, 1) + int_rec(bo, 5) + int_rec(bo, len(strings) - len(last) - 1)
    data = blob(bo, types, strings)
    tracemalloc.start()
    try:
        btf = parse_btf(data, bo)
        names = [btf.type(type_id).name for type_id in (1, 2, 3)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert names == ["int", "caf\u00e9", last.decode("utf-8", "backslashreplace")]
    assert peak < 1_000_000  # a copy or a decoded str of the section would be 4 MB


@pytest.mark.parametrize(
    "types",
    [
        pytest.param(lambda bo: rec(bo, 0, Kind.TYPEDEF, 1), id="typedef-to-itself"),
        pytest.param(
            lambda bo: rec(bo, 0, Kind.CONST, 2) + rec(bo, 0, Kind.TYPEDEF, 1), id="const-typedef"
        ),
    ],
)
def test_type_loop_is_an_error_not_a_recursion(bo: str, types: Any) -> None:
    btf = parse_btf(blob(bo, types(bo)), bo)
    with pytest.raises(ObjectError, match="too deep or loops"):
        btf.resolve_size(1)
    with pytest.raises(ObjectError, match="too deep or loops"):
        btf.skip_mods_and_typedefs(1)


def test_modifier_chain_limit_is_32_links(bo: str) -> None:
    # Types 1..32 are CONSTs, each naming the next; 33 is an INT. From type 2 the INT is 31
    # links away; from type 1 it is 32, one more than MAX_RESOLVE_DEPTH lets through.
    chain = b"".join(rec(bo, 0, Kind.CONST, i + 1) for i in range(1, 33)) + int_rec(bo)
    btf = parse_btf(blob(bo, chain), bo)
    assert btf.skip_mods_and_typedefs(2) == 33
    with pytest.raises(ObjectError, match=r"type chain from \[33\] is too deep or loops"):
        btf.skip_mods_and_typedefs(1)


# ---------------------------------------------------------------------------------------------
# .BTF.ext of the object.
# ---------------------------------------------------------------------------------------------


def symbol_offsets(path: Path, section: str) -> dict[str, int]:
    """symbol_offsets: byte offset of each function symbol of `section`, read by pyelftools."""
    elf = ELFFile(io.BytesIO(path.read_bytes()))
    index = elf.get_section_index(section)
    return {
        sym.name: sym.entry.st_value
        for sym in elf.get_section_by_name(".symtab").iter_symbols()
        if sym.entry.st_info.type == "STT_FUNC" and sym.entry.st_shndx == index
    }


def test_func_info_names_each_function_at_its_byte_offset(target: str) -> None:
    path = bpfobjs.build(OBJ, target)
    spec = parse_object(path)
    assert spec.btf is not None and spec.btf_ext is not None
    funcs = spec.btf_ext.func_info
    assert set(funcs) == {"xdp", ".text"}
    for section, expected in (
        ("xdp", {"kinds_prog": 0}),
        (".text", symbol_offsets(path, ".text")),
    ):
        found = {}
        for record in funcs[section]:
            func = spec.btf.type(record.type_id)
            assert isinstance(func, Func)
            found[func.name] = record.insn_off
        assert found == expected
    assert set(symbol_offsets(path, ".text")) == {"kinds_helper", "kinds_twice"}
    assert max(r.insn_off for r in funcs[".text"]) > 0  # a byte offset, a multiple of 8


def test_func_info_types_are_global_entry_and_static_subprograms(target: str) -> None:
    spec = parse_object(bpfobjs.build(OBJ, target))
    assert spec.btf is not None and spec.btf_ext is not None
    linkage = {
        spec.btf.type(r.type_id).name: spec.btf.type(r.type_id).linkage  # type: ignore[union-attr]
        for records in spec.btf_ext.func_info.values()
        for r in records
    }
    assert linkage == {"kinds_prog": 1, "kinds_helper": 0, "kinds_twice": 0}


def test_line_info_quotes_this_source_file(target: str) -> None:
    spec = parse_object(bpfobjs.build(OBJ, target))
    assert spec.btf_ext is not None
    source = SOURCE.read_text().splitlines()
    lines = spec.btf_ext.line_info
    assert set(lines) == {"xdp", ".text"}
    for section, records in lines.items():
        assert records, section
        assert [r.insn_off for r in records] == sorted(r.insn_off for r in records)
        for r in records:
            assert Path(r.file_name).name == f"{OBJ}.c"
            assert r.insn_off % 8 == 0
            assert r.line == source[r.line_num - 1]
            assert 0 < r.column <= len(r.line) + 1
    quoted = {r.line.strip() for records in lines.values() for r in records}
    assert "return n * 2 + kinds_counter;" in quoted
    assert "int r = kinds_helper(&kinds_data, (int)ctx->ingress_ifindex);" in quoted
