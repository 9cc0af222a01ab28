"""relocations: what each relocated instruction of a code section refers to.

Mirrors libbpf's bpf_object__collect_prog_relos / bpf_program__record_reloc. A relocation in
`.rel<section>` names a symbol; the symbol's section decides the meaning:

- legacy `maps` or BTF `.maps`       -> map reference (ld_imm64, BPF_PSEUDO_MAP_FD)
- a global data section              -> map value reference (ld_imm64, BPF_PSEUDO_MAP_VALUE)
- `.text` (call or ld_imm64)         -> BPF-to-BPF call or callback address
- undefined (SHN_UNDEF)              -> extern (kfunc, ksym, kconfig) resolved at load time
"""

# Annotations are evaluated here (no `from __future__ import annotations`): a NamedTuple
# field given as a string costs typing a compile() when the class is made.

from collections.abc import Callable, Iterable
from typing import NamedTuple

from pybpftool.elf import RELOCATION_NAMES, SHN_UNDEF, ElfFile, Relocation, Section, Symbol
from pybpftool.errors import ObjectError
from pybpftool.insn import BPF_CALL, BPF_LD_IMM64, BPF_PSEUDO_CALL, INSN_SIZE, Insn
from pybpftool.spec import RefKind


class Target(NamedTuple):
    """Target: what one relocated instruction refers to.

    kind is a RefKind for data references, or "call"/"func" for code references, in which case
    `section` and `insn` locate the callee.
    """

    kind: RefKind | str
    name: str = ""
    offset: int = 0
    section: int = 0
    insn: int = 0


CALL, FUNC = "call", "func"


# The resolved relocations of one code section: each relocated instruction (counted from the
# section's start) to its Target, in ascending order of instruction.
SectionRelocs = dict[int, Target]


MapResolver = Callable[[Symbol, int], Target | None]


class Relocator:
    """Relocator: resolves the relocations of an object's code sections.

    `resolve_map(symbol, insn_imm)` answers map and data references (None if the symbol's
    section holds no maps); `text_index` is the index of `.text`, the only section calls and
    callbacks may target (libbpf's rule). A target depends only on the symbol and the
    relocated instruction, and programs refer to the same maps, data and subprograms over
    and over, so answers are remembered by those inputs.
    """

    def __init__(self, elf: ElfFile, resolve_map: MapResolver, text_index: int | None) -> None:
        self.symbols = elf.symbols
        self.resolve_map = resolve_map
        self.text_index = text_index
        self.byteorder = elf.byteorder
        self._known: dict[tuple[int, int, bytes, bool], Target] = {}

    def resolve(self, code_sec: Section, code: bytes, rels: Iterable[Relocation]) -> SectionRelocs:
        """resolve: map each relocated instruction of `code_sec` to its Target; `rels` are the
        records of the section's relocation sections."""
        last = code_sec.size - INSN_SIZE  # the offset of the section's last instruction
        out: dict[int, Target] = {}
        for rel in rels:
            if rel.offset % INSN_SIZE or not 0 <= rel.offset <= last:
                raise ObjectError(f"{_where(rel, code_sec)}: {_malformed(rel, code_sec.size)}")
            # The answer depends on the relocation (symbol, type) and the instruction (and
            # whether it is the last, where an ld_imm64 is cut short), so all go into the key
            # whole: a known key was checked when it was first seen.
            insn, is_last = code[rel.offset : rel.offset + INSN_SIZE], rel.offset == last
            key = (rel.sym, rel.type, insn, is_last)
            target = self._known.get(key)
            if target is None:
                target = self._known[key] = self._first_seen(code_sec, rel, insn, is_last)
            out[rel.offset // INSN_SIZE] = target
        return dict(sorted(out.items()))

    def _first_seen(self, code_sec: Section, rel: Relocation, insn: bytes, last: bool) -> Target:
        if rel.type not in RELOCATION_NAMES or not 0 < rel.sym < len(self.symbols):
            raise ObjectError(f"{_where(rel, code_sec)}: {_malformed(rel, code_sec.size)}")
        code = Insn(insn, 0, self.byteorder)
        try:
            return self._target(rel.sym, code, last)
        except _BadRelocation as err:
            raise ObjectError(f"{_where(rel, code_sec)}: {err}") from None

    def _target(self, sym_index: int, insn: Insn, last: bool) -> Target:
        """_target: what one relocation means; `last`: its instruction is the section's last."""
        sym = self.symbols[sym_index]
        if sym.shndx == SHN_UNDEF:
            if not sym.name:
                raise _BadRelocation("relocation against an unnamed undefined symbol")
            return Target(RefKind.EXTERN, sym.name)
        if insn.code == BPF_CALL:
            return _call_target(insn.src, insn.imm, sym, self.text_index)
        if insn.code != BPF_LD_IMM64:
            raise _BadRelocation(f"relocation for a non-ld_imm64 instruction (code {insn.code:#x})")
        if last:
            raise _BadRelocation("ld_imm64 instruction is truncated")
        if self.text_index is not None and sym.shndx == self.text_index:
            off = sym.value + insn.imm
            if off % INSN_SIZE:
                raise _BadRelocation("callback address is not instruction-aligned")
            return Target(FUNC, sym.name, section=self.text_index, insn=off // INSN_SIZE)
        target = self.resolve_map(sym, insn.imm)
        if target is None:
            raise _BadRelocation(f"reference to '{sym.name}' in a section that holds no maps")
        return target


def _malformed(rel: Relocation, size: int) -> str:
    if rel.type not in RELOCATION_NAMES:
        return f"unsupported relocation type {rel.type}"
    if rel.offset % INSN_SIZE or rel.offset + INSN_SIZE > size:
        return "outside its section or not instruction-aligned"
    return f"unknown symbol index {rel.sym}"


class _BadRelocation(Exception):
    """_BadRelocation: what is wrong with one relocation; the caller adds where it is."""


def _where(rel: Relocation, code_sec: Section) -> str:
    return f"relocation at offset {rel.offset} of section {code_sec.name!r}"


def _call_target(src: int, imm: int, sym: Symbol, text_index: int | None) -> Target:
    if src != BPF_PSEUDO_CALL:
        raise _BadRelocation(f"relocation for a helper call (src_reg {src})")
    if text_index is None or sym.shndx != text_index:
        raise _BadRelocation(f"bad call relocation against '{sym.name}', not in .text")
    if sym.value % INSN_SIZE:
        raise _BadRelocation(f"bad call relocation offset {sym.value}")
    return Target(CALL, sym.name, section=text_index, insn=sym.value // INSN_SIZE + imm + 1)
