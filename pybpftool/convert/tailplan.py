"""tailcalls: iproute2's `ID/KEY` tail calls in a conversion: their slots, why they are refused
without a TailCallMode, and what `--tail-calls graft` needs.

iproute2 6.1 built on libbpf (lib/bpf_libbpf.c load_bpf_object) turns autoload off for every
program but the one it attaches, except `ID/KEY` sections whose ID it finds in a legacy `maps`
section, which a converted object cannot have (libbpf refuses any section of that name). So
distro tc/ip never load a converted object's tail-call targets, and a prog array statically
initialised with one fails their load ("failed to initialize slot").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pybpftool.convert.findings import Finding, Graft, Severity
from pybpftool.sections import guess_program_type
from pybpftool.spec import MapSpec, ObjectSpec, Pinning, ProgramSpec
from pybpftool.tailcalls import parse_tail_call_section

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
LIBBPF_SECTIONS = frozenset({"classifier", "action"})  # iproute2 names libbpf knows too
_REFUSED, _NOTE = Severity.REFUSED, Severity.NOTE
TailSlots = dict[str, dict[int, ProgramSpec]]  # prog array -> key -> program


def _subject(name: str) -> str:
    return f"map '{name}'"


def tail_slots(spec: ObjectSpec, legacy: list[MapSpec], findings: list[Finding]) -> TailSlots:
    """tail_slots: each prog array's tail calls, key -> program, as iproute2 fills them
    (section order, a later section overwriting an earlier one's key)."""
    slots: TailSlots = {}
    sizes = {m.name: m.max_entries for m in legacy}
    for prog in spec.programs:
        call = prog.tail_call
        if call is None:
            continue
        if not IDENTIFIER.fullmatch(prog.name):
            findings.append(
                Finding(
                    _REFUSED,
                    f"section '{prog.section}'",
                    "tail call",
                    f"libbpf finds a slot's program by its function's name, and {prog.name!r}"
                    " is none it can look up",
                )
            )
        mine = slots.setdefault(call.map, {})
        before = mine.get(call.key)
        if before is not None:
            findings.append(
                Finding(
                    _NOTE,
                    f"section '{before.section}'",
                    "tail call",
                    f"section '{prog.section}' takes key {call.key} of '{call.map}' after it,"
                    " as iproute2 overwrites it: only the later one is a slot",
                )
            )
        if call.key >= sizes[call.map]:
            findings.append(
                Finding(
                    _REFUSED,
                    _subject(call.map),
                    "tail call",
                    f"section '{prog.section}' needs key {call.key}, but the prog array has"
                    f" {sizes[call.map]} entries (iproute2 fails its load the same way)",
                    "raise max_elem, or rename the section",
                )
            )
        mine[call.key] = prog
    return slots


def tail_call_refusals(tails: TailSlots) -> Iterable[Finding]:
    for name, slots in tails.items():
        sections = ", ".join(p.section for p in slots.values())
        yield Finding(
            _REFUSED,
            _subject(name),
            f"tail calls (sections {sections})",
            "iproute2's libbpf loader (distro tc/ip 6.1) loads only the program it attaches"
            " and `ID/KEY` sections it finds in a legacy `maps` section, which the output has"
            " not: a prog array initialised with other programs fails its load there",
            "--tail-calls static (libbpf loaders that load every program: bpftool prog"
            " loadall, cilium/ebpf, libbpf applications, pytc), --tail-calls graft (distro"
            " tc/ip: the prog array is pinned by name and `tc exec bpf graft` fills it)",
        )


def make_grafts(tails: TailSlots) -> tuple[Graft, ...]:
    """make_grafts: one `tc exec bpf graft` per slot, in map then key order."""
    return tuple(
        Graft(name, key, prog.section)
        for name, slots in tails.items()
        for key, prog in sorted(slots.items())
    )


def graft_sharing(
    spec: ObjectSpec, pinned_by_name: set[str], grafts: tuple[Graft, ...]
) -> Iterable[Finding]:
    """graft_sharing: `tc exec bpf graft` loads each tail program in a load of its own, which
    makes new instances of every map that is not pinned: a map such a program shares with
    another must be pinned, or the programs stop sharing it."""
    pinned = pinned_by_name | {m.name for m in spec.maps if m.pinning is Pinning.BY_NAME}
    sections = {g.section for g in grafts}
    users: dict[str, list[str]] = {}
    for prog in spec.programs:
        for name in prog.maps_used:
            users.setdefault(name, []).append(prog.section)
    reported: set[str] = set()
    for name, used_by in users.items():
        if name in pinned or name in reported or len(used_by) < 2:
            continue
        if any(s in sections for s in used_by):
            reported.add(name)
            yield Finding(
                _REFUSED,
                _subject(name),
                "--tail-calls graft",
                f"sections {', '.join(used_by)} share it, but `tc exec bpf graft` loads each"
                " tail call alone and would give it a new, unshared instance",
                "pin it (PIN_GLOBAL_NS, or --object-ns-pins global), or --tail-calls static",
            )


def section_notes(spec: ObjectSpec, tails: TailSlots) -> Iterable[Finding]:
    tail_arrays = {m.legacy.id for m in spec.maps if m.legacy and m.name in tails}
    seen: set[str] = set()
    for prog in spec.programs:
        section = prog.section
        if section in seen:
            continue
        seen.add(section)
        parsed = parse_tail_call_section(section)
        if parsed is not None and parsed[0] not in tail_arrays and prog.tail_call is None:
            yield Finding(
                _NOTE,
                f"section '{section}'",
                "tail call",
                f"id {parsed[0]} is no prog array of this object: iproute2 never loads it;"
                " libbpf loaders that load every program load it too",
            )
        elif section not in LIBBPF_SECTIONS and guess_program_type(section) is None:
            yield Finding(
                _NOTE,
                f"section '{section}'",
                "program type",
                "libbpf derives no program type from this name: tc/ip set it; give one to"
                " loaders that need it (bpftool prog loadall OUT PATH type TYPE)",
            )
