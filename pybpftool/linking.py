"""linking: a program's code before and after its subprograms are appended.

A parsed program is a ProgramCode: its entry function, what the entry refers to and calls,
and the object's code sections. Its linked instructions, references and layout are built
when asked for, and nothing is kept: a parse or `object show` links no program, a load links
the programs it loads, each once. Many programs that call one large subprogram share one
Block, which lists where each subprogram goes and which calls to point where, but holds no
copy of their code.

Annotations here are evaluated when defined (no `from __future__ import annotations`):
typing.NamedTuple compiles a string annotation into a ForwardRef per field, which a cold
attach, defining these records, paid for.
"""

from typing import TYPE_CHECKING, NamedTuple

from pybpftool.elf import Section
from pybpftool.insn import BPF_PSEUDO_FUNC, set_imm, set_src
from pybpftool.spec import CodeSpan, Reference, RefKind

if TYPE_CHECKING:
    from pybpftool.programs import CodeSections


class FunctionKey(NamedTuple):
    """FunctionKey: where a function starts: its section index and first instruction."""

    section: int
    start: int


class Function(NamedTuple):
    """Function: instructions [start, end) of code section `section`."""

    section: Section
    name: str
    start: int
    end: int
    is_global: bool

    @property
    def key(self) -> FunctionKey:
        return FunctionKey(self.section.ndx, self.start)


class Call(NamedTuple):
    """Call: instruction `insn` of a function (counted from the function's start) calls
    `callee`, or takes its address (`callback`: an ld_imm64 of BPF_PSEUDO_FUNC), at `target`
    instructions from the callee's start (a callback may point inside a function)."""

    insn: int
    callee: Function
    target: int
    callback: bool


class Plan(NamedTuple):
    """Plan: what one function refers to, each sorted by instruction (counted from the
    function's start): its map, data and extern references, and its calls."""

    refs: tuple[Reference, ...]
    calls: tuple[Call, ...]

    @property
    def callees(self) -> tuple[FunctionKey, ...]:
        """callees: each call's callee, in call order: functions with equal callees are
        appended the same block."""
        return tuple(call.callee.key for call in self.calls)


class CallPatch(NamedTuple):
    """CallPatch: the call (or callback ld_imm64) at instruction `insn` gets immediate `imm`."""

    insn: int
    imm: int
    callback: bool


class Block(NamedTuple):
    """Block: the subprograms reached from one function's calls, one after another in the
    order libbpf appends them, each once: `functions[i]` starts at instruction `starts[i]`
    of the block, which is `size` instructions long.

    Calls are pc-relative, so a block is the same wherever it is appended: programs that
    call the same subprograms share it. `placed` gives each function's first instruction
    (counted from the block's start, like `refs` and the calls among the subprograms that
    `patches` points at their callees).
    """

    functions: tuple[Function, ...]
    starts: tuple[int, ...]
    placed: dict[FunctionKey, int]
    refs: tuple[Reference, ...]
    patches: tuple[CallPatch, ...]
    size: int


class LinkedCode(NamedTuple):
    """LinkedCode: a program's instructions with its subprograms appended, what they refer
    to (counted from the program's start), and where each function's copy lies."""

    insns: bytes
    references: tuple[Reference, ...]
    layout: tuple[CodeSpan, ...]


class ProgramCode:
    """ProgramCode: an entry function with the plan of what it refers to and calls, linked
    with the subprograms it reaches when asked for."""

    __slots__ = ("_sections", "entry", "plan")

    def __init__(self, sections: "CodeSections", entry: Function, plan: Plan) -> None:
        self._sections = sections
        self.entry = entry
        self.plan = plan

    def block(self) -> Block | None:
        """block: the subprograms appended after the entry; None if it calls none."""
        return self._sections.block_for(self.entry, self.plan)

    @property
    def entry_size(self) -> int:
        return self.entry.end - self.entry.start

    @property
    def insn_count(self) -> int:
        """insn_count: the instructions of the linked program."""
        block = self.block()
        return self.entry_size + (block.size if block is not None else 0)

    @property
    def subprograms(self) -> tuple[str, ...]:
        """subprograms: the names of the appended functions, in their order."""
        block = self.block()
        return tuple(fn.name for fn in block.functions) if block is not None else ()

    def maps_used(self) -> tuple[str, ...]:
        """maps_used: the maps (and data maps) the linked program refers to, first use first."""
        block = self.block()
        refs = (*self.plan.refs, *block.refs) if block is not None else self.plan.refs
        return tuple(dict.fromkeys(ref.target for ref in refs if ref.kind is not RefKind.EXTERN))

    def references(self) -> tuple[Reference, ...]:
        """references: the entry's references, then the block's, counted from the start."""
        block = self.block()
        if block is None:
            return self.plan.refs
        base = self.entry_size
        return (*self.plan.refs, *(ref._replace(insn=base + ref.insn) for ref in block.refs))

    def layout(self) -> tuple[CodeSpan, ...]:
        """layout: the code span of the entry (at 0), then of each appended function."""
        entry = self.entry
        spans = [CodeSpan(entry.section.name, entry.start, entry.end, 0)]
        block = self.block()
        if block is not None:
            base = self.entry_size
            for fn, at in zip(block.functions, block.starts, strict=True):
                spans.append(CodeSpan(fn.section.name, fn.start, fn.end, base + at))
        return tuple(spans)

    def insns(self) -> bytes:
        """insns: the entry's code, each call pointing at its callee's place, followed by
        every appended function's code, the calls among them patched likewise."""
        sections, bo = self._sections, self._sections.byteorder
        buf = bytearray(sections.function_code(self.entry))
        block = self.block()
        if block is None:
            return bytes(buf)
        base = self.entry_size
        for call in self.plan.calls:
            dest = base + block.placed[call.callee.key] + call.target
            _patch_call(buf, call.insn, dest - call.insn - 1, call.callback, bo)
        for fn in block.functions:
            buf += sections.function_code(fn)
        for patch in block.patches:
            _patch_call(buf, base + patch.insn, patch.imm, patch.callback, bo)
        return bytes(buf)

    def link(self) -> LinkedCode:
        """link: the linked program, all three parts."""
        return LinkedCode(self.insns(), self.references(), self.layout())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ProgramCode):
            return NotImplemented
        return self is other or self.link() == other.link()

    def __hash__(self) -> int:
        return hash(self.layout())

    def __repr__(self) -> str:
        entry = self.entry
        return (
            f"ProgramCode({entry.name!r} in {entry.section.name!r} [{entry.start}, {entry.end}),"
            f" subprograms={self.subprograms!r})"
        )


def _patch_call(buf: bytearray, pos: int, imm: int, callback: bool, bo: str) -> None:
    """_patch_call: point the call (or callback ld_imm64) at `pos` `imm` instructions on."""
    set_imm(buf, pos, imm, bo)
    if callback:
        set_src(buf, pos, BPF_PSEUDO_FUNC, bo)
