"""objshow: `pybpftool object show` views of an ObjectSpec: a JSON document and rich tables.

The JSON layout is documented in man/pybpftool.8 (section OBJECT SHOW JSON). Type names are
spelled as bpftool spells them; an unknown type number is shown as bpftool does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pybpftool.cli.common.escape import escape_text
from pybpftool.spec import MapSpec, ObjectSpec, Pinning, ProgramSpec
from pybpftool.uapi import attach_type_name, map_type_name, prog_type_name

if TYPE_CHECKING:
    from rich.console import Console


def pinning_value(spec: MapSpec) -> str | int:
    """pinning_value: `none`, `object`, `global`, `by_name`, or the custom id number."""
    return spec.pin_id if spec.pinning is Pinning.CUSTOM else spec.pinning.value


def map_to_json(spec: MapSpec) -> dict[str, Any]:
    """map_to_json: one map of `object show --json`."""
    out: dict[str, Any] = {
        "name": spec.name,
        "type": map_type_name(spec.type),
        "type_id": spec.type,
        "key_size": spec.key_size,
        "value_size": spec.value_size,
        "max_entries": spec.max_entries,
        "flags": spec.flags,
        "pinning": pinning_value(spec),
        "origin": spec.origin.value,
        "section": spec.section,
    }
    if spec.map_extra:
        out["map_extra"] = spec.map_extra
    if spec.legacy is not None:
        out["legacy"] = {
            "id": spec.legacy.id,
            "inner_id": spec.legacy.inner_id,
            "inner_idx": spec.legacy.inner_idx,
            "struct_size": spec.legacy.struct_size,
        }
    if spec.inner is not None:
        out["inner"] = map_to_json(spec.inner)
    if spec.contents:
        out["slots"] = [{"key": key, "value": name} for key, name in spec.contents]
    if spec.data is not None:
        out["data_size"] = len(spec.data)
        out["frozen"] = spec.freeze
    return out


def program_to_json(prog: ProgramSpec) -> dict[str, Any]:
    """program_to_json: one program of `object show --json`."""
    return {
        "name": prog.name,
        "section": prog.section,
        "type": None if prog.type is None else prog_type_name(prog.type),
        "attach_type": (
            None
            if prog.expected_attach_type is None
            else attach_type_name(prog.expected_attach_type)
        ),
        "insns": prog.insn_count,
        "maps": list(prog.maps_used),
        "subprograms": list(prog.subprograms),
        "tail_call": (
            None
            if prog.tail_call is None
            else {"map": prog.tail_call.map, "key": prog.tail_call.key}
        ),
        "autoload": prog.autoload,
    }


def object_to_json(spec: ObjectSpec, path: str) -> dict[str, Any]:
    """object_to_json: the whole `object show --json` document."""
    return {
        "file": path,
        "name": spec.name,
        "byteorder": "little" if spec.byteorder == "<" else "big",
        "license": spec.license,
        "kern_version": spec.kern_version,
        "sha1": spec.sha1,
        "btf": spec.btf is not None,
        "maps": [map_to_json(m) for m in spec.maps],
        "programs": [program_to_json(p) for p in spec.programs],
    }


def _flags(value: int) -> str:
    return f"{value:#x}" if value else "0"


def _map_detail(spec: MapSpec) -> str:
    parts = []
    if spec.legacy is not None:
        parts.append(
            f"id {spec.legacy.id} inner_id {spec.legacy.inner_id} "
            f"inner_idx {spec.legacy.inner_idx:#x}"
        )
    if spec.inner is not None:
        parts.append(f"inner {spec.inner.name} ({map_type_name(spec.inner.type)})")
    if spec.contents:
        parts.append("slots " + ", ".join(f"[{k}]={v}" for k, v in spec.contents))
    if spec.map_extra:
        parts.append(f"map_extra {spec.map_extra:#x}")
    if spec.data is not None and spec.freeze:
        parts.append("frozen")
    return "; ".join(parts)


def render_object(spec: ObjectSpec, path: str, console: Console) -> None:
    """render_object: header line, then a table of maps and a table of programs."""
    from rich.table import Table
    from rich.text import Text

    s = escape_text
    version = "" if spec.kern_version is None else f"  version {spec.kern_version:#x}"
    console.print(
        Text(
            f"{s(path)}: {'little' if spec.byteorder == '<' else 'big'}-endian, "
            f"license {s(spec.license)!r}{version}, {'BTF' if spec.btf else 'no BTF'}"
        )
    )
    maps = Table(title="maps", title_justify="left")
    for col in ("name", "type", "key", "value", "max", "flags", "pinning", "origin", "details"):
        maps.add_column(col, justify="right" if col in ("key", "value", "max") else "left")
    for m in spec.maps:
        maps.add_row(
            *(
                Text(v)
                for v in (
                    s(m.name),
                    map_type_name(m.type),
                    str(m.key_size),
                    str(m.value_size),
                    str(m.max_entries),
                    _flags(m.flags),
                    str(pinning_value(m)),
                    m.origin.value,
                    s(_map_detail(m)),
                )
            )
        )
    progs = Table(title="programs", title_justify="left")
    for col in ("name", "section", "type", "insns", "maps", "subprograms", "tail call"):
        progs.add_column(col, justify="right" if col == "insns" else "left")
    for p in spec.programs:
        tail = "" if p.tail_call is None else f"{p.tail_call.map}[{p.tail_call.key}]"
        ptype = "-" if p.type is None else prog_type_name(p.type)
        progs.add_row(
            *(
                Text(v)
                for v in (
                    s(p.name),
                    s(p.section),
                    ptype,
                    str(p.insn_count),
                    s(", ".join(p.maps_used)),
                    s(", ".join(p.subprograms)),
                    s(tail),
                )
            )
        )
    if spec.maps:
        console.print(maps)
    console.print(progs)
