"""progref: what the attach functions accept as a program: a loaded `Program` or the path of
a pinned one, turned into an fd, the name tc shows for it, and its type checked."""

# Annotations are evaluated here (no `from __future__ import annotations`): a NamedTuple
# field given as a string costs typing a compile() when the class is made.

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from pybpftool.api.args import path_arg
from pybpftool.api.objects import Program, StrPath, pinned_annotation
from pybpftool.errors import KernelError, PinError, UsageError
from pybpftool.uapi import prog_type_name


class ProgramRef(NamedTuple):
    """ProgramRef: a program ready to attach: its fd and its annotation (TCA_BPF_NAME)."""

    fd: int
    annotation: str


@contextmanager
def program_ref(prog: Program | StrPath, expected: int) -> Iterator[ProgramRef]:
    """program_ref: `prog` as a ProgramRef, checked to be of program type `expected`; a pin
    is opened for the duration of the `with` block only."""
    wanted = prog_type_name(expected)
    if isinstance(prog, Program):
        if prog.type != wanted:
            raise UsageError(f"program {prog.name} is {prog.type}, not {wanted}")
        yield ProgramRef(prog.fd, prog.annotation)  # ClosedError once its Collection closed
        return
    if not isinstance(prog, (str, os.PathLike)):
        raise UsageError(f"expected a Program or the path of a pinned one, not {prog!r}")
    from pybpftool.kernel.bpf import Kernel

    path = path_arg("prog", prog)
    kernel = Kernel()
    try:
        fd = kernel.obj_get(path)
    except KernelError as err:
        raise PinError(f"cannot open pinned program {path}: {_why(path, err.errno)}") from None
    with fd:
        found = kernel.fdinfo(fd).get("prog_type")  # a map's fd has map_type instead
        if found is None:
            raise PinError(f"{path} is not a pinned program")
        if int(found) != expected:
            raise UsageError(f"pinned program {path} is {prog_type_name(int(found))}, not {wanted}")
        yield ProgramRef(int(fd), pinned_annotation(path))


def _why(path: str, err_no: int) -> str:
    """_why: the kernel's reason, or that `path` is no pin at all: BPF_OBJ_GET refuses a
    file outside a bpffs with EACCES, whose 'Permission denied' misleads."""
    from pybpftool.kernel.bpffs import is_bpffs

    if err_no in (errno.EACCES, errno.EPERM) and os.path.exists(path):
        try:
            if not is_bpffs(path):
                return "not on a bpffs (a pinned program is)"
        except OSError:
            pass
    return os.strerror(err_no)
