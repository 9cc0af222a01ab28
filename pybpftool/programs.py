"""programs: entry programs of an object, and what each must be linked with.

Mirrors libbpf's bpf_object__add_programs and bpf_object__reloc_code: every executable section
but `.text` holds entry programs, one per global function symbol; a section without global
function symbols is one program, iproute2 style. Functions in `.text` (and static functions
of a program's own section) are subprograms: each program gets a copy of every subprogram
it reaches, appended after its own code, with call and callback immediates rewritten to the
new pc-relative distances.

That copy is made only when a program's instructions are read (linking.ProgramCode): many
programs calling one large subprogram share one Block, which says where each subprogram goes
and which calls to patch, without copying any code.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator

from pybpftool.elf import STB_GLOBAL, STB_WEAK, STT_FUNC, ElfFile, Section, Symbol
from pybpftool.errors import ObjectError
from pybpftool.insn import INSN_SIZE, Insn, call_sites
from pybpftool.linking import Block, Call, CallPatch, Function, FunctionKey, Plan, ProgramCode
from pybpftool.relocations import CALL, FUNC, SectionRelocs
from pybpftool.spec import ProgramSpec, Reference, RefKind

TEXT_SECTION = ".text"


class CodeSections:
    """CodeSections: every executable section's bytes, functions and resolved relocations,
    and the plans and blocks of subprograms laid out from them (each made once)."""

    def __init__(self, elf: ElfFile) -> None:
        self.byteorder = elf.byteorder
        self.code: dict[int, bytes] = {}
        self.functions: dict[int, list[Function]] = {}
        self.relocs: dict[int, SectionRelocs] = {}
        self.entries: list[Function] = []  # entry programs, in section order
        self._elf = elf
        self._starts: dict[int, list[int]] = {}  # each section's function starts
        self._relocated: dict[int, list[int]] = {}  # each section's relocated instructions
        self._plans: dict[Function, Plan] = {}  # of subprograms, reached from many programs
        self._blocks: dict[tuple[FunctionKey, ...], Block] = {}  # by the callees they serve

    def add_section(self, sec: Section) -> None:
        """add_section: a code section: executable SHT_PROGBITS, not empty."""
        if sec.size % INSN_SIZE:
            raise ObjectError(f"section {sec.name!r}: size {sec.size} is not a multiple of 8")
        self.code[sec.ndx] = self._elf.section_data(sec)
        funcs, entries = _functions_of(sec, self._elf.symbols_in(sec.ndx, STT_FUNC))
        self.functions[sec.ndx] = funcs
        self._starts[sec.ndx] = [fn.start for fn in funcs]
        self.relocs[sec.ndx] = {}
        if sec.name != TEXT_SECTION:
            self.entries.extend(entries)

    def function_code(self, fn: Function) -> bytes:
        """function_code: the instructions of `fn`."""
        return self.code[fn.section.ndx][fn.start * INSN_SIZE : fn.end * INSN_SIZE]

    def function_at(self, section: int, insn: int) -> Function | None:
        """function_at: the function of `section` that contains instruction `insn`."""
        funcs = self.functions.get(section, [])
        i = bisect.bisect_right(self._starts.get(section, []), insn) - 1
        return funcs[i] if i >= 0 and insn < funcs[i].end else None

    def plan(self, fn: Function) -> Plan:
        """plan: everything `fn` refers to: relocated instructions first, then calls between
        functions of one section that the compiler resolved itself (no relocation, but the
        callee must be appended)."""
        ndx, start, end = fn.section.ndx, fn.start, fn.end
        code = self.code[ndx]
        refs, calls = [], []
        relocated = self._relocs_within(ndx, start, end)
        for idx, target in relocated.items():
            if target.kind is CALL or target.kind is FUNC:
                calls.append(self._call(fn, idx, target.section, target.insn, target.kind is FUNC))
            else:
                assert isinstance(target.kind, RefKind)
                if target.kind is not RefKind.EXTERN and idx + 1 >= end:
                    raise ObjectError(
                        f"function '{fn.name}': ld_imm64 at instruction {idx - start} runs past"
                        " the function's end"
                    )
                refs.append(Reference(idx - start, target.kind, target.name, target.offset))
        for idx in call_sites(code, start, end, self.byteorder):
            callee = idx + Insn(code, idx, self.byteorder).imm + 1
            if idx not in relocated and not start <= callee < end:
                calls.append(self._call(fn, idx, ndx, callee, False))
        calls.sort(key=lambda call: call.insn)  # relocated and compiler-resolved, interleaved
        return Plan(tuple(refs), tuple(calls))

    def subprogram_plan(self, fn: Function) -> Plan:
        """subprogram_plan: plan(fn), made once for a subprogram reached from many programs."""
        plan = self._plans.get(fn)
        if plan is None:
            plan = self._plans[fn] = self.plan(fn)
        return plan

    def shared_block(self, plan: Plan) -> Block:
        """shared_block: the block appended after every function that calls what `plan` calls,
        in the same order; laid out once (which plans every subprogram it reaches)."""
        callees = plan.callees
        block = self._blocks.get(callees)
        if block is None:
            block = self._blocks[callees] = self.lay_out(plan.calls, {})
        return block

    def block_for(self, entry: Function, plan: Plan) -> Block | None:
        """block_for: the subprograms appended after `entry`, whose plan is `plan`; None when
        it calls none.

        That is the shared block, unless it reaches back into the entry itself: then the
        entry's own copy is the callee, base instructions before the block, and the block is
        laid out for this entry alone (of the functions the shared block has planned).
        """
        if not plan.calls:
            return None
        shared = self.shared_block(plan)
        if entry.key in shared.placed:
            return self.lay_out(plan.calls, {entry.key: -(entry.end - entry.start)})
        return shared

    def lay_out(self, calls: tuple[Call, ...], placed: dict[FunctionKey, int]) -> Block:
        """lay_out: the block of subprograms reached from `calls`; `placed` holds the functions
        that already have a place (counted from the block's start)."""
        functions: list[Function] = []
        starts: list[int] = []
        refs: list[Reference] = []
        patches: list[CallPatch] = []
        size = 0
        # libbpf's order (bpf_object__reloc_code): each function's calls in instruction order,
        # and a subprogram walked as soon as it is appended, before its caller's next call.
        # Functions are placed at increasing offsets, so references stay sorted by instruction.
        # `at` is where the calling function lies in the block; None for `calls` themselves.
        walks: list[tuple[int | None, Iterator[Call]]] = [(None, iter(calls))]
        while walks:
            at, pending = walks[-1]
            call = next(pending, None)
            if call is None:
                walks.pop()
                continue
            dest = placed.get(call.callee.key)
            if dest is None:
                callee = call.callee
                dest = placed[callee.key] = size
                functions.append(callee)
                starts.append(dest)
                size += callee.end - callee.start
                callee_plan = self.subprogram_plan(callee)
                refs += [ref._replace(insn=dest + ref.insn) for ref in callee_plan.refs]
                walks.append((dest, iter(callee_plan.calls)))
            if at is not None:
                pos = at + call.insn
                patches.append(CallPatch(pos, dest + call.target - pos - 1, call.callback))
        return Block(tuple(functions), tuple(starts), placed, tuple(refs), tuple(patches), size)

    def _relocs_within(self, ndx: int, start: int, end: int) -> SectionRelocs:
        """_relocs_within: the relocations of section `ndx` in instructions [start, end)."""
        by_insn = self.relocs[ndx]
        indexes = self._relocated.get(ndx)
        if indexes is None:
            indexes = self._relocated[ndx] = list(by_insn)  # ascending
        lo, hi = bisect.bisect_left(indexes, start), bisect.bisect_left(indexes, end)
        return {idx: by_insn[idx] for idx in indexes[lo:hi]}

    def _call(self, fn: Function, idx: int, section: int, insn: int, callback: bool) -> Call:
        """_call: the Call at instruction `idx` of `fn`'s section to instruction `insn` of
        section `section`."""
        callee = self.function_at(section, insn)
        if callee is None:
            raise ObjectError(
                f"'{fn.name}': call into {self._elf.sections[section].name!r}"
                f" at instruction {insn}, where no function is"
            )
        return Call(idx - fn.start, callee, insn - callee.start, callback)


def _functions_of(sec: Section, syms: list[Symbol]) -> tuple[list[Function], list[Function]]:
    """_functions_of: the functions of a code section by address, and its entry programs.

    `syms` are its STT_FUNC symbols. Its functions are those, or the whole section if it has
    none. Its entries (which matter outside .text) are its global functions; a section with
    none is one program (iproute2 style), named after the function at its start if there is
    one.
    """
    count = sec.size // INSN_SIZE
    syms = sorted(syms, key=lambda sym: sym.value)
    funcs: list[Function] = []
    for i, sym in enumerate(syms):
        if sym.value % INSN_SIZE or sym.value >= sec.size:
            raise ObjectError(f"function '{sym.name}': bad address {sym.value} in {sec.name!r}")
        start = sym.value // INSN_SIZE
        if sym.size:
            end = start + sym.size // INSN_SIZE
        else:  # up to the next function, or the section's end
            end = syms[i + 1].value // INSN_SIZE if i + 1 < len(syms) else count
        if end > count:
            raise ObjectError(f"function '{sym.name}' runs past the end of {sec.name!r}")
        funcs.append(Function(sec, sym.name, start, end, sym.bind in (STB_GLOBAL, STB_WEAK)))
    entries = [fn for fn in funcs if fn.is_global]
    if not entries and count:
        name = funcs[0].name if funcs and funcs[0].start == 0 else ""
        whole = Function(sec, name, 0, count, True)
        entries.append(whole)
        if not funcs:
            funcs.append(whole)
    return funcs, entries


def build_program(
    code: CodeSections, entry: Function, prog_type: tuple[int | None, int | None, bool]
) -> ProgramSpec:
    """build_program: one entry function and every subprogram it reaches, as a ProgramSpec
    (linked when its instructions are read)."""
    ptype, attach, sleepable = prog_type
    section = entry.section.name
    plan = code.plan(entry)
    if plan.calls:
        code.shared_block(plan)  # plans each subprogram it reaches: the parse reports a bad one
    return ProgramSpec(
        name=entry.name,
        section=section.removeprefix("?"),  # libbpf forgets the "?" once autoload is off
        type=ptype,
        expected_attach_type=attach,
        code=ProgramCode(code, entry, plan),
        sleepable=sleepable,
        autoload=not section.startswith("?"),
    )
