"""tailcalls: iproute2's tail-call sections `ID/KEY` tied to legacy prog arrays.

Mirrors iproute2 lib/bpf_legacy.c bpf_fill_prog_arrays: a code section whose name satisfies
`sscanf(name, "%i/%i")` is inserted at KEY into the PROG_ARRAY whose bpf_elf_map `id` is ID;
sections whose ID matches no prog array are ignored.
"""

from __future__ import annotations

from pybpftool.cscan import scan_c_int
from pybpftool.spec import MapSpec, ProgramSpec, TailCall
from pybpftool.uapi import BpfMapType


def parse_tail_call_section(name: str) -> tuple[int, int] | None:
    """parse_tail_call_section: (id, key) for a section named like `%i/%i`, else None.

    Both values are taken modulo 2**32, as the C code stores them in 32-bit integers.
    """
    first = scan_c_int(name, 0)
    if first is None or not name.startswith("/", first[1]):
        return None
    second = scan_c_int(name, first[1] + 1)
    if second is None:
        return None
    return first[0] & 0xFFFFFFFF, second[0] & 0xFFFFFFFF


def assign_tail_calls(programs: list[ProgramSpec], maps: list[MapSpec]) -> list[ProgramSpec]:
    """assign_tail_calls: set `tail_call` on the first program of each `ID/KEY` section."""
    arrays = {
        m.legacy.id: m.name
        for m in reversed(maps)
        if m.legacy is not None and m.type == BpfMapType.BPF_MAP_TYPE_PROG_ARRAY
    }
    if not arrays:
        return programs
    out, seen = [], set()
    for prog in programs:
        parsed = parse_tail_call_section(prog.section)
        if parsed and parsed[0] in arrays and prog.section not in seen:
            seen.add(prog.section)
            prog = prog._replace(tail_call=TailCall(arrays[parsed[0]], parsed[1]))
        out.append(prog)
    return out
