"""pindir: the pin-folder protocol that makes a pin appear only complete, and only once.

A process that publishes pins in a bpffs folder, or relies on pins it found there, first
takes `flock(LOCK_EX)` on the folder (libxdp locks its dispatcher folder the same way) and
keeps it until its command is attached or undone. Under the lock it pins each new map under
a temporary name in that folder, then renames it to its final name with
`renameat2(RENAME_NOREPLACE)`: the pin appears in one step, already complete, and never
replaces one that someone else published first (EEXIST).

Temporary names start with `pybpftool-tmp-`, which no pin name can (`pinning.check_pin_name`
refuses it). They exist only while their maker holds the folder's lock, so one that a lock
holder finds was left by a process that died mid-publish: it is removed, never used.

flock locks belong to the open folder, not to the process: a command locks each folder once
(see `PinDirLocks`), in one global order (sorted real paths), so two commands never wait for
each other in a circle.
"""

from __future__ import annotations

import ctypes
import errno as _errno
import fcntl
import os
from collections.abc import Callable, Iterable

from pybpftool.errors import FsAccess, KernelError, PinError
from pybpftool.kernel.libc import libc
from pybpftool.pinning import TEMP_PREFIX

AT_FDCWD = -100
RENAME_NOREPLACE = 1 << 0
LOCK_TRIES = 20  # a folder removed by another command's rollback is made again, this often


def temp_pin_path(final: str, seq: int) -> str:
    """temp_pin_path: where the new pin for `final` waits, in the same folder, until renamed."""
    return os.path.join(os.path.dirname(final), f"{TEMP_PREFIX}{os.getpid()}-{seq}")


def is_temp_pin(name: str) -> bool:
    return name.startswith(TEMP_PREFIX)


def rename_noreplace(old: str, new: str) -> None:
    """rename_noreplace: renameat2(old, new, RENAME_NOREPLACE); KernelError with the errno
    (EEXIST: `new` exists and was left alone)."""
    rename = getattr(libc(), "renameat2", None)
    if rename is None:
        raise PinError("this C library has no renameat2(); pins cannot be published atomically")
    ret = rename(AT_FDCWD, os.fsencode(old), AT_FDCWD, os.fsencode(new), RENAME_NOREPLACE)
    if ret != 0:
        err = ctypes.get_errno() or _errno.EIO
        message = f"rename {old} -> {new} failed: {os.strerror(err)}"
        # A rename makes an entry in the new folder (and removes one from the old, the same).
        raise KernelError("rename", err, message, access=FsAccess("make_reg", new))


def pin_folder(path: str) -> str:
    """pin_folder: the folder holding pin `path`, as a normalised path (no `//`, no `..`)."""
    return os.path.dirname(os.path.normpath(path))


class PinDirLocks:
    """PinDirLocks: exclusive flocks on pin folders, taken in one order, dropped together.

    `acquire` makes each folder if missing (reporting every folder it made), locks it, makes
    sure the locked folder is still the one at its path (another command's rollback may have
    removed it meanwhile: then it is made and locked again), and removes temporary pins that
    dead processes left in it.
    """

    def __init__(self) -> None:
        self._fds: list[int] = []

    def acquire(
        self,
        folders: Iterable[str],
        make_dirs: Callable[[str, Callable[[str], None]], None],
        made: Callable[[str], None],
    ) -> None:
        try:
            for folder in sorted({os.path.realpath(f) for f in folders}):
                self._fds.append(_lock_one(folder, make_dirs, made))
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        """release: drop every lock (closing the folder fd releases its flock)."""
        fds, self._fds = self._fds, []
        for fd in reversed(fds):
            os.close(fd)

    def __enter__(self) -> PinDirLocks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _lock_one(
    folder: str,
    make_dirs: Callable[[str, Callable[[str], None]], None],
    made: Callable[[str], None],
) -> int:
    for _ in range(LOCK_TRIES):
        make_dirs(os.path.join(folder, "pin"), made)  # the folders above a pin in `folder`
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue  # removed between making and opening it
        except OSError as err:
            raise PinError(
                f"cannot open pin folder {folder}: {err.strerror}",
                access=FsAccess("read_dir", folder),
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if _still_there(fd, folder):
                _remove_stale_temps(fd, folder)
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    raise PinError(f"pin folder {folder} keeps disappearing; is another tool removing it?")


def _still_there(fd: int, folder: str) -> bool:
    locked = os.fstat(fd)
    try:
        now = os.stat(folder)
    except FileNotFoundError:
        return False
    return (locked.st_dev, locked.st_ino) == (now.st_dev, now.st_ino) and locked.st_nlink > 0


def _remove_stale_temps(fd: int, folder: str) -> None:
    """_remove_stale_temps: temporary pins in a folder we hold locked are left by the dead."""
    try:
        names = os.listdir(fd)
    except OSError as err:
        raise PinError(
            f"cannot list pin folder {folder}: {err.strerror}", access=FsAccess("read_dir", folder)
        ) from None
    for name in names:
        if is_temp_pin(name):
            try:
                os.unlink(name, dir_fd=fd)
            except FileNotFoundError:
                pass
            except OSError as err:
                raise PinError(
                    f"cannot remove stale temporary pin {folder}/{name}: {err.strerror}",
                    access=FsAccess("remove_file", f"{folder}/{name}"),
                ) from None

