"""netns: enter a named network namespace in-process (setns(2) through ctypes).

Only the network namespace changes: unlike `ip -n`, the mount namespace and hence the host's
bpffs and its pins stay as they are (a documented deviation, see pyip(8)).
"""

from __future__ import annotations

import ctypes
import os

from pybpftool.errors import PyBpfError

CLONE_NEWNET = 0x40000000
NETNS_RUN_DIR = "/var/run/netns"


def enter_netns(name: str) -> None:
    """enter_netns: setns into /var/run/netns/NAME, iproute2's message if it cannot."""
    path = name if "/" in name else os.path.join(NETNS_RUN_DIR, name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as err:
        raise PyBpfError(f'Cannot open network namespace "{name}": {err.strerror}') from None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err_no = ctypes.get_errno()
            raise PyBpfError(
                f'setting the network namespace "{name}" failed: {os.strerror(err_no)}'
            )
    finally:
        os.close(fd)
