"""convert_object on the legacy test objects: the output, parsed again, describes the same maps
(as BTF maps), the same programs byte for byte, the same static slots; tools read it; and
every feature without a BTF equivalent is refused, naming the map, the feature and the
choices. The kernel side (distro tc, bpftool, tags, pins) is tests/privileged/test_convert_load.py.
"""

from __future__ import annotations

import shutil
import subprocess

import bpfobjs
import pytest

from pybpftool.btf import Kind, parse_btf
from pybpftool.convert import (
    ConversionRefused,
    ConvertOptions,
    PinChoice,
    Severity,
    TailCallMode,
    convert_object,
)
from pybpftool.elf import parse_elf
from pybpftool.errors import ObjectError
from pybpftool.parser import parse_object
from pybpftool.spec import MapOrigin, MapSpec, ObjectSpec, Pinning
from pybpftool.uapi import BpfMapType

EVERYTHING = ConvertOptions(PinChoice.GLOBAL, PinChoice.GLOBAL, TailCallMode.STATIC)
LEGACY_OBJECTS = [
    "legacy_maps",
    "legacy_mapdef",
    "mixed_maps",
    "twin_legacy",
    "rejected",
    "iproute2/tailcall",
    "iproute2/cyclic",
    "iproute2/map_in_map",
    "iproute2/shared",
    "iproute2/xdp",
]
PROG_ARRAY = BpfMapType.BPF_MAP_TYPE_PROG_ARRAY
MAP_IN_MAP = (BpfMapType.BPF_MAP_TYPE_ARRAY_OF_MAPS, BpfMapType.BPF_MAP_TYPE_HASH_OF_MAPS)


def build(name: str, target: str = "bpfel", *flags: str) -> bytes:
    return bpfobjs.build(name, target, *flags).read_bytes()


def converted(name: str, target: str, options: ConvertOptions = EVERYTHING) -> bytes:
    return convert_object(build(name, target), options).output()


def shape(m: MapSpec) -> tuple[object, ...]:
    return (m.name, m.type, m.key_size, m.max_entries, m.flags)


def expected_pinning(m: MapSpec) -> Pinning:
    return Pinning.NONE if m.pinning is Pinning.NONE else Pinning.BY_NAME


def tail_slots(spec: ObjectSpec) -> dict[str, tuple[tuple[int, str], ...]]:
    slots: dict[str, dict[int, str]] = {}
    for prog in spec.programs:
        if prog.tail_call is not None:
            slots.setdefault(prog.tail_call.map, {})[prog.tail_call.key] = prog.name
    return {name: tuple(sorted(keys.items())) for name, keys in slots.items()}


@pytest.mark.parametrize("name", LEGACY_OBJECTS)
def test_every_legacy_map_becomes_the_same_btf_map(name: str, target: str) -> None:
    before = parse_object(build(name, target))
    after = parse_object(converted(name, target))
    tails = tail_slots(before)
    assert [m.name for m in after.maps if m.origin is MapOrigin.LEGACY] == []
    for old in before.maps:
        new = after.map(old.name)
        assert new is not None, old.name
        assert shape(new) == shape(old)
        if old.origin is not MapOrigin.LEGACY:
            assert new == old  # BTF and data maps of a mixed object: untouched
            continue
        assert new.origin is MapOrigin.BTF
        assert new.pinning is expected_pinning(old)
        assert new.value_size == (4 if old.type in MAP_IN_MAP else old.value_size)
        if old.type in MAP_IN_MAP:
            assert old.inner is not None and new.inner is not None
            assert shape(new.inner)[1:] == shape(old.inner)[1:]
            assert new.contents == old.contents
        elif old.type == PROG_ARRAY:
            assert new.contents == tails.get(old.name, ())


@pytest.mark.parametrize("name", LEGACY_OBJECTS)
def test_programs_license_version_and_data_are_carried_over(name: str, target: str) -> None:
    before = parse_object(build(name, target))
    after = parse_object(converted(name, target))
    assert [(p.name, p.section, p.insns, p.references) for p in after.programs] == [
        (p.name, p.section, p.insns, p.references) for p in before.programs
    ]
    assert (after.license, after.kern_version, after.byteorder) == (
        before.license,
        before.kern_version,
        before.byteorder,
    )
    assert [m for m in after.maps if m.origin is MapOrigin.DATA] == [
        m for m in before.maps if m.origin is MapOrigin.DATA
    ]


@pytest.mark.parametrize("name", LEGACY_OBJECTS)
def test_btf_is_extended_not_renumbered(name: str, target: str) -> None:
    """Every type id of the input names the same type in the output (so .BTF.ext, which is
    copied byte for byte, stays true), except the legacy DATASEC, now `.maps`, and the map
    VARs, now typed by their definition structs."""
    data = build(name, target)
    out = converted(name, target)
    old_elf, new_elf = parse_elf(data), parse_elf(out)
    old_btf = parse_btf(
        old_elf.section_data(old_elf.section_by_name(".BTF")), "<" if target == "bpfel" else ">"
    )  # type: ignore[arg-type]
    new_sec = new_elf.section_by_name(".BTF")
    assert new_sec is not None
    new_btf = parse_btf(new_elf.section_data(new_sec), new_elf.byteorder)
    map_names = {m.name for m in parse_object(data).maps if m.origin is MapOrigin.LEGACY}
    for type_id in range(1, len(old_btf)):
        old, new = old_btf.type(type_id), new_btf.type(type_id)
        if old.kind is Kind.DATASEC and old.name in ("maps", ".maps"):
            # the `.maps` DATASEC (in a mixed object the legacy one becomes `void *`)
            assert new.name in (".maps", "")
        elif old.kind is Kind.VAR and old.name in map_names:
            assert (new.kind, new.name) == (Kind.VAR, old.name)
        else:
            assert new == old, type_id
    assert len(new_btf) > len(old_btf)
    ext = ".BTF.ext"
    assert new_elf.section_data(new_elf.section_by_name(ext)) == old_elf.section_data(  # type: ignore[arg-type]
        old_elf.section_by_name(ext)  # type: ignore[arg-type]
    )


def test_legacy_slots_join_the_btf_slots_of_a_mixed_object(target: str) -> None:
    data = build("mixed_maps", target, "-DWITH_SLOTS")
    before, after = parse_object(data), parse_object(convert_object(data, EVERYTHING).output())
    for name in ("btf_outer", "legacy_outer"):
        old, new = before.map(name), after.map(name)
        assert old is not None and new is not None and new.contents == old.contents != ()
    elf = parse_elf(convert_object(data, EVERYTHING).output())
    assert [s.name for s in elf.sections].count(".rel.maps") == 1


def test_an_object_without_btf_gets_a_btf_of_its_own() -> None:
    data = build("legacy_maps", "bpfel", "-g0")
    assert parse_elf(data).section_by_name(".BTF") is None
    after = parse_object(convert_object(data, EVERYTHING).output())
    assert after.btf is not None and after.btf.datasec(".maps") is not None
    assert {m.name for m in after.maps} == {m.name for m in parse_object(data).maps}


def test_annotated_key_and_value_types_are_kept() -> None:
    after = parse_object(converted("iproute2/shared", "bpfel"))
    flow_bytes = after.map("flow_bytes")
    assert flow_bytes is not None and after.btf is not None
    assert after.btf.type(flow_bytes.btf_key_type_id).name == "flow"
    assert after.btf.type(flow_bytes.btf_value_type_id).name == "__u64"


def test_slot_maps_come_before_their_outer_maps() -> None:
    """libbpf fills an outer map's slots right after creating it (bpf_object__create_maps):
    the maps in them must exist already, whatever the legacy order was."""
    order = [m.name for m in parse_object(converted("iproute2/map_in_map", "bpfel")).maps]
    for outer in ("by_index", "by_hash"):
        assert order.index("ports_a") < order.index(outer)
        assert order.index("ports_b") < order.index(outer)


def test_static_entry_function_is_made_global_and_hidden() -> None:
    conversion = convert_object(build("iproute2/static_entry"), EVERYTHING)
    elf = parse_elf(conversion.output())
    (sym,) = [s for s in elf.symbols if s.name == "quiet_entry"]
    assert (sym.bind, sym.visibility) == (1, 2)  # STB_GLOBAL, STV_HIDDEN
    assert [f.feature for f in conversion.findings if f.severity is Severity.CHANGED] == [
        "static entry function"
    ]


def test_output_is_deterministic() -> None:
    data = build("legacy_maps")
    assert convert_object(data, EVERYTHING).image == convert_object(data, EVERYTHING).image


@pytest.mark.parametrize("name", ["legacy_maps", "iproute2/map_in_map", "iproute2/shared"])
def test_llvm_tools_read_the_output_without_a_warning(name: str, tmp_path: object) -> None:
    import pathlib

    out = pathlib.Path(str(tmp_path)) / "out.o"
    out.write_bytes(converted(name, "bpfel"))
    for tool in (["llvm-readelf-14", "--all"], ["llvm-objdump-14", "-d", "-r", "-S"]):
        if shutil.which(tool[0]) is None:
            pytest.fail(f"{tool[0]} is part of the test toolchain (apt llvm-14)")
        done = subprocess.run([*tool, str(out)], capture_output=True, text=True)
        assert done.returncode == 0 and not done.stderr, (tool, done.stderr)
    listing = subprocess.run(
        ["llvm-readelf-14", "-r", str(out)], capture_output=True, text=True
    ).stdout
    assert "Relocation section '.rel.maps'" in listing or name == "iproute2/shared"


@pytest.mark.parametrize("name", ["legacy_maps", "mixed_maps"])
def test_pyelftools_reads_sections_symbols_relocations_and_dwarf(name: str, target: str) -> None:
    import io

    from elftools.elf.elffile import ELFFile

    elf = ELFFile(io.BytesIO(converted(name, target)))
    names = [s.name for s in elf.iter_sections()]
    assert ".maps" in names and "maps" not in names and ".rel.BTF" not in names
    for sec in elf.iter_sections():
        if sec.header.sh_type == "SHT_REL":
            assert all(
                r["r_info_sym"] < elf.get_section_by_name(".symtab").num_symbols()
                for r in sec.iter_relocations()
            )
    maps = elf.get_section_by_name(".symtab")
    assert {s.name for s in maps.iter_symbols() if s["st_shndx"] == names.index(".maps")} >= {
        m.name for m in parse_object(build(name, target)).maps if m.origin is not MapOrigin.DATA
    }
    for cu in elf.get_dwarf_info().iter_CUs():
        assert sum(1 for _ in cu.iter_DIEs()) > 1


# --- refusals ----------------------------------------------------------------------------


def refused(name: str, options: ConvertOptions, *flags: str) -> dict[str, list[str]]:
    """refused: subject -> the features refused for it."""
    conversion = convert_object(build(name, "bpfel", *flags), options)
    assert conversion.image is None
    out: dict[str, list[str]] = {}
    for f in conversion.refused:
        out.setdefault(f.subject, []).append(f.feature)
    return out


def test_without_options_every_inexpressible_feature_is_refused_at_once() -> None:
    assert refused("legacy_maps", ConvertOptions()) == {
        "map 'per_object'": ["PIN_OBJECT_NS"],
        "map 'custom_pin'": ["custom pinning id 5"],
        "map 'jmp_tc'": ["tail calls (sections 42/0, 0x2a/1)"],
    }


def test_a_refusal_names_map_feature_and_choices() -> None:
    conversion = convert_object(build("legacy_maps"), ConvertOptions())
    lines = [f.line() for f in conversion.refused]
    assert lines[0].startswith("refused: map 'per_object': PIN_OBJECT_NS: libbpf pins only by")
    assert "choices: --object-ns-pins global" in lines[0]
    assert "--object-ns-pins none" in lines[0]
    assert "--custom-pins global" in lines[1]
    assert "--tail-calls static" in lines[2] and "--tail-calls graft" in lines[2]
    with pytest.raises(ConversionRefused) as caught:
        conversion.output()
    assert caught.value.details == tuple(lines)
    assert "3 features" in caught.value.message


def test_substitutes_are_reported_as_changes() -> None:
    conversion = convert_object(
        build("legacy_maps"), ConvertOptions(PinChoice.NONE, PinChoice.GLOBAL, TailCallMode.GRAFT)
    )
    after = parse_object(conversion.output())
    assert after.map("per_object").pinning is Pinning.NONE  # type: ignore[union-attr]
    assert after.map("custom_pin").pinning is Pinning.BY_NAME  # type: ignore[union-attr]
    assert after.map("jmp_tc").pinning is Pinning.BY_NAME  # type: ignore[union-attr]
    assert after.map("jmp_tc").contents == ()  # type: ignore[union-attr]
    changed = {f.subject: f.feature for f in conversion.findings if f.severity is Severity.CHANGED}
    assert changed == {
        "map 'per_object'": "PIN_OBJECT_NS",
        "map 'custom_pin'": "custom pinning id 5",
        "map 'jmp_tc'": "pinning",
    }
    assert [tuple(g) for g in conversion.grafts] == [("jmp_tc", 0, "42/0"), ("jmp_tc", 1, "0x2a/1")]


def test_graft_refuses_an_unpinned_map_a_tail_call_shares() -> None:
    graft = ConvertOptions(tail_calls=TailCallMode.GRAFT)
    assert refused("iproute2/tailcall", graft, "-DSTEPS_PINNING=PIN_NONE") == {
        "map 'steps'": ["--tail-calls graft"]
    }
    assert convert_object(build("iproute2/tailcall"), graft).image is not None


def test_tail_call_key_outside_its_prog_array_is_refused() -> None:
    static = ConvertOptions(tail_calls=TailCallMode.STATIC)
    assert refused("iproute2/tailcall", static, '-DLAST_SECTION="11/1"') == {
        "map 'jmp_exit'": ["tail call"]
    }


def test_multi_level_map_in_map_is_refused() -> None:
    assert refused("iproute2/map_in_map", EVERYTHING, "-DNESTED") == {"map 'top'": ["map-in-map"]}


def test_static_helper_in_a_program_section_is_refused() -> None:
    assert refused("iproute2/static_entry", EVERYTHING, "-DHELPER_IN_SECTION") == {
        "section 'action'": ["static function 'act_helper'"]
    }


@pytest.mark.parametrize("name", sorted(p.stem for p in (bpfobjs.BPF_DIR / "bad").glob("*.c")))
def test_a_broken_object_is_the_parser_s_object_error(name: str) -> None:
    data = build(f"bad/{name}")
    with pytest.raises(ObjectError) as parsed:
        parse_object(data)
    with pytest.raises(ObjectError) as converted_error:
        convert_object(data, EVERYTHING)
    assert converted_error.value.message == parsed.value.message


def test_object_without_legacy_maps_has_nothing_to_convert() -> None:
    assert refused("btf_maps", EVERYTHING) == {"object": ["legacy maps"]}


def test_notes_describe_what_changes_without_refusing() -> None:
    conversion = convert_object(build("legacy_maps"), EVERYTHING)
    notes = {(f.subject, f.feature) for f in conversion.findings if f.severity is Severity.NOTE}
    assert ("section '99/0'", "tail call") in notes  # iproute2 never loads it
    assert ("section '42/0'", "program type") in notes
