"""nlgroup: a non-blocking netlink socket that listens to one multicast group, as a plain
file descriptor (socket(2), bind(2) and setsockopt(2) through libc, read(2) through os).

The sandbox's audit reader is one, opened by every command that confines itself. The socket
module would cost such a command about 2.5 ms of its start (socket with selectors, imported
for one socket that is only ever bound and read); a plain descriptor does the same through
the ctypes that loading imports anyway. It is opened close-on-exec, as Python opens sockets.
"""

import ctypes
import os

from pybpftool.kernel.libc import libc

AF_NETLINK = 16
SOCK_RAW = 3
SOCK_NONBLOCK = os.O_NONBLOCK
SOCK_CLOEXEC = os.O_CLOEXEC
SOL_SOCKET = 1


class SockaddrNl(ctypes.Structure):
    """SockaddrNl: struct sockaddr_nl (linux/netlink.h)."""

    _fields_ = (
        ("nl_family", ctypes.c_ushort),
        ("nl_pad", ctypes.c_ushort),
        ("nl_pid", ctypes.c_uint32),
        ("nl_groups", ctypes.c_uint32),
    )


class NetlinkGroup:
    """NetlinkGroup: a NETLINK_<protocol> socket bound to multicast `groups` (a bit mask),
    non-blocking. recv() raises BlockingIOError when nothing is waiting, OSError(ENOBUFS)
    when the kernel dropped records, as a socket.socket's would."""

    def __init__(self, protocol: int, groups: int) -> None:
        self._libc = libc()
        kind = SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC
        self.fd = _check(self._libc.socket(AF_NETLINK, kind, protocol))
        address = SockaddrNl(AF_NETLINK, 0, 0, groups)
        try:
            _check(self._libc.bind(self.fd, ctypes.byref(address), ctypes.sizeof(address)))
        except OSError:
            self.close()
            raise

    def setsockopt(self, level: int, option: int, value: int) -> None:
        """setsockopt: an int option; OSError when the kernel refuses it."""
        number = ctypes.c_int(value)
        size = ctypes.sizeof(number)
        _check(self._libc.setsockopt(self.fd, level, option, ctypes.byref(number), size))

    def fileno(self) -> int:
        return self.fd

    def recv(self, size: int) -> bytes:
        """recv: one datagram, at most `size` bytes of it."""
        return os.read(self.fd, size)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _check(ret: int) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return ret
