"""objshow: `pybpftool object show` views of an ObjectSpec: a JSON document and rich tables.

The JSON layout is documented in man/pybpftool.8 (section OBJECT SHOW JSON). Type names are
spelled as bpftool spells them; an unknown type number is shown as bpftool does. Table cells
too long for the terminal wrap (fold) rather than lose their end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pybpftool.cli.bpftool.tables import Column, plain_table, print_table
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
        "core_relocations": core_relocations(spec),
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


def header_line(spec: ObjectSpec, path: str) -> str:
    """header_line: `FILE: little-endian, license 'GPL'[, kernel version 0x50f00 (5.15.0)],
    BTF|no BTF[, N CO-RE relocations]` (the kernel version only from a `version` section)."""
    s = escape_text
    parts = [
        f"{s(path)}: {'little' if spec.byteorder == '<' else 'big'}-endian",
        f"license {s(spec.license)!r}",
    ]
    if spec.kern_version is not None:
        v = spec.kern_version
        parts.append(f"kernel version {v:#x} ({v >> 16}.{(v >> 8) & 0xFF}.{v & 0xFF})")
    parts.append("BTF" if spec.btf else "no BTF")
    relocations = core_relocations(spec)
    if relocations:
        parts.append(f"{relocations} CO-RE relocation{'s' if relocations > 1 else ''}")
    return ", ".join(parts)


def core_relocations(spec: ObjectSpec) -> int:
    """core_relocations: how many CO-RE relocations .BTF.ext holds (applied at load time)."""
    if spec.btf_ext is None:
        return 0
    return sum(len(relos) for relos in spec.btf_ext.core_relos.values())


MAP_COLUMNS = [
    Column("name", identifier=True),
    Column("type", identifier=True),
    Column("key", right=True),
    Column("value", right=True),
    Column("max", right=True),
    Column("flags"),
    Column("pinning"),
    Column("origin"),
    Column("details"),
]
PROGRAM_COLUMNS = [
    Column("name", identifier=True),
    Column("section", identifier=True),
    Column("type", identifier=True),
    Column("insns", right=True),
    Column("maps"),
    Column("subprograms"),
    Column("tail call", identifier=True),
]


def render_object(spec: ObjectSpec, path: str, console: Console) -> None:
    """render_object: header line, then a table of maps and a table of programs."""
    from rich.text import Text

    console.print(Text(header_line(spec, path)))
    if spec.maps:
        print_table(console, "maps", MAP_COLUMNS, [map_row(m) for m in spec.maps])
    print_table(console, "programs", PROGRAM_COLUMNS, [program_row(p) for p in spec.programs])


def plain_object(spec: ObjectSpec, path: str, width: int) -> str | None:
    """plain_object: the text render_object prints on an uncoloured console `width` columns
    wide, made without rich; None where rich would wrap or measure something itself."""
    header = header_line(spec, path)
    if len(header) > width or not (header.isascii() and header.isprintable()):
        return None
    out = [header + "\n"]
    tables = [("maps", MAP_COLUMNS, [map_row(m) for m in spec.maps])] if spec.maps else []
    tables.append(("programs", PROGRAM_COLUMNS, [program_row(p) for p in spec.programs]))
    for title, columns, rows in tables:
        table = plain_table(title, columns, rows, width)
        if table is None:
            return None
        out.append(table)
    return "".join(out)


def map_row(m: MapSpec) -> list[str]:
    """map_row: the cells of one map in the maps table, untrusted names escaped."""
    s = escape_text
    return [
        s(m.name),
        map_type_name(m.type),
        str(m.key_size),
        str(m.value_size),
        str(m.max_entries),
        _flags(m.flags),
        str(pinning_value(m)),
        m.origin.value,
        s(_map_detail(m)),
    ]


def program_row(p: ProgramSpec) -> list[str]:
    """program_row: the cells of one program in the programs table, names escaped."""
    s = escape_text
    tail = "" if p.tail_call is None else s(f"{p.tail_call.map}[{p.tail_call.key}]")
    return [
        s(p.name),
        s(p.section),
        "-" if p.type is None else prog_type_name(p.type),
        str(p.insn_count),
        s(", ".join(p.maps_used)),
        s(", ".join(p.subprograms)),
        tail,
    ]
