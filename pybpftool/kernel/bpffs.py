"""bpffs: find or mount the BPF filesystem and build iproute2's pin hierarchy.

Mirrors iproute2 lib/bpf_legacy.c bpf_get_work_dir / bpf_mnt_fs / bpf_gen_hierarchy
(spec/iproute2.md §2.4): the mount point is `$TC_BPF_MNT` (mounted there when it is not bpffs
yet), else the first bpffs among /sys/fs/bpf and /bpf, else the first bpf entry of
/proc/mounts, else /sys/fs/bpf is mounted. Below it: `tc/`, `tc/globals/`, and `xdp` and `ip`
symlinked to `<mnt>/tc/` so every program type shares one `globals` namespace.
"""

from __future__ import annotations

import ctypes
import errno as _errno
import os
from collections.abc import Callable, Mapping

from pybpftool.errors import FsAccess, PinError
from pybpftool.kernel.libc import libc
from pybpftool.pinning import GLOBALS_DIR, SUBDIR_IP, SUBDIR_TC, SUBDIR_XDP

BPF_FS_MAGIC = 0xCAFE4A11
DEFAULT_MOUNTS = ("/sys/fs/bpf", "/bpf")
ENV_MOUNT = "TC_BPF_MNT"
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 1 << 18


def is_bpffs(path: str) -> bool:
    """is_bpffs: statfs(path).f_type is BPF_FS_MAGIC."""
    buf = ctypes.create_string_buffer(256)  # struct statfs is 120 bytes on 64-bit Linux
    if libc().statfs(os.fsencode(path), buf) != 0:
        return False
    f_type = ctypes.c_long.from_buffer(buf).value  # the first field of struct statfs
    return f_type & 0xFFFFFFFF == BPF_FS_MAGIC


def find_mount(
    env: Mapping[str, str] | None = None, mounts_file: str = "/proc/mounts"
) -> str | None:
    """find_mount: an existing bpffs mount point, iproute2's search order; None if none."""
    wanted = (os.environ if env is None else env).get(ENV_MOUNT)
    if wanted:
        return wanted if is_bpffs(wanted) else None
    for path in DEFAULT_MOUNTS:
        if is_bpffs(path):
            return path
    try:
        with open(mounts_file) as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 3 and fields[2] == "bpf":
                    return fields[1]
    except OSError:
        pass
    return None


def ensure_mount(env: Mapping[str, str] | None = None) -> str:
    """ensure_mount: the bpffs mount point, mounting one where iproute2 would if none exists."""
    found = find_mount(env)
    if found is not None:
        return found
    target = (os.environ if env is None else env).get(ENV_MOUNT) or DEFAULT_MOUNTS[0]
    mount_bpffs(target)
    return target


def mount_bpffs(target: str) -> None:
    """mount_bpffs: `mkdir -m 0700`, make it a private mount, `mount -t bpf bpf target`."""
    try:
        os.makedirs(target, mode=0o700, exist_ok=True)
    except OSError as mkdir_err:
        raise PinError(f"mkdir {target} failed: {mkdir_err.strerror}") from None
    if _mount(b"", target, b"none", MS_PRIVATE | MS_REC) == _errno.EINVAL:
        # Not a mount point yet: bind it onto itself, then it can be made private.
        err = _mount(os.fsencode(target), target, b"none", MS_BIND | MS_REC)
        if err:
            raise PinError(f"mount --bind {target} {target} failed: {os.strerror(err)}")
        err = _mount(b"", target, b"none", MS_PRIVATE | MS_REC)
        if err:
            raise PinError(f"mount --make-private {target} failed: {os.strerror(err)}")
    err = _mount(b"bpf", target, b"bpf", 0, b"mode=0700")
    if err:
        raise PinError(f"mount -t bpf bpf {target} failed: {os.strerror(err)}")


def make_hierarchy(mount: str) -> None:
    """make_hierarchy: `<mnt>/tc/globals/` plus the `xdp` and `ip` symlinks to `<mnt>/tc/`.

    Each level is checked, before anything is made beneath it, to resolve to a folder of the
    same bpffs mount (_MountCheck): a symlink left in the pin root must not make this (still
    unconfined) process create folders, and later pins, somewhere else.
    """
    on = _MountCheck(mount)
    tc_dir = os.path.join(mount, SUBDIR_TC)
    _mkdir(tc_dir)
    on.check(tc_dir)
    _mkdir(os.path.join(tc_dir, GLOBALS_DIR))
    on.check(os.path.join(tc_dir, GLOBALS_DIR))
    for alias in (SUBDIR_XDP, SUBDIR_IP):
        link = os.path.join(mount, alias)
        try:
            os.symlink(tc_dir + "/", link)
        except FileExistsError:
            on.check(link)
            if not os.path.islink(link) and os.path.isdir(link):
                _mkdir(os.path.join(link, GLOBALS_DIR))  # a real folder gets its own globals
                on.check(os.path.join(link, GLOBALS_DIR))
        except OSError as err:
            raise PinError(f"symlink {link} failed: {err.strerror}") from None


class _MountCheck:
    """_MountCheck: whether a path resolves to a folder on the bpffs mounted at `mount`:
    beneath the mount's real path, on its device, and a bpffs folder."""

    def __init__(self, mount: str) -> None:
        self.mount = mount
        self.root = os.path.realpath(mount)
        self.dev = os.stat(self.root).st_dev

    def check(self, path: str) -> None:
        real = os.path.realpath(path)
        beneath = real == self.root or real.startswith(self.root.rstrip("/") + "/")
        try:
            same = os.stat(real).st_dev == self.dev and os.path.isdir(real)
        except OSError:
            same = False
        if not (beneath and same and is_bpffs(real)):
            raise PinError(
                f"pin folder {path} leads out of the BPF filesystem mounted at {self.mount} "
                f"(to {real}): refusing to pin there"
            )


def make_pin_dirs(path: str, created: Callable[[str], None] | None = None) -> None:
    """make_pin_dirs: create the missing folders above a pin path (0700), reporting each."""
    parent = os.path.dirname(os.path.normpath(path))
    missing = []
    while parent and not os.path.isdir(parent):
        missing.append(parent)
        parent = os.path.dirname(parent)
    for folder in reversed(missing):
        _mkdir(folder)
        if created is not None:
            created(folder)


def _mkdir(path: str) -> None:
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as err:
        raise PinError(
            f"mkdir {path} failed: {err.strerror}", access=FsAccess("make_dir", path)
        ) from None


def _mount(source: bytes, target: str, fstype: bytes, flags: int, data: bytes = b"") -> int:
    """_mount: mount(2); 0 or the errno."""
    ret = libc().mount(
        source or None, os.fsencode(target), fstype, ctypes.c_ulong(flags), data or None
    )
    return 0 if ret == 0 else ctypes.get_errno()

