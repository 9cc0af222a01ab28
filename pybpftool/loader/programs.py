"""programs: patch map fds into a program's instructions and load it, with the log policy.

Relocation (libbpf bpf_object__relocate_data): a MAP reference becomes ld_imm64 with
src_reg BPF_PSEUDO_MAP_FD and imm = map fd; a MAP_VALUE reference src_reg
BPF_PSEUDO_MAP_VALUE, imm = fd and the second slot's imm = offset into the value.

func_info and line_info come from .BTF.ext, per code span of the flattened program, with
byte offsets turned into instruction indexes at the span's new place.

Verifier log policy: the first load has no log (a too-small buffer can turn success into
ENOSPC); on failure the load is repeated once with a log of `log_size` bytes (limits.py,
default 1 MiB). A longer log is cut: Linux 6.4+ keeps its end, the part that says why (its
first, partial line is dropped and a note says how much is missing); older kernels keep its
start. The rejection is reported with the errno of the attempt that ended it, except the
ENOSPC of a cut log, which is ours: then the first attempt's. With `verbose` the first load
has the log from the start, as iproute2 asks for it (64 KiB, level 1), so that a success can
be reported with its analysis; a log that does not fit gets one more load with `log_size`
bytes, and one that does not fit there either one load without a log for the kernel's own
answer (at most three loads, as bounded as the quiet way).
"""

from __future__ import annotations

import errno as _errno
import os
import struct
import sys
from typing import Protocol

from pybpftool.btf import BtfExt
from pybpftool.errors import ObjectError, VerifierError
from pybpftool.insn import BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, set_imm, set_src
from pybpftool.kernel.bpf import BPF_LOG_LEVEL1, LoadResult, ProgRequest
from pybpftool.loader.corerelo import CoreRelocator, explain_poison
from pybpftool.loader.limits import LOG_SIZE, LOG_SIZE_ENV
from pybpftool.spec import ObjectSpec, ProgramSpec, RefKind

LOG_START = 1 << 16  # iproute2's first verifier log buffer
LOG_TAIL = 4096  # without verbose, the log is trimmed to its last 4 KiB (iproute2)
FUNC_INFO_SIZE, LINE_INFO_SIZE = 8, 16
BPF_F_SLEEPABLE = 1 << 4


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
    func_record, line_record = struct.Struct(byteorder + "II"), struct.Struct(byteorder + "IIII")
    func_bytes = b"".join([func_record.pack(*f) for f in funcs])
    line_bytes = b"".join([line_record.pack(*ln) for ln in lines])
    return func_bytes, line_bytes


class ProgramMemo:
    """ProgramMemo: what a load derives from a parsed program alone, its func_info and
    line_info records and its instructions with given map fds, kept for a run (a -batch
    loads the same object line after line). Entries are keyed by the ProgramSpec object
    and hold it, so an id is never reused: a file that changed between lines is parsed
    again (RunContext.parse) into new specs, which miss and are worked out afresh."""

    __slots__ = ("_ext", "_insns")

    def __init__(self) -> None:
        self._ext: dict[int, tuple[ProgramSpec, BtfExt, str, tuple[bytes, bytes]]] = {}
        self._insns: dict[int, tuple[ProgramSpec, tuple[int | None, ...], str, bytes]] = {}

    def relocated(self, prog: ProgramSpec, map_fds: dict[str, int], byteorder: str) -> bytes:
        """relocated: relocate(prog, map_fds, byteorder), kept while the fds it writes are
        the same numbers (a -batch line's maps get the numbers the line before closed)."""
        fds = tuple([map_fds.get(ref.target) for ref in prog.references])
        kept = self._insns.get(id(prog))
        if kept is not None and kept[0] is prog and kept[1] == fds and kept[2] == byteorder:
            return kept[3]
        insns = relocate(prog, map_fds, byteorder)
        self._insns[id(prog)] = (prog, fds, byteorder, insns)
        return insns

    def ext_records(self, prog: ProgramSpec, ext: BtfExt, byteorder: str) -> tuple[bytes, bytes]:
        """ext_records: programs.ext_records(prog, ext, byteorder), worked out once."""
        kept = self._ext.get(id(prog))
        if kept is not None and kept[0] is prog and kept[1] is ext and kept[2] == byteorder:
            return kept[3]
        records = ext_records(prog, ext, byteorder)
        self._ext[id(prog)] = (prog, ext, byteorder, records)
        return records


def program_request(
    spec: ObjectSpec,
    prog: ProgramSpec,
    prog_type: int,
    fds: dict[str, int],
    btf_fd: int,
    expected_attach_type: int | None,
    core: CoreRelocator | None = None,
    memo: ProgramMemo | None = None,
    ifindex: int = 0,
) -> ProgRequest:
    """program_request: PROG_LOAD fields for `prog` with map fds patched in and CO-RE
    relocations applied (against `core`'s target, by default the running kernel's BTF);
    its relocated instructions and func and line info from `memo` when given; for device
    `ifindex` when not 0 (offload)."""
    relocated = memo.relocated if memo is not None else relocate
    insns = bytearray(relocated(prog, fds, spec.byteorder))
    poisoned = (core or CoreRelocator(spec)).apply(prog, insns)
    func_info, line_info = b"", b""
    if btf_fd and spec.btf_ext is not None:
        records = memo.ext_records if memo is not None else ext_records
        func_info, line_info = records(prog, spec.btf_ext, spec.byteorder)
    attach = expected_attach_type
    if attach is None:
        attach = prog.expected_attach_type if prog.type == prog_type else None
    return ProgRequest(
        prog_type=prog_type,
        insns=bytes(insns),
        license=spec.license,
        name=prog.name,
        expected_attach_type=attach or 0,
        kern_version=spec.kern_version or 0,
        prog_flags=BPF_F_SLEEPABLE if prog.sleepable else 0,
        prog_btf_fd=btf_fd if func_info else 0,
        func_info=func_info,
        func_info_rec_size=FUNC_INFO_SIZE,
        line_info=line_info,
        line_info_rec_size=LINE_INFO_SIZE,
        prog_ifindex=ifindex,
        core_poisoned=poisoned,
    )


def check_byte_order(spec: ObjectSpec) -> None:
    host = "<" if sys.byteorder == "little" else ">"
    if spec.byteorder != host:
        ours, theirs = ("little", "big") if host == "<" else ("big", "little")
        raise ObjectError(f"We are {ours} endian, eBPF object is {theirs} endian!")


def load_program(
    kernel: ProgKernel,
    req: ProgRequest,
    section: str,
    verbose: bool = False,
    log_size: int = LOG_SIZE,
) -> LoadResult:
    """load_program: PROG_LOAD with the log policy; raises VerifierError on rejection."""
    if not verbose:
        result = kernel.prog_load(req)
        if result.fd is not None:
            return result
        return load_with_log(kernel, req, section, result, verbose, log_size)
    for size in sorted({min(LOG_START, log_size), log_size}):
        result = kernel.prog_load(req, BPF_LOG_LEVEL1, size)
        if result.fd is not None:
            return result
        if not _cut(result, size):
            raise rejection(req, section, result, verbose, None, size)
    quiet = kernel.prog_load(req)  # the log did not fit: was it a rejection at all?
    if quiet.fd is not None:
        return quiet
    raise rejection(req, section, result, verbose, quiet.errno, log_size)


def load_with_log(
    kernel: ProgKernel,
    req: ProgRequest,
    section: str,
    first: LoadResult,
    verbose: bool = False,
    log_size: int = LOG_SIZE,
) -> LoadResult:
    """load_with_log: the load that failed as `first`, again with a log of `log_size` bytes
    to explain it; raises VerifierError (or returns, if the kernel accepts it this time)."""
    result = kernel.prog_load(req, BPF_LOG_LEVEL1, log_size)
    if result.fd is not None:
        return result
    raise rejection(req, section, result, verbose, first.errno, log_size)


def rejection(
    req: ProgRequest,
    section: str,
    result: LoadResult,
    verbose: bool,
    first_errno: int | None = None,
    log_size: int = LOG_SIZE,
) -> VerifierError:
    """rejection: iproute2's report of a rejected program, as a VerifierError."""
    from pybpftool.loader.report import prog_report_head  # an accepted load needs none of it

    cut = _cut(result, log_size)
    errno = first_errno if cut and first_errno else result.errno
    kept = explain_poison(_kept_log(result.log, result.log_true_size, cut), req.core_poisoned)
    log = kept
    if not verbose and len(log) > LOG_TAIL:
        skipped = len(log) - LOG_TAIL
        log = (
            f"Skipped {skipped} bytes, use 'verb' option for the full verbose log.\n[...]\n"
            + log[-LOG_TAIL:]
        )
    outcome = f"rejected: {os.strerror(errno)} ({errno})"
    details = (
        *prog_report_head(section, outcome, req),
        *log.rstrip("\n").split("\n"),
        "",
    )
    return VerifierError(
        req.name or section, errno, "Error fetching program/map!", kept, details=details
    )


def _cut(result: LoadResult, log_size: int) -> bool:
    """_cut: the log did not fit in `log_size` bytes (the kernel's ENOSPC is then ours)."""
    if result.errno != _errno.ENOSPC:
        return False
    return result.log_true_size > log_size or not result.log_true_size


def _kept_log(log: str, true_size: int, cut: bool) -> str:
    """_kept_log: the log as kept, with a line saying what is missing when it was cut."""
    if not cut:
        return log
    if not true_size:  # before Linux 6.4: the kernel kept the start
        return f"{log}\n[... the verifier log goes on; {LOG_SIZE_ENV} keeps more of it]\n"
    tail = log.split("\n", 1)[1] if "\n" in log else log  # its first line is cut
    missing = max(0, true_size - 1 - len(tail.encode()))
    note = f"[... {missing} bytes of the verifier log before this; {LOG_SIZE_ENV} keeps more]"
    return f"{note}\n{tail}"
