"""attrs: netlink attributes as bytes, in this machine's byte order: built as iproute2's
lib/libnetlink.c addattr_l() builds them (header with the unpadded length, payload, zero
padding to 4 bytes) and read as its parse_rtattr() reads them; and the bytes a decoded
message was read from. Pure: no pyroute2."""

from __future__ import annotations

import os
import sys
from typing import Any

NLA_F_NESTED = 0x8000
NLA_TYPE_MASK = 0x3FFF  # the type without NLA_F_NESTED and NLA_F_NET_BYTEORDER


def rtattr(kind: int, payload: bytes) -> bytes:
    """rtattr: one attribute: header (unpadded length), payload, zero padding to 4 bytes."""
    size = 4 + len(payload)
    head = size.to_bytes(2, sys.byteorder) + kind.to_bytes(2, sys.byteorder)
    return head + payload + bytes(-size % 4)


def u16(value: int) -> bytes:
    return (value & 0xFFFF).to_bytes(2, sys.byteorder)


def u32(value: int) -> bytes:
    return (value & 0xFFFFFFFF).to_bytes(4, sys.byteorder)


def asciiz(text: str) -> bytes:
    """asciiz: addattrstrz(): the text and its terminating NUL (a word of the command
    line that is no UTF-8, surrogate-escaped, as the bytes it was given as)."""
    return os.fsencode(text) + b"\0"


def bitfield32(value: int, selector: int) -> bytes:
    """bitfield32: struct nla_bitfield32 {value, selector}."""
    return u32(value) + u32(selector)


def rtattrs(data: bytes) -> dict[int, bytes]:
    """rtattrs: the payloads of a run of netlink attributes by type (NLA_F_* flags masked);
    like iproute2's parse_rtattr the first of duplicates wins and a truncated one ends it."""
    found: dict[int, bytes] = {}
    pos = 0
    while pos + 4 <= len(data):
        length = int.from_bytes(data[pos : pos + 2], sys.byteorder)
        kind = int.from_bytes(data[pos + 2 : pos + 4], sys.byteorder) & NLA_TYPE_MASK
        if length < 4 or pos + length > len(data):
            break
        found.setdefault(kind, bytes(data[pos + 4 : pos + length]))
        pos += (length + 3) & ~3
    return found


def message_bytes(msg: Any) -> bytes:
    """message_bytes: the bytes pyroute2 decoded message `msg` was read from."""
    start = msg.offset
    return bytes(msg.data[start : start + msg["header"]["length"]])
