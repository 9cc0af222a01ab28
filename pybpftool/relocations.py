"""relocations: what each relocated instruction of a code section refers to.

Mirrors libbpf's bpf_object__collect_prog_relos / bpf_program__record_reloc. A relocation in
`.rel<section>` names a symbol; the symbol's section decides the meaning:

- legacy `maps` or BTF `.maps`       -> map reference (ld_imm64, BPF_PSEUDO_MAP_FD)
- a global data section              -> map value reference (ld_imm64, BPF_PSEUDO_MAP_VALUE)
- `.text` (call or ld_imm64)         -> BPF-to-BPF call or callback address
- undefined (SHN_UNDEF)              -> extern (kfunc, ksym, kconfig) resolved at load time
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

from pybpftool.elf import RELOCATION_NAMES, SHN_UNDEF, ElfFile, Relocation, Section, Symbol
from pybpftool.errors import ObjectError
from pybpftool.insn import INSN_SIZE, Insn
from pybpftool.spec import RefKind


@dataclass(frozen=True, slots=True)
class Target:
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


class SectionRelocs:
    """SectionRelocs: the resolved relocations of one code section, sorted by instruction."""

    __slots__ = ("by_insn", "indexes")

    def __init__(self, by_insn: dict[int, Target]) -> None:
        self.by_insn = by_insn
        self.indexes = sorted(by_insn)

    def within(self, start: int, end: int) -> list[int]:
        """within: relocated instruction indexes in [start, end)."""
        lo = bisect.bisect_left(self.indexes, start)
        hi = bisect.bisect_left(self.indexes, end)
        return self.indexes[lo:hi]


MapResolver = Callable[[Symbol, int], Target | None]


def resolve_section_relocs(
    elf: ElfFile,
    code_sec: Section,
    code: bytes,
    rels: list[Relocation],
    resolve_map: MapResolver,
    text_index: int | None,
) -> SectionRelocs:
    """resolve_section_relocs: map each relocated instruction of `code_sec` to its Target.

    `resolve_map(symbol, insn_imm)` answers map and data references (None if the symbol's
    section holds no maps); `text_index` is the index of `.text`, the only section calls and
    callbacks may target (libbpf's rule).
    """
    symbols = elf.symbols
    out: dict[int, Target] = {}
    for rel in rels:
        where = f"relocation at offset {rel.offset} of section {code_sec.name!r}"
        if rel.type not in RELOCATION_NAMES:
            raise ObjectError(f"{where}: unsupported relocation type {rel.type}")
        if rel.offset % INSN_SIZE or rel.offset + INSN_SIZE > code_sec.size:
            raise ObjectError(f"{where}: outside its section or not instruction-aligned")
        if not 0 < rel.sym < len(symbols):
            raise ObjectError(f"{where}: unknown symbol index {rel.sym}")
        idx = rel.offset // INSN_SIZE
        out[idx] = _target(
            Insn(code, idx, elf.byteorder),
            symbols[rel.sym],
            where,
            resolve_map,
            text_index,
            code_sec.size // INSN_SIZE - idx,
        )
    return SectionRelocs(out)


def _target(
    insn: Insn,
    sym: Symbol,
    where: str,
    resolve_map: MapResolver,
    text_index: int | None,
    remaining: int,
) -> Target:
    if sym.shndx == SHN_UNDEF:
        if not sym.name:
            raise ObjectError(f"{where}: relocation against an unnamed undefined symbol")
        return Target(RefKind.EXTERN, sym.name)
    if insn.is_call:
        return _call_target(insn, sym, where, text_index)
    if not insn.is_ld_imm64:
        raise ObjectError(
            f"{where}: relocation for a non-ld_imm64 instruction (code {insn.code:#x})"
        )
    if remaining < 2:
        raise ObjectError(f"{where}: ld_imm64 instruction is truncated")
    if text_index is not None and sym.shndx == text_index:
        off = sym.value + insn.imm
        if off % INSN_SIZE:
            raise ObjectError(f"{where}: callback address is not instruction-aligned")
        return Target(FUNC, sym.name, section=text_index, insn=off // INSN_SIZE)
    target = resolve_map(sym, insn.imm)
    if target is None:
        raise ObjectError(f"{where}: reference to '{sym.name}' in a section that holds no maps")
    return target


def _call_target(insn: Insn, sym: Symbol, where: str, text_index: int | None) -> Target:
    if not insn.is_subprog_call:
        raise ObjectError(f"{where}: relocation for a helper call (src_reg {insn.src})")
    if text_index is None or sym.shndx != text_index:
        raise ObjectError(f"{where}: bad call relocation against '{sym.name}', not in .text")
    if sym.value % INSN_SIZE:
        raise ObjectError(f"{where}: bad call relocation offset {sym.value}")
    return Target(CALL, sym.name, section=text_index, insn=sym.value // INSN_SIZE + insn.imm + 1)
