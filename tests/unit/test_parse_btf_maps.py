"""BTF-defined maps: __uint, __type, __ulong, __array(values) with static slots, pinning."""

from __future__ import annotations

import struct

import bpfobjs

from pybpftool.btf import BtfSpec, Composite
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
