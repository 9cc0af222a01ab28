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
from typing import NamedTuple

from pybpftool.elf import RELOCATION_NAMES, SHN_UNDEF, ElfFile, Relocation, Section, Symbol
from pybpftool.errors import ObjectError
from pybpftool.insn import INSN_SIZE, Insn
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
    count = code_sec.size // INSN_SIZE
    out: dict[int, Target] = {}
    for rel in rels:
        if rel.type not in RELOCATION_NAMES:
            raise ObjectError(f"{_where(rel, code_sec)}: unsupported relocation type {rel.type}")
        if rel.offset % INSN_SIZE or rel.offset + INSN_SIZE > code_sec.size:
            raise ObjectError(
                f"{_where(rel, code_sec)}: outside its section or not instruction-aligned"
            )
        if not 0 < rel.sym < len(symbols):
            raise ObjectError(f"{_where(rel, code_sec)}: unknown symbol index {rel.sym}")
        idx = rel.offset // INSN_SIZE
        insn = Insn(code, idx, elf.byteorder)
        try:
            out[idx] = _target(insn, symbols[rel.sym], resolve_map, text_index, count - idx)
        except _BadRelocation as err:
            raise ObjectError(f"{_where(rel, code_sec)}: {err}") from None
    return SectionRelocs(out)


class _BadRelocation(Exception):
    """_BadRelocation: what is wrong with one relocation; the caller adds where it is."""


def _where(rel: Relocation, code_sec: Section) -> str:
    # Built only for an error message: formatting it per relocation costs more than resolving.
    return f"relocation at offset {rel.offset} of section {code_sec.name!r}"


def _target(
    insn: Insn, sym: Symbol, resolve_map: MapResolver, text_index: int | None, remaining: int
) -> Target:
    if sym.shndx == SHN_UNDEF:
        if not sym.name:
            raise _BadRelocation("relocation against an unnamed undefined symbol")
        return Target(RefKind.EXTERN, sym.name)
    if insn.is_call:
        return _call_target(insn, sym, text_index)
    if not insn.is_ld_imm64:
        raise _BadRelocation(f"relocation for a non-ld_imm64 instruction (code {insn.code:#x})")
    if remaining < 2:
        raise _BadRelocation("ld_imm64 instruction is truncated")
    if text_index is not None and sym.shndx == text_index:
        off = sym.value + insn.imm
        if off % INSN_SIZE:
            raise _BadRelocation("callback address is not instruction-aligned")
        return Target(FUNC, sym.name, section=text_index, insn=off // INSN_SIZE)
    target = resolve_map(sym, insn.imm)
    if target is None:
        raise _BadRelocation(f"reference to '{sym.name}' in a section that holds no maps")
    return target


def _call_target(insn: Insn, sym: Symbol, text_index: int | None) -> Target:
    if not insn.is_subprog_call:
        raise _BadRelocation(f"relocation for a helper call (src_reg {insn.src})")
    if text_index is None or sym.shndx != text_index:
        raise _BadRelocation(f"bad call relocation against '{sym.name}', not in .text")
    if sym.value % INSN_SIZE:
        raise _BadRelocation(f"bad call relocation offset {sym.value}")
    return Target(CALL, sym.name, section=text_index, insn=sym.value // INSN_SIZE + insn.imm + 1)
