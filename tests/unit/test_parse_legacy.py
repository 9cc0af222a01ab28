"""Legacy `maps` objects: iproute2's struct bpf_elf_map and libbpf's old bpf_map_def,
pinning kinds, map-in-map through id/inner_id/inner_idx and `ID/KEY` tail-call sections."""

from __future__ import annotations

import bpfobjs

from pybpftool.parser import parse_object
from pybpftool.spec import MapOrigin, Pinning, RefKind, TailCall
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
        m.pin_id,
        m.origin,
    )


def test_bpf_elf_map_definitions(target: str) -> None:
    spec = parse_object(bpfobjs.build("legacy_maps", target))
    assert [shape(m) for m in spec.maps] == [
        (
            "counters",
            T.BPF_MAP_TYPE_HASH,
            4,
            8,
            256,
            NO_PREALLOC,
            Pinning.GLOBAL_NS,
            2,
            MapOrigin.LEGACY,
        ),
        ("per_object", T.BPF_MAP_TYPE_ARRAY, 4, 4, 2, 0, Pinning.OBJECT_NS, 1, MapOrigin.LEGACY),
        ("custom_pin", T.BPF_MAP_TYPE_ARRAY, 4, 16, 1, 0, Pinning.CUSTOM, 5, MapOrigin.LEGACY),
        ("jmp_tc", T.BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0, Pinning.NONE, 0, MapOrigin.LEGACY),
        ("map_inner", T.BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, Pinning.NONE, 0, MapOrigin.LEGACY),
        (
            "map_outer",
            T.BPF_MAP_TYPE_ARRAY_OF_MAPS,
            4,
            4,
            2,
            0,
            Pinning.GLOBAL_NS,
            2,
            MapOrigin.LEGACY,
        ),
    ]
    assert all(m.legacy is not None and m.legacy.struct_size == 36 for m in spec.maps)
    assert spec.license == "GPL"
    assert spec.kern_version is None


def test_legacy_map_in_map_links_template_and_slot(target: str) -> None:
    spec = parse_object(bpfobjs.build("legacy_maps", target))
    outer, inner = spec.map("map_outer"), spec.map("map_inner")
    assert outer is not None and inner is not None and outer.legacy and inner.legacy
    assert (outer.legacy.inner_id, inner.legacy.id, inner.legacy.inner_idx) == (7, 7, 0)
    assert outer.inner == inner
    assert outer.contents == ((0, "map_inner"),)
    assert inner.inner is None and inner.contents == ()


def test_tail_call_sections_tie_to_prog_array_by_id(target: str) -> None:
    spec = parse_object(bpfobjs.build("legacy_maps", target))
    calls = {p.section: p.tail_call for p in spec.programs}
    assert calls == {
        "classifier": None,
        "42/0": TailCall("jmp_tc", 0),
        "0x2a/1": TailCall("jmp_tc", 1),  # %i reads hex
        "99/0": None,  # no prog array with id 99: ignored, as iproute2 does
    }


def test_iproute2_section_names_carry_no_type(target: str) -> None:
    spec = parse_object(bpfobjs.build("legacy_maps", target))
    assert {p.name: p.type for p in spec.programs} == {
        "cls_entry": None,
        "tail_zero": None,
        "tail_one": None,
        "tail_unmatched": None,
    }


def test_map_references_name_the_maps(target: str) -> None:
    spec = parse_object(bpfobjs.build("legacy_maps", target))
    prog = spec.program("cls_entry")
    assert prog is not None
    assert prog.maps_used == ("counters", "map_outer", "jmp_tc")
    assert {r.kind for r in prog.references} == {RefKind.MAP}


def test_old_bpf_map_def_is_zero_extended(target: str) -> None:
    spec = parse_object(bpfobjs.build("legacy_mapdef", target))
    assert [shape(m) for m in spec.maps] == [
        ("packets", T.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 64, 0, Pinning.NONE, 0, MapOrigin.LEGACY),
        ("flows", T.BPF_MAP_TYPE_LRU_HASH, 8, 16, 1024, 0, Pinning.NONE, 0, MapOrigin.LEGACY),
    ]
    legacy = [m.legacy for m in spec.maps]
    assert all(
        d is not None and (d.struct_size, d.id, d.inner_id, d.inner_idx) == (20, 0, 0, 0)
        for d in legacy
    )
    assert spec.license == "Dual BSD/GPL"
    assert spec.kern_version == 0x060100
    (prog,) = spec.programs
    assert (prog.name, prog.section, prog.type) == (
        "count_packets",
        "socket",
        BpfProgType.BPF_PROG_TYPE_SOCKET_FILTER,
    )


def test_legacy_and_btf_maps_mixed(target: str) -> None:
    spec = parse_object(bpfobjs.build("mixed_maps", target))
    assert [(m.name, m.origin, m.pinning) for m in spec.maps] == [
        ("legacy_cnt", MapOrigin.LEGACY, Pinning.GLOBAL_NS),
        ("btf_cnt", MapOrigin.BTF, Pinning.NONE),
    ]
    (prog,) = spec.programs
    assert prog.maps_used == ("legacy_cnt", "btf_cnt")
    assert prog.section == "ingress" and prog.type is None
