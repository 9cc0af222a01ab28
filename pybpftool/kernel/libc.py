"""libc: the C library, for the kernel layer's calls that Python's os module lacks (syscall(2)
for bpf and Landlock, setns, mount, statfs, renameat2, prctl, a netlink group's socket).

Loaded with use_errno: after a failed call, ctypes.get_errno() holds that call's errno (kept
per thread by ctypes, so another thread's calls cannot overwrite it).
"""

import ctypes


def libc() -> ctypes.CDLL:
    """libc: the process's C library (dlopen(NULL)), errno captured after every call."""
    return ctypes.CDLL(None, use_errno=True)
