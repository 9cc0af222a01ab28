"""ulebs: ULEB128 number lists, the encoding of `.llvm_addrsig` (LLVM's SHT_LLVM_ADDRSIG)."""

from __future__ import annotations

from collections.abc import Iterable

from pybpftool.errors import ObjectError

_MAX_BITS = 64


def decode_ulebs(data: bytes) -> list[int]:
    """decode_ulebs: every ULEB128 number of `data`, which must end with a whole one."""
    out: list[int] = []
    value = shift = 0
    for byte in data:
        if shift >= _MAX_BITS:
            raise ObjectError("ULEB128 number longer than 64 bits")
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            out.append(value)
            value = shift = 0
    if shift:
        raise ObjectError("truncated ULEB128 number")
    return out


def encode_ulebs(values: Iterable[int]) -> bytes:
    """encode_ulebs: the ULEB128 encoding of each value, one after another."""
    out = bytearray()
    for value in values:
        while True:
            byte, value = value & 0x7F, value >> 7
            out.append(byte | (0x80 if value else 0))
            if not value:
                break
    return bytes(out)
