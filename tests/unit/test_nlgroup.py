"""The audit reader's netlink socket, a plain descriptor: it behaves as the socket.socket it
replaced (bound to a group, non-blocking, close-on-exec), here on NETLINK_ROUTE's link group,
which anyone may join, in this process's own network namespace."""

from __future__ import annotations

import errno
import os
import socket

import pytest

from pybpftool.kernel.nlgroup import SOL_SOCKET, NetlinkGroup

NETLINK_ROUTE, RTNLGRP_LINK = 0, 1


def test_it_is_bound_to_the_group_non_blocking_and_not_inherited() -> None:
    group = NetlinkGroup(NETLINK_ROUTE, 1 << (RTNLGRP_LINK - 1))
    try:
        assert not os.get_blocking(group.fileno())
        assert not os.get_inheritable(group.fileno())
        with socket.socket(fileno=os.dup(group.fileno())) as same:  # the kernel's view of it
            assert same.family == socket.AF_NETLINK
            assert same.getsockname()[1] == 1 << (RTNLGRP_LINK - 1)
        with pytest.raises(BlockingIOError):  # nothing waiting: as a non-blocking socket
            group.recv(65536)
    finally:
        group.close()
    group.close()  # twice is harmless
    assert group.fileno() == -1


def test_setsockopt_sets_an_int_and_reports_a_refusal() -> None:
    group = NetlinkGroup(NETLINK_ROUTE, 0)
    try:
        group.setsockopt(SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
        with socket.socket(fileno=os.dup(group.fileno())) as same:
            assert same.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) >= 1 << 16
        with pytest.raises(OSError) as refused:
            group.setsockopt(SOL_SOCKET, 0x7FFF, 1)
        assert refused.value.errno == errno.ENOPROTOOPT
    finally:
        group.close()


def test_a_protocol_the_kernel_lacks_is_an_oserror_and_leaks_no_descriptor() -> None:
    before = set(os.listdir("/proc/self/fd"))
    with pytest.raises(OSError) as refused:
        NetlinkGroup(31, 1)  # MAX_LINKS - 1: no such netlink family
    assert refused.value.errno == errno.EPROTONOSUPPORT
    assert set(os.listdir("/proc/self/fd")) <= before
