"""corerelo: apply an object's CO-RE relocations to each program it loads.

The .BTF.ext records are per ELF section; a program is a layout of code spans (its own
section, then the .text subprograms it calls), so each record inside a span lands at the
span's new place. The target BTF is opened only when the first relocation needs it, and a
relocation's result is computed once per load however many programs share it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from pybpftool.errors import ObjectError
from pybpftool.spec import ObjectSpec, ProgramSpec

if TYPE_CHECKING:  # the CO-RE modules load only for objects that have relocations
    from pybpftool.btf.core import Result
    from pybpftool.btf.target import TargetBtf

POISON_HELPER = 0xBAD2310  # btf.corepatch.POISON_HELPER, here without importing it
POISON_CALL = f"call unknown#{POISON_HELPER}"
CORE_FAILURE = "failed to resolve CO-RE relocation "


class CoreRelocator:
    """CoreRelocator: CO-RE relocations of one object against one target BTF."""

    def __init__(
        self,
        spec: ObjectSpec,
        target: str | None = None,
        env: Mapping[str, str] | None = None,
        opener: Callable[[str], TargetBtf] | None = None,
    ) -> None:
        self.spec = spec
        self._explicit = target
        self._env = env
        self._open = opener
        self._target: TargetBtf | None = None
        self._results: dict[tuple[int, str, int], Result] = {}

    def needed(self) -> bool:
        """needed: whether the object has CO-RE relocations at all."""
        ext = self.spec.btf_ext
        return ext is not None and any(ext.core_relos.values())

    def target(self) -> TargetBtf:
        if self._target is None:
            from pybpftool.loader.targetbtf import open_target, target_path

            path = target_path(self._explicit, self._env)
            self._target = (self._open or (lambda p: open_target(p, self._env)))(path)
        return self._target

    def apply(self, prog: ProgramSpec, buf: bytearray) -> tuple[tuple[int, str], ...]:
        """apply: patch `prog`'s instructions in `buf`; the poisoned ones, with what they
        were meant to read, as (instruction index, description)."""
        ext = self.spec.btf_ext
        relos = ext.core_relos if ext is not None else {}
        if not relos:
            return ()
        from pybpftool.btf.corepatch import patch

        poisoned = []
        for span in prog.layout:
            for relo in relos.get(span.section, ()):
                if not span.start * 8 <= relo.insn_off < span.end * 8:
                    continue
                idx = relo.insn_off // 8 - span.start + span.at
                result = self._result(prog, relo.type_id, relo.access, relo.kind)
                try:
                    hit = patch(buf, idx, result, self.spec.byteorder)
                except ObjectError as err:
                    raise ObjectError(f"program '{prog.name}': {err.message}") from None
                if hit:
                    why = result.description
                    if not result.poison:
                        why += f" (load size {result.orig_size} -> {result.new_size} changes it)"
                    poisoned.append((idx, why))
        return tuple(poisoned)

    def _result(self, prog: ProgramSpec, type_id: int, access: str, kind: int) -> Result:
        key = (type_id, access, kind)
        found = self._results.get(key)
        if found is None:
            if self.spec.btf is None:
                raise ObjectError(f"program '{prog.name}': CO-RE relocations need a .BTF section")
            from pybpftool.btf.core import resolve

            target = self.target()
            try:
                found = resolve(self.spec.btf, target.btf, target.candidates, *key)
            except ObjectError as err:
                raise ObjectError(f"program '{prog.name}': {err.message}") from None
            self._results[key] = found
        return found


def explain_poison(log: str, poisoned: tuple[tuple[int, str], ...]) -> str:
    """explain_poison: the verifier log with each reached poisoned instruction told as the
    relocation that failed (libbpf's wording):

        12: (85) call unknown#195896080         12: <invalid CO-RE relocation>
        invalid func unknown#195896080    ->    failed to resolve CO-RE relocation <byte_off> ...
    """
    if not poisoned or POISON_CALL not in log:
        return log
    notes = dict(poisoned)
    lines = log.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        head, _, rest = line.partition(": ")
        if (
            rest.endswith(POISON_CALL)
            and head.isdigit()
            and int(head) in notes
            and i + 1 < len(lines)
            and lines[i + 1] == f"invalid func unknown#{POISON_HELPER}"
        ):
            out += [
                f"{head}: <invalid CO-RE relocation>",
                "failed to resolve CO-RE relocation " + notes[int(head)],
            ]
            i += 2
            continue
        out.append(line)
        i += 1
    return "\n".join(out)
