"""netns: network namespaces by name or path, through setns(2) (ctypes).

Two uses, one rule each:
- `enter_netns` moves the calling thread for good: only `pyip -n`/`pytc -n` do that, as
  iproute2's netns_switch() does (see cli/common/context.py for who may call it).
- `in_netns` runs a function (say, opening a netlink socket) with the calling thread inside
  a namespace and brings the thread back before it returns, also when the function raises:
  a socket keeps the namespace it was created in, so the library's netlink sockets reach
  another namespace while the caller's thread and process stay where they were.

Only the network namespace changes: unlike `ip -n`, the mount namespace and hence the host's
bpffs and its pins stay as they are (a documented deviation, see pyip(8)).
"""

from __future__ import annotations

import ctypes
import os

from pybpftool.errors import KernelError
from pybpftool.kernel.libc import libc

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    T = TypeVar("T")

CLONE_NEWNET = 0x40000000
NETNS_RUN_DIR = "/var/run/netns"
THREAD_NETNS = "/proc/thread-self/ns/net"  # the calling thread's, not the process leader's


def netns_path(name: str) -> str:
    """netns_path: a name is looked up in /var/run/netns (iproute2's), a path is taken as is."""
    return name if "/" in name else os.path.join(NETNS_RUN_DIR, name)


def open_netns(name: str, path: str | None = None) -> int:
    """open_netns: an O_RDONLY fd of namespace `name` (at `path`, by default netns_path's);
    iproute2's message if it cannot."""
    try:
        return os.open(path or netns_path(name), os.O_RDONLY | os.O_CLOEXEC)
    except OSError as err:
        raise KernelError(
            "setns", err.errno or 0, f'Cannot open network namespace "{name}": {err.strerror}'
        ) from None


def _setns(fd: int, name: str) -> None:
    if libc().setns(fd, CLONE_NEWNET) != 0:
        err_no = ctypes.get_errno()
        raise KernelError(
            "setns",
            err_no,
            f'setting the network namespace "{name}" failed: {os.strerror(err_no)}',
        )


def enter_netns(name: str) -> None:
    """enter_netns: setns the calling thread into /var/run/netns/NAME (and leave it there).
    The path is always built below that folder, as ip's netns_switch() builds it: `""` names
    the folder itself, which setns refuses, and a path is not taken as is (unlike in_netns)."""
    fd = open_netns(name, f"{NETNS_RUN_DIR}/{name}")
    try:
        _setns(fd, name)
    finally:
        os.close(fd)


def thread_netns() -> int:
    """thread_netns: an O_RDONLY fd of the calling thread's own network namespace."""
    try:
        return os.open(THREAD_NETNS, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as err:
        raise KernelError(
            "setns", err.errno or 0, f"cannot open {THREAD_NETNS}: {err.strerror}"
        ) from None


def return_to_netns(home: int) -> None:
    """return_to_netns: setns the calling thread back into `home` (from thread_netns)."""
    _setns(home, "of the calling thread")


def in_netns(name: str, make: Callable[[], T]) -> T:
    """in_netns: `make()` run with the calling thread inside namespace `name`; the thread is
    back in its own namespace before this returns or raises.

    Returning cannot fail in practice (the thread's own namespace is held open from the
    start); if it ever did, KernelError says so rather than leave the thread elsewhere
    unannounced.
    """
    target = open_netns(name)
    try:
        return in_netns_fd(target, make, name)
    finally:
        os.close(target)


def in_netns_fd(target: int, make: Callable[[], T], name: str) -> T:
    """in_netns_fd: in_netns for the namespace open at fd `target` (called `name` in
    messages): `make()` run inside it, the calling thread back home before this returns."""
    home = thread_netns()
    try:
        _setns(target, name)
        try:
            return make()
        finally:
            return_to_netns(home)
    finally:
        os.close(home)
