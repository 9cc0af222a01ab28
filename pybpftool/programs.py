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
import operator
from collections.abc import Iterator
from typing import NamedTuple

from pybpftool.elf import STB_GLOBAL, STB_WEAK, STT_FUNC, ElfFile, Section, Symbol
from pybpftool.errors import ObjectError
from pybpftool.insn import BPF_PSEUDO_FUNC, INSN_SIZE, Insn, call_sites, set_imm, set_src
from pybpftool.relocations import CALL, FUNC, SectionRelocs
from pybpftool.spec import CodeSpan, ProgramSpec, Reference

TEXT_SECTION = ".text"


class Function(NamedTuple):
    """Function: instructions [start, end) of code section `section`."""

    section: Section
    name: str
    start: int
    end: int
    is_global: bool


FunctionKey = tuple[int, int]  # (section index, first instruction): where a function is


# Call: (insn, callee, target, callback, key): instruction `insn` of a function calls (or
# takes the address of) function `callee`, which lies at `key`. `insn` counts from the calling
# function's start, `target` from the callee's start (a callback may point inside a function);
# `callback` marks an ld_imm64 BPF_PSEUDO_FUNC. A plain tuple, like Plan: both are internal,
# made once per function, and a named tuple costs four times as much to build.
Call = tuple[int, Function, int, bool, FunctionKey]

_CALL_INSN, _CALL_KEY = operator.itemgetter(0), operator.itemgetter(4)

# Plan: (refs, calls, callees): what one function refers to, each sorted by instruction (from
# its start). `refs` are its map, data and extern references, numbered from the function's
# start: as they stand for an entry function (placed at 0), shifted for a subprogram. `callees`
# holds each call's key in call order: programs with equal `callees` share a Block.
Plan = tuple[tuple[Reference, ...], list[Call], tuple[FunctionKey, ...]]


class Block(NamedTuple):
    """Block: the subprograms reached from one function's calls, one after another in the
    order libbpf appends them, each once, with the calls among them already patched.

    Calls are pc-relative, so the block is the same wherever it is appended: programs that
    call the same subprograms share it. `placed` gives each function's first instruction,
    and `refs` and `layout` count, from the block's start.
    """

    code: bytes
    placed: dict[FunctionKey, int]
    refs: tuple[Reference, ...]
    layout: tuple[CodeSpan, ...]
    names: tuple[str, ...]


class CodeSections:
    """CodeSections: every executable section's bytes, functions and resolved relocations."""

    def __init__(self, elf: ElfFile) -> None:
        self.elf = elf
        self.code: dict[int, bytes] = {}
        self.functions: dict[int, list[Function]] = {}
        self.relocs: dict[int, SectionRelocs] = {}
        self.entries: list[Function] = []  # entry programs, in section order
        self._plans: dict[int, Plan] = {}  # by id() of the Function
        self._blocks: dict[tuple[FunctionKey, ...], Block] = {}
        self._starts: dict[int, list[int]] = {}
        self._relocated: dict[int, list[int]] = {}  # each section's relocated instructions
        # Programs call the same few subprograms: each call target is looked up once.
        self._callees: dict[tuple[int, int], tuple[Function, int, FunctionKey]] = {}
        self._tails: dict[tuple[tuple[FunctionKey, ...], int], _Tail] = {}

    def add_section(self, sec: Section) -> None:
        """add_section: a code section: executable SHT_PROGBITS, not empty."""
        ndx, name, _type, _flags, offset, size = sec[:6]  # fields read by name cost more
        if size % INSN_SIZE:
            raise ObjectError(f"section {name!r}: size {size} is not a multiple of 8")
        elf = self.elf
        # Its bytes in the file (the section table's check keeps them inside it).
        self.code[ndx] = elf.data[offset : offset + size]
        funcs, entries = _functions_of(sec, elf.symbols_in(ndx, STT_FUNC))
        self.functions[ndx] = funcs
        self.relocs[ndx] = {}
        if name != TEXT_SECTION:
            self.entries.extend(entries)

    def subprogram_plan(self, fn: Function) -> Plan:
        """subprogram_plan: plan(fn), made once for a subprogram reached from many programs.
        (An entry function is planned once anyway: remembering its plan would only cost.)"""
        # Keyed by identity: a function is one object from add_section on (and hashing its
        # fields, section and all, costs more than a plan lookup should).
        plan = self._plans.get(id(fn))
        if plan is None:
            plan = self._plans[id(fn)] = self.plan(fn)
        return plan

    def plan(self, fn: Function) -> Plan:
        """plan: everything `fn` refers to: relocated instructions first, then calls between
        functions of one section that the compiler resolved itself (no relocation, but the
        callee must be appended)."""
        sec, _name, start, end, _global = fn  # unpacked once: field access by name is slow
        ndx = sec.ndx
        code = self.code[ndx]
        by_insn = self.relocs[ndx]
        if start or end * INSN_SIZE != len(code):  # not the whole section, as most are
            by_insn = self._relocs_within(ndx, start, end)
        refs, calls = [], []
        new = tuple.__new__  # the NamedTuple constructor minus a Python-level call
        for idx, (kind, target, offset, section, insn) in by_insn.items():
            if kind is CALL or kind is FUNC:
                calls.append(self._call(fn, idx, section, insn, kind is FUNC))
            else:
                refs.append(new(Reference, (idx - start, kind, target, offset)))
        for idx in call_sites(code, start, end, self.elf.byteorder):
            if idx in by_insn:
                continue
            callee = idx + Insn(code, idx, self.elf.byteorder).imm + 1
            if not start <= callee < end:
                calls.append(self._call(fn, idx, ndx, callee, False))
        if len(calls) > 1:
            calls.sort(key=_CALL_INSN)  # relocated and compiler-resolved calls, interleaved
        return tuple(refs), calls, tuple(map(_CALL_KEY, calls))

    def _relocs_within(self, ndx: int, start: int, end: int) -> SectionRelocs:
        """_relocs_within: the relocations of section `ndx` in instructions [start, end)."""
        by_insn = self.relocs[ndx]
        indexes = self._relocated.get(ndx)
        if indexes is None:
            indexes = self._relocated[ndx] = list(by_insn)
        lo, hi = bisect.bisect_left(indexes, start), bisect.bisect_left(indexes, end)
        return {idx: by_insn[idx] for idx in indexes[lo:hi]}

    def subprogram_block(self, plan: Plan) -> Block:
        """subprogram_block: the block a function with this plan gets appended; laid out once
        for every function that calls the same callees in the same order."""
        callees = plan[2]
        block = self._blocks.get(callees)
        if block is None:
            block = self._blocks[callees] = self.lay_out(plan, {})
        return block

    def tail(self, entry: FunctionKey, plan: Plan, base: int) -> _Tail:
        """tail: the block appended after entry function `entry` (`base` instructions long).

        Programs that call the same subprograms and are as long share it: their references
        and spans past the entry are the same tuples.
        """
        callees = plan[2]
        found = self._tails.get((callees, base))
        if found is None:
            found = self._tails[callees, base] = _tail_at(self.subprogram_block(plan), base)
        if entry in found.block.placed:
            # The block reaches back into the entry: lay it out for this entry alone, with
            # the entry at its true place (base instructions before the block).
            return _tail_at(self.lay_out(plan, {entry: -base}), base)
        return found

    def lay_out(self, plan: Plan, placed: dict[FunctionKey, int]) -> Block:
        """lay_out: the block of subprograms reached from `plan`'s calls; `placed` holds the
        functions that already have a place (counted from the block's start)."""
        bo = self.elf.byteorder
        buf = bytearray()
        refs: list[Reference] = []
        layout: list[CodeSpan] = []
        names: list[str] = []

        def place(fn: Function, key: FunctionKey) -> tuple[int, Plan]:
            dest = placed[key] = len(buf) // INSN_SIZE
            buf.extend(self.function_code(fn))
            layout.append(CodeSpan(fn.section.name, fn.start, fn.end, dest))
            names.append(fn.name)
            fn_plan = self.subprogram_plan(fn)
            refs.extend(_shifted(fn_plan[0], dest))
            return dest, fn_plan

        # libbpf's order (bpf_object__reloc_code): each function's calls in instruction order,
        # and a subprogram walked as soon as it is appended, before its caller's next call.
        # Functions are placed at increasing offsets, so references stay sorted by instruction.
        # `at` is where the calling function lies in the block; None for the calls of `plan`.
        walks: list[tuple[int | None, Iterator[Call]]] = [(None, iter(plan[1]))]
        while walks:
            at, calls = walks[-1]
            call = next(calls, None)
            if call is None:
                walks.pop()
                continue
            insn, callee, target, callback, key = call
            dest = placed.get(key)
            if dest is None:
                dest, callee_plan = place(callee, key)
                walks.append((dest, iter(callee_plan[1])))
            if at is not None:
                pos = at + insn
                _patch_call(buf, pos, dest + target - pos - 1, callback, bo)
        return Block(bytes(buf), placed, tuple(refs), tuple(layout), tuple(names))

    def _call(self, fn: Function, idx: int, section: int, insn: int, callback: bool) -> Call:
        """_call: the Call at instruction `idx` of `fn`'s section to instruction `insn` of
        section `section`."""
        found = self._callees.get((section, insn))
        if found is None:
            found = self._callees[section, insn] = self._callee_at(fn, section, insn)
        callee, target, key = found
        return idx - fn.start, callee, target, callback, key

    def _callee_at(
        self, fn: Function, section: int, insn: int
    ) -> tuple[Function, int, FunctionKey]:
        """_callee_at: the function a call from `fn` reaches, the called instruction counted
        from its start, and where it is."""
        callee = self.function_at(section, insn)
        if callee is None:
            raise ObjectError(
                f"'{fn.name}': call into {self.elf.sections[section].name!r}"
                f" at instruction {insn}, where no function is"
            )
        return callee, insn - callee.start, (section, callee.start)

    def function_at(self, section: int, insn: int) -> Function | None:
        """function_at: the function of `section` that contains instruction `insn`."""
        funcs = self.functions.get(section, [])
        starts = self._starts.get(section)
        if starts is None:
            starts = self._starts[section] = [f.start for f in funcs]
        i = bisect.bisect_right(starts, insn) - 1
        return funcs[i] if i >= 0 and insn < funcs[i].end else None

    def function_code(self, fn: Function) -> bytes:
        return self.code[fn.section.ndx][fn.start * INSN_SIZE : fn.end * INSN_SIZE]


def _address(sym: Symbol) -> int:
    return sym.value


def _functions_of(sec: Section, syms: list[Symbol]) -> tuple[list[Function], list[Function]]:
    """_functions_of: the functions of a code section by address, and its entry programs.

    `syms` are its STT_FUNC symbols, in a list of the caller's that is sorted in place. Its
    functions are those, or the whole section if it has none. Its entries (which matter
    outside .text) are its global functions; a section with none is one program (iproute2
    style), named after the function at its start if there is one.
    """
    size = sec.size
    count = size // INSN_SIZE
    if len(syms) > 1:
        syms.sort(key=_address)
    funcs: list[Function] = []
    entries: list[Function] = []
    # Each symbol unpacked once: reading a named tuple's fields by name costs more.
    for i, (_ndx, name, value, sym_size, _type, bind, _vis, _shndx) in enumerate(syms):
        if value % INSN_SIZE or value >= size:
            raise ObjectError(f"function '{name}': bad address {value} in {sec.name!r}")
        start = value // INSN_SIZE
        if sym_size:
            end = start + sym_size // INSN_SIZE
        else:  # up to the next function, or the section's end
            end = syms[i + 1].value // INSN_SIZE if i + 1 < len(syms) else count
        if end > count:
            raise ObjectError(f"function '{name}' runs past the end of {sec.name!r}")
        is_global = bind in (STB_GLOBAL, STB_WEAK)
        fn = tuple.__new__(Function, (sec, name, start, end, is_global))
        funcs.append(fn)
        if is_global:
            entries.append(fn)
    if not entries and count:
        whole = Function(
            sec, funcs[0].name if funcs and funcs[0].start == 0 else "", 0, count, True
        )
        entries.append(whole)
        if not funcs:
            funcs.append(whole)
    return funcs, entries


def build_program(
    code: CodeSections, entry: Function, prog_type: tuple[int | None, int | None, bool]
) -> ProgramSpec:
    """build_program: one entry function and every subprogram it reaches, as a ProgramSpec.

    Subprograms are appended in libbpf's order (depth first, each function's calls in
    instruction order), each once; call and callback immediates are rewritten to the new
    pc-relative distance.
    """
    sec, name, start, end, _global = entry  # unpacked once: field access by name is slow
    ndx, sec_name = sec.ndx, sec.name
    plan = code.plan(entry)
    refs, calls, _callees = plan
    insns = code.code[ndx][start * INSN_SIZE : end * INSN_SIZE]
    span = tuple.__new__(CodeSpan, (sec_name, start, end, 0))
    if calls:
        block, base, tail_refs, tail_layout = code.tail((ndx, start), plan, end - start)
        insns = _linked(insns, calls, block, base, code.elf.byteorder)
        references, layout, subprograms = refs + tail_refs, (span, *tail_layout), block.names
    else:
        references, layout, subprograms = refs, (span,), ()
    ptype, attach, sleepable = prog_type
    return ProgramSpec(
        name=name,
        section=sec_name.removeprefix("?"),  # libbpf forgets the "?" once autoload is off
        type=ptype,
        expected_attach_type=attach,
        insns=insns,
        references=references,
        subprograms=subprograms,
        layout=layout,
        sleepable=sleepable,
        autoload=not sec_name.startswith("?"),
    )


class _Tail(NamedTuple):
    """_Tail: a Block as appended after an entry function of `base` instructions: its
    references and code spans counted from the program's start."""

    block: Block
    base: int
    refs: tuple[Reference, ...]
    layout: tuple[CodeSpan, ...]


def _tail_at(block: Block, base: int) -> _Tail:
    new = tuple.__new__  # the NamedTuple constructor minus a Python-level call per record
    layout = [new(CodeSpan, (name, start, end, base + at)) for name, start, end, at in block.layout]
    return new(_Tail, (block, base, tuple(_shifted(block.refs, base)), tuple(layout)))


def _linked(entry: bytes, calls: list[Call], block: Block, base: int, bo: str) -> bytes:
    """_linked: the entry's code, each call pointing at its callee's place in `block`
    (appended `base` instructions on), followed by the block."""
    buf = bytearray(entry)
    placed = block.placed
    for idx, _callee, target, callback, key in calls:
        _patch_call(buf, idx, base + placed[key] + target - idx - 1, callback, bo)
    buf += block.code
    return bytes(buf)


def _shifted(refs: tuple[Reference, ...], by: int) -> list[Reference]:
    """_shifted: `refs` of code placed `by` instructions further on."""
    new = tuple.__new__  # the NamedTuple constructor minus a Python-level call per record
    return [new(Reference, (by + i, kind, name, off)) for i, kind, name, off in refs]


def _patch_call(buf: bytearray, pos: int, imm: int, callback: bool, bo: str) -> None:
    """_patch_call: point the call (or callback ld_imm64) at `pos` `imm` instructions on."""
    set_imm(buf, pos, imm, bo)
    if callback:
        set_src(buf, pos, BPF_PSEUDO_FUNC, bo)
