"""syscall: the single bpf(2) call site of the project (man 2 bpf, kernel/bpf/syscall.c).

Every other module reaches the kernel through `sys_bpf` (raw result or -errno) or `bpf`
(raises `KernelError`). The call goes through libc's variadic `syscall(2)` wrapper, loaded with
`kernel.libc` (errno kept per thread) and `restype = c_long`; ctypes releases the GIL for the
call, so a long verification does not stall other threads.

The attr argument is any ctypes structure mirroring one member of `union bpf_attr`; the size
passed is the structure's own size. The kernel accepts a shorter attr (it zero-extends) and a
longer one as long as the bytes it does not know are zero (`bpf_check_uarg_tail_zero`), so one
structure layout serves old and new kernels alike.
"""

from __future__ import annotations

import ctypes
import errno as _errno
import functools
import os
from collections.abc import Callable

from pybpftool.kernel.libc import libc

from ..errors import KernelError

# enum bpf_cmd (include/uapi/linux/bpf.h); plain ints on purpose, uapi.py holds the enums.
BPF_MAP_CREATE = 0
BPF_MAP_LOOKUP_ELEM = 1
BPF_MAP_UPDATE_ELEM = 2
BPF_MAP_DELETE_ELEM = 3
BPF_MAP_GET_NEXT_KEY = 4
BPF_PROG_LOAD = 5
BPF_OBJ_PIN = 6
BPF_OBJ_GET = 7
BPF_PROG_ATTACH = 8
BPF_PROG_DETACH = 9
BPF_PROG_TEST_RUN = 10
BPF_PROG_GET_NEXT_ID = 11
BPF_MAP_GET_NEXT_ID = 12
BPF_PROG_GET_FD_BY_ID = 13
BPF_MAP_GET_FD_BY_ID = 14
BPF_OBJ_GET_INFO_BY_FD = 15
BPF_PROG_QUERY = 16
BPF_BTF_LOAD = 18
BPF_BTF_GET_FD_BY_ID = 19
BPF_MAP_FREEZE = 22
BPF_PROG_BIND_MAP = 35

# __NR_bpf per machine (arch/*/syscall tables); 32-bit user space on a 64-bit kernel reports
# the kernel's machine, so the pointer size picks the compat number.
_NR_BPF_64 = {
    "x86_64": 321,
    "amd64": 321,
    "aarch64": 280,
    "arm64": 280,
    "riscv64": 280,
    "loongarch64": 280,
    "ppc64": 361,
    "ppc64le": 361,
    "s390x": 351,
}
_NR_BPF_32 = {
    "x86_64": 357,
    "amd64": 357,
    "i386": 357,
    "i486": 357,
    "i586": 357,
    "i686": 357,
    "aarch64": 386,
    "arm64": 386,
    "armv6l": 386,
    "armv7l": 386,
    "armv8l": 386,
}


def syscall_number(machine: str | None = None, pointer_size: int | None = None) -> int | None:
    """syscall_number: __NR_bpf for `machine` (default: this one), None when unknown."""
    machine = (machine or os.uname().machine).lower()  # platform costs 2 ms to import
    if pointer_size is None:
        pointer_size = ctypes.sizeof(ctypes.c_void_p)
    table = _NR_BPF_64 if pointer_size == 8 else _NR_BPF_32
    return table.get(machine)


@functools.cache
def _this_syscall_number() -> int | None:
    return syscall_number()  # the machine does not change under a running process


@functools.cache
def _libc_syscall() -> Callable[..., int]:
    """_libc_syscall: libc's syscall(2), with errno captured per thread by ctypes."""
    func = libc().syscall
    func.restype = ctypes.c_long
    return func


def sys_bpf(cmd: int, attr: ctypes.Structure, size: int | None = None) -> int:
    """sys_bpf: bpf(cmd, &attr, size) returning the result, or -errno on failure.

    Never raises for a kernel failure; EINTR is retried. `size` defaults to sizeof(attr).
    """
    nr = _this_syscall_number()
    if nr is None:
        return -_errno.ENOSYS
    if size is None:
        size = ctypes.sizeof(attr)
    func = _libc_syscall()
    while True:
        ret = func(ctypes.c_long(nr), ctypes.c_int(cmd), ctypes.byref(attr), ctypes.c_uint(size))
        if ret >= 0:
            return int(ret)
        err = ctypes.get_errno()
        if err != _errno.EINTR:
            return -(err or _errno.EIO)


def failure(operation: str, err: int, detail: str = "") -> KernelError:
    """failure: the KernelError for `operation` failing with `err` ("map create failed: ...")."""
    reason = os.strerror(err)
    message = f"{operation} failed: {reason}"
    if detail:
        message += f" ({detail})"
    return KernelError(operation, err, message)


def bpf(cmd: int, attr: ctypes.Structure, operation: str, size: int | None = None) -> int:
    """bpf: sys_bpf that raises `KernelError(operation, errno, ...)` instead of returning -errno."""
    ret = sys_bpf(cmd, attr, size)
    if ret < 0:
        raise failure(operation, -ret)
    return ret
