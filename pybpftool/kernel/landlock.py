"""landlock: the Landlock system calls through ctypes (include/uapi/linux/landlock.h).

landlock_create_ruleset (444), landlock_add_rule (445) and landlock_restrict_self (446) have
the same numbers on every architecture. Everything here is best effort by ABI: a right the
running kernel does not know is left out of the ruleset rather than failing it.
"""

# Annotations are evaluated here (no `from __future__ import annotations`): a NamedTuple
# field given as a string costs typing a compile() when the class is made.

import ctypes
import errno as _errno
import os
from typing import NamedTuple

from pybpftool.kernel.libc import libc

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH, RULE_NET_PORT = 1, 2
PR_SET_NO_NEW_PRIVS = 38

# LANDLOCK_ACCESS_FS_* bits, in ABI order.
FS = {
    "execute": 1 << 0,
    "write_file": 1 << 1,
    "read_file": 1 << 2,
    "read_dir": 1 << 3,
    "remove_dir": 1 << 4,
    "remove_file": 1 << 5,
    "make_char": 1 << 6,
    "make_dir": 1 << 7,
    "make_reg": 1 << 8,
    "make_sock": 1 << 9,
    "make_fifo": 1 << 10,
    "make_block": 1 << 11,
    "make_sym": 1 << 12,
    "refer": 1 << 13,  # ABI 2
    "truncate": 1 << 14,  # ABI 3
    "ioctl_dev": 1 << 15,  # ABI 5
}
NET = {"bind_tcp": 1 << 0, "connect_tcp": 1 << 1}  # ABI 4
SCOPE = {"abstract_unix_socket": 1 << 0, "signal": 1 << 1}  # ABI 6
LOG_SAME_EXEC_OFF, LOG_NEW_EXEC_ON, LOG_SUBDOMAINS_OFF = 1, 2, 4  # ABI 7
FILE_ONLY = FS["execute"] | FS["write_file"] | FS["read_file"] | FS["truncate"] | FS["ioctl_dev"]


def fs_mask(abi: int) -> int:
    """fs_mask: the filesystem rights an ABI knows."""
    mask = (1 << 13) - 1
    if abi >= 2:
        mask |= FS["refer"]
    if abi >= 3:
        mask |= FS["truncate"]
    if abi >= 5:
        mask |= FS["ioctl_dev"]
    return mask


def net_mask(abi: int) -> int:
    return NET["bind_tcp"] | NET["connect_tcp"] if abi >= 4 else 0


def scope_mask(abi: int) -> int:
    return SCOPE["abstract_unix_socket"] | SCOPE["signal"] if abi >= 6 else 0


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class LandlockError(OSError):
    """LandlockError: a Landlock call failed (errno set)."""


def _libc() -> ctypes.CDLL:
    lib = libc()
    lib.syscall.restype = ctypes.c_long
    return lib


def _call(*args: object) -> int:
    ret = int(_libc().syscall(*args))
    if ret < 0:  # errno is meaningful only after a failure (a stale one can linger)
        err = ctypes.get_errno()
        raise LandlockError(err, os.strerror(err))
    return ret


def abi_version() -> int:
    """abi_version: the kernel's Landlock ABI, 0 when Landlock is absent or disabled."""
    try:
        return _call(
            ctypes.c_long(SYS_CREATE_RULESET),
            None,
            ctypes.c_size_t(0),
            ctypes.c_uint32(CREATE_RULESET_VERSION),
        )
    except LandlockError as err:
        if err.errno in (_errno.ENOSYS, _errno.EOPNOTSUPP):
            return 0
        raise


class Ruleset(NamedTuple):
    """Ruleset: what a ruleset handles (denies unless a rule allows it)."""

    fs: int
    net: int = 0
    scope: int = 0


def create_ruleset(abi: int, ruleset: Ruleset) -> int:
    """create_ruleset: a ruleset fd; the attr size follows the ABI (8, 16 or 24 bytes)."""
    attr = _RulesetAttr(
        ruleset.fs & fs_mask(abi), ruleset.net & net_mask(abi), ruleset.scope & scope_mask(abi)
    )
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    return _call(
        ctypes.c_long(SYS_CREATE_RULESET),
        ctypes.byref(attr),
        ctypes.c_size_t(size),
        ctypes.c_uint32(0),
    )


def add_path_rule(ruleset_fd: int, path: str, access: int) -> None:
    """add_path_rule: allow `access` beneath `path` (file-only rights for a non-directory)."""
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        if not os.path.isdir(path):
            access &= FILE_ONLY
        if not access:
            return
        attr = _PathBeneathAttr(access, fd)
        _call(
            ctypes.c_long(SYS_ADD_RULE),
            ctypes.c_int(ruleset_fd),
            ctypes.c_int(RULE_PATH_BENEATH),
            ctypes.byref(attr),
            ctypes.c_uint32(0),
        )
    finally:
        os.close(fd)


def restrict_self(ruleset_fd: int, flags: int = 0) -> None:
    """restrict_self: no_new_privs, then enforce the ruleset on this thread."""
    if _libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise LandlockError(err, os.strerror(err))
    _call(ctypes.c_long(SYS_RESTRICT_SELF), ctypes.c_int(ruleset_fd), ctypes.c_uint32(flags))
