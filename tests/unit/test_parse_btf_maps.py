"""BTF-defined maps: __uint, __type, __ulong, __array(values) with static slots, pinning."""

from __future__ import annotations

import struct

import bpfobjs

from pybpftool.btf import BtfSpec, Composite
from pybpftool.errors import ObjectError
from pybpftool.maps.btf import _FieldReader, _parse_def
from pybpftool.parser import parse_object
from pybpftool.spec import MapOrigin, MapSpec, Pinning
from pybpftool.uapi import BpfMapType as T
from pybpftool.uapi import BpfProgType

NO_PREALLOC = 1


def shape(m):  # type: ignore[no-untyped-def]
    return (
        m.name,
        m.type,
        m.key_size,
        m.value_size,
        m.max_entries,
        m.flags,
        m.pinning,
        m.map_extra,
    )


def test_every_definition_encoding(target: str) -> None:
    spec = parse_object(bpfobjs.build("btf_maps", target))
    # DATASEC order, which clang makes the order of the variables in the section (libbpf's).
    assert [shape(m) for m in spec.maps] == [
        ("inner_a", T.BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, Pinning.NONE, 0),
        ("inner_b", T.BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, Pinning.NONE, 0),
        ("outer", T.BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 3, 0, Pinning.NONE, 0),
        ("jumps", T.BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0, Pinning.NONE, 0),
        ("flows", T.BPF_MAP_TYPE_HASH, 16, 16, 1024, NO_PREALLOC, Pinning.BY_NAME, 0),
        ("sized", T.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 16, 0, Pinning.NONE, 0),
        ("bloom", T.BPF_MAP_TYPE_BLOOM_FILTER, 0, 4, 128, 0, Pinning.NONE, 3),
    ]
    assert all(m.origin is MapOrigin.BTF and m.legacy is None for m in spec.maps)


def test_key_and_value_types_are_recorded(target: str) -> None:
    spec = parse_object(bpfobjs.build("btf_maps", target))
    flows = spec.map("flows")
    assert flows is not None and spec.btf is not None
    assert spec.btf.name_of(flows.btf_key_type_id) == "flow_key"
    assert spec.btf.name_of(flows.btf_value_type_id) == "flow_stats"
    sized = spec.map("sized")
    assert sized is not None and (sized.btf_key_type_id, sized.btf_value_type_id) == (0, 0)


def test_map_in_map_template_and_static_slots(target: str) -> None:
    spec = parse_object(bpfobjs.build("btf_maps", target))
    outer = spec.map("outer")
    assert outer is not None and outer.inner is not None
    assert shape(outer.inner) == ("outer.inner", T.BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, Pinning.NONE, 0)
    assert outer.contents == ((0, "inner_a"), (2, "inner_b"))


def test_prog_array_static_slots_name_programs(target: str) -> None:
    spec = parse_object(bpfobjs.build("btf_maps", target))
    jumps = spec.map("jumps")
    assert jumps is not None and jumps.inner is None
    assert jumps.contents == ((1, "tail_a"), (3, "tail_b"))


def test_several_programs_in_one_section(target: str) -> None:
    spec = parse_object(bpfobjs.build("btf_maps", target))
    # Ordered by address in the section, as libbpf sorts them (clang put tc_main last).
    assert [(p.name, p.section, p.type) for p in spec.programs] == [
        ("tail_a", "tc", BpfProgType.BPF_PROG_TYPE_SCHED_CLS),
        ("tail_b", "tc", BpfProgType.BPF_PROG_TYPE_SCHED_CLS),
        ("tc_main", "tc", BpfProgType.BPF_PROG_TYPE_SCHED_CLS),
    ]
    main = spec.program("tc_main")
    assert main is not None
    assert main.maps_used == ("flows", "outer", "sized", "jumps")


def test_every_uint_field_reaches_the_spec_field_it_names() -> None:
    # _parse_def passes every MapSpec field by position: a reordered MapSpec must fail here.
    # A hand-built definition: each field `int (*f)[N]` with its own N.
    values = {
        "type": 1,
        "key_size": 2,
        "value_size": 3,
        "max_entries": 4,
        "map_flags": 5,
        "numa_node": 6,
        "map_extra": 7,
        "pinning": 1,
    }
    strings = b"\0int\0" + b"".join(f.encode() + b"\0" for f in values)
    name_off = {f: strings.index(b"\0" + f.encode() + b"\0") + 1 for f in values}
    types = struct.pack("<IIII", 1, 1 << 24, 4, 32)  # [1] int
    nelems = sorted(set(values.values()))
    for n in nelems:  # [2..] ARRAY of n int
        types += struct.pack("<IIIIII", 0, 3 << 24, 0, 1, 1, n)
    ptr = {}
    for i, n in enumerate(nelems):  # then a PTR to each ARRAY
        ptr[n] = 2 + len(nelems) + i
        types += struct.pack("<III", 0, 2 << 24, 2 + i)
    struct_id = 2 + 2 * len(nelems)
    types += struct.pack("<III", 0, 4 << 24 | len(values), 8 * len(values))
    for i, (f, n) in enumerate(values.items()):
        types += struct.pack("<III", name_off[f], ptr[n], 64 * i)
    header = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings))
    btf = BtfSpec(header + types + strings, "<")
    struct_t = btf.type(struct_id)
    assert isinstance(struct_t, Composite)
    spec = _parse_def(_FieldReader(btf), "m", struct_t.members, is_inner=False)
    assert spec == MapSpec(
        name="m",
        type=1,
        key_size=2,
        value_size=3,
        max_entries=4,
        flags=5,
        origin=MapOrigin.BTF,
        section=".maps",
        pinning=Pinning.BY_NAME,
        pin_id=1,
        map_extra=7,
        numa_node=6,
    )


def test_remembered_fields_still_check_each_definition() -> None:
    # Definitions sharing their member types: the second map of each pair reads them from the
    # readers' memos, and its own contradictions are still reported.
    strings = b"\0int\0long\0type\0key\0value\0key_size\0value_size\0max_entries\0"
    at = {n.decode(): strings.index(b"\0" + n + b"\0") + 1 for n in strings.split(b"\0") if n}
    types = struct.pack("<IIII", at["int"], 1 << 24, 4, 32)  # [1] int
    types += struct.pack("<IIII", at["long"], 1 << 24, 8, 64)  # [2] long
    types += struct.pack("<III", 0, 2 << 24, 1)  # [3] int *
    types += struct.pack("<III", 0, 2 << 24, 2)  # [4] long *
    for n in (0, 1, 4, 8):  # [5..8] int[n], [9..12] PTR to each
        types += struct.pack("<IIIIII", 0, 3 << 24, 0, 1, 1, n)
    for i in range(4):
        types += struct.pack("<III", 0, 2 << 24, 5 + i)
    uint = {0: 9, 1: 10, 4: 11, 8: 12}
    defs = {
        "ok": [("type", uint[1]), ("key", 3), ("value", 4), ("max_entries", uint[4])],
        "again": [("type", uint[1]), ("key", 3), ("value", 4), ("max_entries", uint[4])],
        "value_clash": [("type", uint[1]), ("value_size", uint[4]), ("value", 4)],
        "key_clash": [("type", uint[1]), ("key_size", uint[8]), ("key", 3)],
        "key_first": [("type", uint[1]), ("key", 3), ("key_size", uint[8])],
        "no_type": [("type", uint[0]), ("key", 3)],
        "no_type_again": [("type", uint[0]), ("key", 3)],
        "not_ptr": [("type", uint[1]), ("max_entries", 1)],
        "not_array": [("type", uint[1]), ("max_entries", 3)],
        "key_not_ptr": [("type", uint[1]), ("key", 2)],
    }
    struct_ids = {}
    next_id = 13
    for name, members in defs.items():
        struct_ids[name] = next_id
        next_id += 1
        types += struct.pack("<III", 0, 4 << 24 | len(members), 8 * len(members))
        for i, (field, type_id) in enumerate(members):
            types += struct.pack("<III", at[field], type_id, 64 * i)
    header = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings))
    btf = BtfSpec(header + types + strings, "<")
    fields = _FieldReader(btf)
    outcomes = {}
    for name, type_id in struct_ids.items():
        struct_t = btf.type(type_id)
        assert isinstance(struct_t, Composite)
        try:
            spec = _parse_def(fields, name, struct_t.members, is_inner=False)
            outcomes[name] = (spec.type, spec.key_size, spec.value_size, spec.max_entries)
        except ObjectError as err:
            outcomes[name] = str(err)  # type: ignore[assignment]
    assert outcomes == {
        "ok": (1, 4, 8, 4),
        "again": (1, 4, 8, 4),
        "value_clash": "map 'value_clash': conflicting value size 4 != 8",
        "key_clash": "map 'key_clash': conflicting key size 8 != 4",
        "key_first": "map 'key_first': conflicting key size 4 != 8",
        "no_type": "map 'no_type': map type isn't specified",
        "no_type_again": "map 'no_type_again': map type isn't specified",
        "not_ptr": "map 'not_ptr': attr 'max_entries': expected PTR, got INT",
        "not_array": "map 'not_array': attr 'max_entries': expected ARRAY, got INT",
        "key_not_ptr": "map 'key_not_ptr': attr 'key': expected PTR, got INT",
    }
