"""symbols: the output's symbol table: map symbols moved to `.maps`, program symbols libbpf
accepts, locals first, and the old index -> new index map every relocation is rewritten with.

libbpf 1.1 (bpf_object__add_programs) takes one program per FUNC symbol of a code section and
refuses a LOCAL one outside `.text` ("program is static and not supported"). iproute2's legacy
loader takes a whole section, whatever its symbols. A section whose only entry is a static
function at its start is shaped: the symbol becomes GLOBAL with STV_HIDDEN visibility (libbpf
then accepts it; nothing outside the object can see it). Other static functions in program
sections are calls libbpf cannot make (it calls into `.text` only): refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from pybpftool.convert.elfwrite import OutSymbol
from pybpftool.convert.findings import Finding, Severity
from pybpftool.elf import (
    SHN_LORESERVE,
    SHN_UNDEF,
    STB_GLOBAL,
    STB_LOCAL,
    STT_FUNC,
    STT_OBJECT,
    STV_HIDDEN,
    ElfFile,
    Symbol,
)
from pybpftool.programs import TEXT_SECTION


class MovedMap(NamedTuple):
    """MovedMap: where a map's symbol lies in the output's `.maps`."""

    offset: int
    size: int


class SymbolTable(NamedTuple):
    """SymbolTable: the output symbols and where each input symbol went."""

    symbols: list[OutSymbol]
    new_index: dict[int, int]


def static_entries(elf: ElfFile) -> tuple[set[int], list[Finding]]:
    """static_entries: indexes of static entry functions to make global, and the findings
    about program sections libbpf would refuse."""
    findings: list[Finding] = []
    shaped: set[int] = set()
    global_names = {s.name for s in elf.symbols if s.bind != STB_LOCAL and s.shndx}
    for sec in elf.sections:
        if not sec.is_exec or not sec.size or sec.name == TEXT_SECTION:
            continue
        funcs = elf.symbols_in(sec.ndx, STT_FUNC)
        subject = f"section '{sec.name}'"
        if not funcs:
            findings.append(
                Finding(
                    Severity.REFUSED,
                    subject,
                    "program symbol",
                    "it has no function symbol, and libbpf finds programs by their symbols",
                )
            )
            continue
        local = [s for s in funcs if s.bind == STB_LOCAL]
        if len(local) == len(funcs) == 1 and local[0].value == 0:
            fn = local[0]
            if fn.name in global_names:
                findings.append(_refused(subject, fn, "its name is also a global symbol's"))
                continue
            global_names.add(fn.name)
            shaped.add(fn.ndx)
            findings.append(
                Finding(
                    Severity.CHANGED,
                    f"program '{fn.name}'",
                    "static entry function",
                    "made global with hidden visibility, as libbpf 1.1 refuses static programs",
                )
            )
        else:
            findings += [
                _refused(subject, fn, "libbpf calls functions in .text only") for fn in local
            ]
    return shaped, findings


def _refused(subject: str, fn: Symbol, why: str) -> Finding:
    return Finding(
        Severity.REFUSED,
        subject,
        f"static function '{fn.name}'",
        f"libbpf 1.1 refuses static functions in program sections; {why}",
        "make it global, or move it to .text (a static __noinline helper)",
    )


def rebuild_symbols(
    elf: ElfFile,
    section_index: Mapping[int, int],
    legacy: tuple[int, int],
    moved: Mapping[str, MovedMap],
    shaped: set[int],
) -> SymbolTable:
    """rebuild_symbols: the output symbol table.

    `section_index` maps input section indexes to output ones (a missing one: the section
    was dropped); `legacy` is (input index of `maps`, output index of `.maps`): `moved` gives
    the legacy map symbols their place there; `shaped` are static entries made global.
    """
    locals_: list[tuple[int, OutSymbol]] = []
    globals_: list[tuple[int, OutSymbol]] = []
    for sym in elf.symbols:
        out = _moved(sym, section_index, legacy, moved, shaped)
        (locals_ if out.bind == STB_LOCAL else globals_).append((sym.ndx, out))
    order = locals_ + globals_
    return SymbolTable([out for _, out in order], {old: new for new, (old, _) in enumerate(order)})


def _moved(
    sym: Symbol,
    section_index: Mapping[int, int],
    legacy: tuple[int, int],
    moved: Mapping[str, MovedMap],
    shaped: set[int],
) -> OutSymbol:
    shndx, other = sym.shndx, sym.visibility
    bind, value, size, stype = sym.bind, sym.value, sym.size, sym.type
    if shndx == legacy[0]:
        shndx = legacy[1]
        place = moved.get(sym.name) if sym.bind != STB_LOCAL else None
        if place is not None:
            value, size, stype, bind = place.offset, place.size, STT_OBJECT, STB_GLOBAL
    elif 0 < shndx < SHN_LORESERVE:
        shndx = section_index.get(shndx, SHN_UNDEF)  # a dropped section: .rel.BTF, ...
    if sym.ndx in shaped:
        bind, other = STB_GLOBAL, STV_HIDDEN
    return OutSymbol(sym.name, value, size, stype, bind, other, shndx)
