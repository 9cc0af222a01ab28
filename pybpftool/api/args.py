"""args: the API's arguments checked before anything is opened, created or sent.

A caller's mistake (a wrong type, a device name the kernel cannot hold, an empty namespace
name) is a UsageError naming the argument, never a TypeError from deep inside, a netlink
policy refusal, or a namespace file opened by accident (`""` is /run/netns itself).
"""

from __future__ import annotations

import os

from pybpftool.errors import UsageError

IFNAMSIZ = 16  # linux/if.h: a device name holds at most 15 bytes
NAME_MAX = 255


def path_arg(what: str, value: object) -> str:
    """path_arg: a str or os.PathLike argument as a str (not bytes, not empty, no NUL)."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise UsageError(f"{what} must be a str or os.PathLike path, not {value!r}")
    if not value or "\0" in value:
        raise UsageError(f"{what} is not a usable path: {value!r}")
    return value


def str_arg(what: str, value: object) -> str:
    """str_arg: an argument that must be a str (a section, a program type, a mode)."""
    if not isinstance(value, str):
        raise UsageError(f"{what} must be a str, not {value!r}")
    return value


def bool_arg(what: str, value: object) -> bool:
    """bool_arg: a flag that must be True or False: `replace="no"` would be true."""
    if not isinstance(value, bool):
        raise UsageError(f"{what} must be True or False, not {value!r}")
    return value


def dev_arg(dev: object) -> str:
    """dev_arg: a network device name as the kernel's dev_valid_name() takes it: 1 to 15
    bytes, not `.` or `..`, without `/`, `:`, whitespace or NUL."""
    name = str_arg("dev", dev)
    size = len(name.encode(errors="surrogateescape"))
    bad = name in (".", "..") or any(c in "/:\0" or c.isspace() for c in name)
    if not 0 < size < IFNAMSIZ or bad:
        raise UsageError(f"dev {name!r} is not a valid device name")
    return name


def netns_arg(netns: object) -> str | None:
    """netns_arg: a namespace name (looked up under /run/netns) or a path; a name follows
    `ip netns add`'s rule: not empty, `.` or `..`, at most 255 bytes (a `/` makes it a path)."""
    if netns is None:
        return None
    if isinstance(netns, os.PathLike):
        netns = os.fspath(netns)
    if not isinstance(netns, str):
        raise UsageError(f"netns must be a name under /run/netns or a path, not {netns!r}")
    if "\0" in netns or ("/" not in netns and (netns in ("", ".", "..") or len(netns) > NAME_MAX)):
        raise UsageError(f"netns {netns!r} is not a valid network namespace name")
    return netns


def bytes_arg(what: str, value: object, size: int) -> bytes:
    """bytes_arg: a key or value: bytes-like (bytes, bytearray, memoryview) of `size` bytes;
    an int is refused, which bytes() would turn into that many zero bytes."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise UsageError(f"{what} must be bytes, not {type(value).__name__}")
    data = bytes(value)
    if len(data) != size:
        raise UsageError(f"{what} has {size} bytes, not {len(data)}")
    return data
