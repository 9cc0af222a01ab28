"""programs: entry programs of an object, with their subprograms appended (flattened).

Mirrors libbpf's bpf_object__add_programs and bpf_object__reloc_code: every executable section
but `.text` holds entry programs, one per global function symbol; a section without global
function symbols is one program, iproute2 style. Functions in `.text` (and static functions
of a program's own section) are subprograms: each program gets a copy of every subprogram
it reaches, appended after its own code, with call and callback immediates rewritten to the
new pc-relative distances.
"""

from __future__ import annotations

from dataclasses import dataclass

from pybpftool.elf import STB_GLOBAL, STB_WEAK, STT_FUNC, ElfFile, Section
from pybpftool.errors import ObjectError
from pybpftool.insn import BPF_PSEUDO_FUNC, INSN_SIZE, Insn, call_sites, set_imm, set_src
from pybpftool.relocations import CALL, FUNC, SectionRelocs, Target
from pybpftool.spec import CodeSpan, ProgramSpec, Reference, RefKind

TEXT_SECTION = ".text"


@dataclass(frozen=True, slots=True)
class Function:
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

    def add_section(self, sec: Section) -> None:
        if sec.size % INSN_SIZE:
            raise ObjectError(f"section {sec.name!r}: size {sec.size} is not a multiple of 8")
        self.code[sec.ndx] = self.elf.section_data(sec)
        self.functions[sec.ndx] = _functions_of(self.elf, sec)
        self.relocs[sec.ndx] = SectionRelocs({})

    def function_at(self, section: int, insn: int) -> Function | None:
        for fn in self.functions.get(section, ()):
            if fn.start <= insn < fn.end:
                return fn
        return None


def _functions_of(elf: ElfFile, sec: Section) -> list[Function]:
    """_functions_of: function symbols of a code section, by address; whole section if none."""
    count = sec.size // INSN_SIZE
    syms = sorted(
        (s for s in elf.symbols if s.shndx == sec.ndx and s.type == STT_FUNC),
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


class _Flattener:
    """_Flattener: builds one program: its code, then each subprogram it reaches, once."""

    def __init__(self, code: CodeSections, entry: Function) -> None:
        self.sections = code
        self.byteorder = code.elf.byteorder
        src = code.code[entry.section.ndx]
        self.buf = bytearray(src[entry.start * INSN_SIZE : entry.end * INSN_SIZE])
        self.placed: dict[tuple[int, int], int] = {(entry.section.ndx, entry.start): 0}
        self.layout = [CodeSpan(entry.section.name, entry.start, entry.end, 0)]
        self.refs: list[Reference] = []
        self.subprograms: list[str] = []
        self.queue = [(entry, 0)]

    def run(self) -> None:
        while self.queue:
            fn, at = self.queue.pop(0)
            self._relocate(fn, at)

    def _relocate(self, fn: Function, at: int) -> None:
        sec = fn.section.ndx
        relocs = self.sections.relocs[sec]
        for idx in relocs.within(fn.start, fn.end):
            target = relocs.by_insn[idx]
            pos = at + idx - fn.start
            if isinstance(target.kind, RefKind):
                self.refs.append(Reference(pos, target.kind, target.name, target.offset))
            else:
                self._link(pos, target, fn)
        code = self.sections.code[sec]
        for idx in call_sites(code, fn.start, fn.end):
            if idx in relocs.by_insn:
                continue
            insn = Insn(code, idx, self.byteorder)
            callee = idx + insn.imm + 1
            if insn.is_subprog_call and not fn.start <= callee < fn.end:
                self._link(at + idx - fn.start, Target(CALL, section=sec, insn=callee), fn)

    def _link(self, pos: int, target: Target, caller: Function) -> None:
        callee = self.sections.function_at(target.section, target.insn)
        if callee is None:
            raise ObjectError(
                f"'{caller.name}': call into {self.sections.elf.sections[target.section].name!r}"
                f" at instruction {target.insn}, where no function is"
            )
        key = (target.section, callee.start)
        if key not in self.placed:
            self.placed[key] = len(self.buf) // INSN_SIZE
            src = self.sections.code[target.section]
            self.buf += src[callee.start * INSN_SIZE : callee.end * INSN_SIZE]
            self.layout.append(
                CodeSpan(callee.section.name, callee.start, callee.end, self.placed[key])
            )
            self.subprograms.append(callee.name)
            self.queue.append((callee, self.placed[key]))
        dest = self.placed[key] + target.insn - callee.start
        set_imm(self.buf, pos, dest - pos - 1, self.byteorder)
        if target.kind == FUNC:
            set_src(self.buf, pos, BPF_PSEUDO_FUNC, self.byteorder)


def build_program(
    code: CodeSections, entry: Function, prog_type: tuple[int | None, int | None, bool]
) -> ProgramSpec:
    """build_program: flatten one entry function into a ProgramSpec."""
    flat = _Flattener(code, entry)
    flat.run()
    section = entry.section.name
    ptype, attach, sleepable = prog_type
    return ProgramSpec(
        name=entry.name,
        section=section.removeprefix("?"),  # libbpf forgets the "?" once autoload is off
        type=ptype,
        expected_attach_type=attach,
        insns=bytes(flat.buf),
        references=tuple(sorted(flat.refs, key=lambda r: r.insn)),
        subprograms=tuple(flat.subprograms),
        layout=tuple(flat.layout),
        sleepable=sleepable,
        autoload=not section.startswith("?"),
    )
