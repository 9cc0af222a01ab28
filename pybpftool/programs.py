"""programs: entry programs of an object, with their subprograms appended (flattened).

Mirrors libbpf's bpf_object__add_programs and bpf_object__reloc_code: every executable section
but `.text` holds entry programs, one per global function symbol; a section without global
function symbols is one program, iproute2 style. Functions in `.text` (and static functions
of a program's own section) are subprograms: each program gets a copy of every subprogram
it reaches, appended after its own code, with call and callback immediates rewritten to the
new pc-relative distances.
"""

from __future__ import annotations

import bisect
from typing import NamedTuple

from pybpftool.elf import STB_GLOBAL, STB_WEAK, STT_FUNC, ElfFile, Section
from pybpftool.errors import ObjectError
from pybpftool.insn import BPF_PSEUDO_FUNC, INSN_SIZE, Insn, call_sites, set_imm, set_src
from pybpftool.relocations import CALL, FUNC, SectionRelocs, Target
from pybpftool.spec import CodeSpan, ProgramSpec, Reference, RefKind

TEXT_SECTION = ".text"


class Function(NamedTuple):
    """Function: instructions [start, end) of code section `section`."""

    section: Section
    name: str
    start: int
    end: int
    is_global: bool


class CodeSections:
    """CodeSections: every executable section's bytes, functions and resolved relocations."""

    def __init__(self, elf: ElfFile) -> None:
        self.elf = elf
        self.code: dict[int, bytes] = {}
        self.functions: dict[int, list[Function]] = {}
        self.relocs: dict[int, SectionRelocs] = {}
        self._plans: dict[tuple[int, int, int], list[tuple[int, Target]]] = {}
        self._starts: dict[int, list[int]] = {}

    def add_section(self, sec: Section) -> None:
        if sec.size % INSN_SIZE:
            raise ObjectError(f"section {sec.name!r}: size {sec.size} is not a multiple of 8")
        self.code[sec.ndx] = self.elf.section_data(sec)
        self.functions[sec.ndx] = _functions_of(self.elf, sec)
        self.relocs[sec.ndx] = SectionRelocs({})

    def link_plan(self, fn: Function) -> list[tuple[int, Target]]:
        """link_plan: (instruction relative to fn.start, target) of everything fn refers to.

        Relocated instructions first, then calls between functions of one section that the
        compiler resolved itself (no relocation, but the callee must still be appended). A
        subprogram reached from many programs is planned once.
        """
        key = (fn.section.ndx, fn.start, fn.end)  # two functions may share a start
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._plan(fn)
        return plan

    def _plan(self, fn: Function) -> list[tuple[int, Target]]:
        sec = fn.section.ndx
        relocs = self.relocs[sec]
        plan = [(idx - fn.start, relocs.by_insn[idx]) for idx in relocs.within(fn.start, fn.end)]
        code = self.code[sec]
        for idx in call_sites(code, fn.start, fn.end, self.elf.byteorder):
            if idx in relocs.by_insn:
                continue
            callee = idx + Insn(code, idx, self.elf.byteorder).imm + 1
            if not fn.start <= callee < fn.end:
                plan.append((idx - fn.start, Target(CALL, section=sec, insn=callee)))
        return plan

    def function_at(self, section: int, insn: int) -> Function | None:
        """function_at: the function of `section` that contains instruction `insn`."""
        funcs = self.functions.get(section, [])
        starts = self._starts.get(section)
        if starts is None:
            starts = self._starts[section] = [f.start for f in funcs]
        i = bisect.bisect_right(starts, insn) - 1
        return funcs[i] if i >= 0 and insn < funcs[i].end else None


def _functions_of(elf: ElfFile, sec: Section) -> list[Function]:
    """_functions_of: function symbols of a code section, by address; whole section if none."""
    count = sec.size // INSN_SIZE
    syms = sorted(
        (s for s in elf.symbols_in(sec.ndx) if s.type == STT_FUNC),
        key=lambda s: s.value,
    )
    out: list[Function] = []
    for i, sym in enumerate(syms):
        if sym.value % INSN_SIZE or sym.value >= sec.size:
            raise ObjectError(f"function '{sym.name}': bad address {sym.value} in {sec.name!r}")
        start = sym.value // INSN_SIZE
        nxt = syms[i + 1].value // INSN_SIZE if i + 1 < len(syms) else count
        end = start + sym.size // INSN_SIZE if sym.size else nxt
        if end > count:
            raise ObjectError(f"function '{sym.name}' runs past the end of {sec.name!r}")
        out.append(Function(sec, sym.name, start, end, sym.bind in (STB_GLOBAL, STB_WEAK)))
    if not out and count:
        out.append(Function(sec, "", 0, count, True))
    return out


def entry_functions(code: CodeSections) -> list[Function]:
    """entry_functions: one per global function of each non-.text code section.

    A section with no global function is one program (iproute2 style), named after the
    function at its start if there is one.
    """
    entries: list[Function] = []
    for index, funcs in code.functions.items():
        sec = code.elf.sections[index]
        if sec.name == TEXT_SECTION:
            continue
        globals_ = [f for f in funcs if f.is_global]
        if globals_:
            entries.extend(globals_)
        elif funcs:
            name = funcs[0].name if funcs[0].start == 0 else ""
            entries.append(Function(sec, name, 0, sec.size // INSN_SIZE, True))
    return entries


def build_program(
    code: CodeSections, entry: Function, prog_type: tuple[int | None, int | None, bool]
) -> ProgramSpec:
    """build_program: one entry function and every subprogram it reaches, as a ProgramSpec.

    Subprograms are appended in the order they are first reached, each once; call and
    callback immediates are rewritten to the new pc-relative distance.
    """
    sec = entry.section
    buf = bytearray(code.code[sec.ndx][entry.start * INSN_SIZE : entry.end * INSN_SIZE])
    placed: dict[tuple[int, int], int] = {(sec.ndx, entry.start): 0}
    layout = [CodeSpan(sec.name, entry.start, entry.end, 0)]
    refs: list[Reference] = []
    subprograms: list[str] = []
    queue = [(entry, 0)]
    # The queue grows while it is walked; functions are placed at increasing offsets and
    # each plan is sorted, so references come out sorted by instruction.
    for fn, at in queue:
        for idx, target in code.link_plan(fn):
            pos = at + idx
            if isinstance(target.kind, RefKind):
                refs.append(Reference(pos, target.kind, target.name, target.offset))
                continue
            callee = code.function_at(target.section, target.insn)
            if callee is None:
                raise ObjectError(
                    f"'{fn.name}': call into {code.elf.sections[target.section].name!r}"
                    f" at instruction {target.insn}, where no function is"
                )
            key = (target.section, callee.start)
            dest = placed.get(key)
            if dest is None:
                dest = placed[key] = len(buf) // INSN_SIZE
                buf += code.code[target.section][callee.start * INSN_SIZE : callee.end * INSN_SIZE]
                layout.append(CodeSpan(callee.section.name, callee.start, callee.end, dest))
                subprograms.append(callee.name)
                queue.append((callee, dest))
            set_imm(buf, pos, dest + target.insn - callee.start - pos - 1, code.elf.byteorder)
            if target.kind is FUNC:
                set_src(buf, pos, BPF_PSEUDO_FUNC, code.elf.byteorder)
    ptype, attach, sleepable = prog_type
    return ProgramSpec(
        name=entry.name,
        section=sec.name.removeprefix("?"),  # libbpf forgets the "?" once autoload is off
        type=ptype,
        expected_attach_type=attach,
        insns=bytes(buf),
        references=tuple(refs),
        subprograms=tuple(subprograms),
        layout=tuple(layout),
        sleepable=sleepable,
        autoload=not sec.name.startswith("?"),
    )
