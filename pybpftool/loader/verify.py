"""verify: load every program of an object once, report the verifier's verdict, keep nothing.

`pybpftool object verify`: maps are created unpinned (so no pin is touched) and only if they
fit the map budget (limits.py), each program is
loaded with the kernel's statistics log (instructions processed, verification time), and a
rejected program is loaded once more with a verifier log of `log_size` bytes (its end when it
is longer: loader/programs.py). Whatever the verdicts, every fd is closed before returning.

Each program gets one of three outcomes: ACCEPTED and REJECTED by the kernel's verifier (or
REJECTED by the loader when the object cannot give a loadable program, errno 0), or
NOT_VERIFIED when nothing said which type to load it as, so the kernel never saw it.

Annotations here are evaluated when defined (no `from __future__ import annotations`), as in
btf/core.py: a string-annotated NamedTuple compiles a ForwardRef per field.
"""

import re
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from pybpftool.errors import ObjectError, VerifierError
from pybpftool.kernel.bpf import BPF_LOG_STATS
from pybpftool.loader.btfload import load_btf
from pybpftool.loader.corerelo import CORE_FAILURE, CoreRelocator
from pybpftool.loader.limits import DEFAULT_BUDGET, LOG_SIZE, MapBudget, check_budget
from pybpftool.loader.maps import MapContext, create_maps
from pybpftool.loader.programs import check_byte_order, load_with_log, program_request
from pybpftool.loader.txn import Transaction
from pybpftool.spec import ObjectSpec, ProgramSpec

if TYPE_CHECKING:  # loading for real (core.py: pins, publishing) is not verify's
    from pybpftool.loader.core import LoaderKernel

STATS_LOG_SIZE = 1 << 14
_PROCESSED = re.compile(r"processed (\d+) insns")
_TIME = re.compile(r"verification time (\d+) usec")


ACCEPTED = "accepted"
REJECTED = "rejected"
NOT_VERIFIED = "not_verified"


class Verdict(NamedTuple):
    """Verdict: the verifier's answer for one program, or why it was not asked."""

    name: str
    section: str
    prog_type: int | None
    outcome: str  # ACCEPTED, REJECTED or NOT_VERIFIED
    errno: int = 0
    processed: int | None = None  # instructions the verifier walked
    time_us: int | None = None  # the kernel's verification time, else the PROG_LOAD wall time
    reason: str = ""  # one line: why it was not accepted
    log: str = ""  # full verifier log of a rejected program

    @property
    def accepted(self) -> bool:
        return self.outcome == ACCEPTED


class TypeChoice(NamedTuple):
    """TypeChoice: the program types the command line gives: one for every program
    (`--type TYPE`) and some for single programs, by function or section name
    (`--type NAME=TYPE`, which wins)."""

    default: int | None = None
    by_program: Mapping[str, int] = {}

    def type_of(self, prog: ProgramSpec) -> int | None:
        """type_of: the type to load `prog` as; None when neither the command line nor its
        section names one."""
        chosen = self.by_program.get(prog.name, self.by_program.get(prog.section))
        if chosen is None:
            chosen = self.default
        return prog.type if chosen is None else chosen


def verify_object(
    kernel: "LoaderKernel",
    spec: ObjectSpec,
    prog_type: int | TypeChoice | None = None,
    progress: Callable[[ProgramSpec], None] | None = None,
    target_btf: str | None = None,
    log_size: int = LOG_SIZE,
    map_budget: MapBudget = DEFAULT_BUDGET,
) -> list[Verdict]:
    """verify_object: a Verdict per program to load (autoload ones), in object order, each
    loaded as `prog_type` (one type for all, or a TypeChoice) or else its section's type;
    CO-RE relocations against `target_btf` (default: $PYBPFTOOL_TARGET_BTF or the kernel's);
    a rejected program's log kept up to `log_size` bytes; maps beyond `map_budget` refused."""
    check_byte_order(spec)
    check_budget(spec.maps, map_budget)
    types = prog_type if isinstance(prog_type, TypeChoice) else TypeChoice(prog_type)
    txn = Transaction()
    try:
        btf_fd = load_btf(kernel, spec, lambda line: None)
        btf = int(txn.own(btf_fd)) if btf_fd is not None else 0
        maps = create_maps(kernel, txn, spec.maps, MapContext(pin_paths={}, btf_fd=btf))
        fds = {name: int(m.fd) for name, m in maps.items()}
        core = CoreRelocator(spec, target_btf)
        if core.needed():
            core.target()  # an unreadable target fails the command, not each program
        verdicts = []
        for prog in spec.programs:
            if not prog.autoload:
                continue
            verdict = _verify_one(kernel, spec, prog, types.type_of(prog), fds, btf, core, log_size)
            verdicts.append(verdict)
            if progress is not None:
                progress(prog)
        return verdicts
    finally:
        txn.rollback()  # verification keeps nothing


def _verify_one(
    kernel: "LoaderKernel",
    spec: ObjectSpec,
    prog: ProgramSpec,
    ptype: int | None,
    fds: dict[str, int],
    btf_fd: int,
    core: CoreRelocator,
    log_size: int,
) -> Verdict:
    if ptype is None:
        reason = f"section '{prog.section}' names no program type"
        return Verdict(prog.name, prog.section, None, NOT_VERIFIED, reason=reason)
    try:
        req = program_request(spec, prog, ptype, fds, btf_fd, None, core)
    except ObjectError as err:  # the loader cannot make a program of it: as pyip/pytc fail
        return Verdict(prog.name, prog.section, ptype, REJECTED, reason=err.message)
    start = time.perf_counter_ns()
    result = kernel.prog_load(req, BPF_LOG_STATS, STATS_LOG_SIZE)
    wall_us = (time.perf_counter_ns() - start) // 1000
    processed, kernel_us = _stats(result.log)
    if result.fd is not None:
        result.fd.close()
        return Verdict(prog.name, prog.section, ptype, ACCEPTED, 0, processed, kernel_us or wall_us)
    try:
        retry = load_with_log(kernel, req, prog.section, result, True, log_size)
    except VerifierError as err:
        processed = _stats(err.log)[0] or processed
        reason = err.details[0] if err.details else err.message
        failed = [line for line in err.log.split("\n") if line.startswith(CORE_FAILURE)]
        if failed:
            reason = failed[0]  # the verifier reached a poisoned instruction: say which
        return Verdict(
            prog.name,
            prog.section,
            ptype,
            REJECTED,
            err.errno,
            processed,
            kernel_us or wall_us,
            reason,
            err.log,
        )
    assert retry.fd is not None
    retry.fd.close()  # accepted on the second try (the stats log cannot fail a load)
    return Verdict(prog.name, prog.section, ptype, ACCEPTED, 0, processed, kernel_us or wall_us)


def _stats(log: str) -> tuple[int | None, int | None]:
    processed = _PROCESSED.search(log)
    spent = _TIME.search(log)
    return (
        int(processed.group(1)) if processed else None,
        int(spent.group(1)) if spent else None,
    )
