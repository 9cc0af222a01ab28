"""programs: patch map fds into a program's instructions and load it, with the log policy.

Relocation (libbpf bpf_object__relocate_data): a MAP reference becomes ld_imm64 with
src_reg BPF_PSEUDO_MAP_FD and imm = map fd; a MAP_VALUE reference src_reg
BPF_PSEUDO_MAP_VALUE, imm = fd and the second slot's imm = offset into the value.

func_info and line_info come from .BTF.ext, per code span of the flattened program, with
byte offsets turned into instruction indexes at the span's new place.

Verifier log policy: the first load has no log (a too-small buffer can turn success into
ENOSPC); on failure the load is repeated with a log, grown to the kernel's `log_true_size`
(Linux 6.4+) or doubled on ENOSPC, so the full log is always available to print.
"""

from __future__ import annotations

import errno as _errno
import os
import struct
from typing import Protocol

from pybpftool.btf import BtfExt
from pybpftool.errors import ObjectError, VerifierError
from pybpftool.insn import BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, set_imm, set_src
from pybpftool.kernel.bpf import BPF_LOG_LEVEL1, LoadResult, ProgRequest
from pybpftool.loader.corerelo import explain_poison
from pybpftool.spec import ProgramSpec, RefKind

LOG_START = 1 << 16  # iproute2's first verifier log buffer
LOG_MAX = 1 << 30  # the kernel's own limit on log_size (UINT_MAX >> 2)
LOG_TRIES = 10  # doublings when the kernel does not say how much it needs
LOG_TAIL = 4096  # without verbose, the log is trimmed to its last 4 KiB (iproute2)
FUNC_INFO_SIZE, LINE_INFO_SIZE = 8, 16


class ProgKernel(Protocol):
    """ProgKernel: the one kernel operation program loading needs."""

    def prog_load(self, req: ProgRequest, log_level: int = 0, log_size: int = 0) -> LoadResult: ...


def relocate(prog: ProgramSpec, map_fds: dict[str, int], byteorder: str) -> bytes:
    """relocate: the program's instructions with every map reference pointing at its fd."""
    buf = bytearray(prog.insns)
    for ref in prog.references:
        if ref.kind is RefKind.EXTERN:
            raise ObjectError(
                f"program '{prog.name}': extern '{ref.target}' (kfunc, ksym or kconfig) is not "
                "supported by this loader"
            )
        fd = map_fds.get(ref.target)
        if fd is None:
            raise ObjectError(f"program '{prog.name}': reference to unknown map '{ref.target}'")
        if ref.kind is RefKind.MAP:
            set_src(buf, ref.insn, BPF_PSEUDO_MAP_FD, byteorder)
            set_imm(buf, ref.insn, fd, byteorder)
            set_imm(buf, ref.insn + 1, 0, byteorder)
        else:
            set_src(buf, ref.insn, BPF_PSEUDO_MAP_VALUE, byteorder)
            set_imm(buf, ref.insn, fd, byteorder)
            set_imm(buf, ref.insn + 1, ref.offset, byteorder)
    return bytes(buf)


def ext_records(prog: ProgramSpec, ext: BtfExt, byteorder: str) -> tuple[bytes, bytes]:
    """ext_records: (func_info, line_info) of `prog` as the kernel wants them, or empty."""
    funcs: list[tuple[int, int]] = []
    lines: list[tuple[int, int, int, int]] = []
    for span in prog.layout:
        lo, hi, shift = span.start * 8, span.end * 8, span.at - span.start
        for f in ext.func_info.get(span.section, ()):
            if lo <= f.insn_off < hi:
                funcs.append((f.insn_off // 8 + shift, f.type_id))
        for ln in ext.line_info.get(span.section, ()):
            if lo <= ln.insn_off < hi:
                col = (ln.line_num << 10) | (ln.column & 0x3FF)
                lines.append((ln.insn_off // 8 + shift, ln.file_name_off, ln.line_off, col))
    funcs.sort()
    lines.sort()
    if not funcs or funcs[0][0] != 0:
        return b"", b""  # the kernel wants a record for the entry function at insn 0
    func_bytes = b"".join(struct.pack(byteorder + "II", *f) for f in funcs)
    line_bytes = b"".join(struct.pack(byteorder + "IIII", *ln) for ln in lines)
    return func_bytes, line_bytes


def load_program(
    kernel: ProgKernel, req: ProgRequest, section: str, verbose: bool = False
) -> LoadResult:
    """load_program: PROG_LOAD with the log policy; raises VerifierError on rejection."""
    result = kernel.prog_load(req)
    if result.fd is not None:
        return result
    size, tries = LOG_START, 0
    while True:
        result = kernel.prog_load(req, BPF_LOG_LEVEL1, size)
        if result.fd is not None:
            return result
        needed = result.log_true_size
        if needed > size and size < LOG_MAX:
            size = min(needed, LOG_MAX)  # one more round with exactly the room it needs
            continue
        if result.errno == _errno.ENOSPC and not needed and tries < LOG_TRIES and size < LOG_MAX:
            size, tries = size * 2, tries + 1
            continue
        break
    raise rejection(req, section, result, verbose)


def rejection(req: ProgRequest, section: str, result: LoadResult, verbose: bool) -> VerifierError:
    """rejection: iproute2's report of a rejected program, as a VerifierError."""
    log = explain_poison(result.log, req.core_poisoned)
    if not verbose and len(log) > LOG_TAIL:
        skipped = len(log) - LOG_TAIL
        log = (
            f"Skipped {skipped} bytes, use 'verb' option for the full verbose log.\n[...]\n"
            + log[-LOG_TAIL:]
        )
    insns = len(req.insns) // 8
    over = max(0, insns - 1_000_000)
    details = (
        f"Prog section '{section}' rejected: {os.strerror(result.errno)} ({result.errno})!",
        f" - Type:         {req.prog_type}",
        f" - Instructions: {insns} ({over} over limit)",
        f" - License:      {req.license}",
        "",
        "Verifier analysis:",
        "",
        *log.rstrip("\n").split("\n"),
        "",
    )
    return VerifierError(
        req.name or section,
        result.errno,
        "Error fetching program/map!",
        explain_poison(result.log, req.core_poisoned),
        details=details,
    )
