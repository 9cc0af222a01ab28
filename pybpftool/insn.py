"""insn: the few facts about eBPF instructions the loader needs (linux/bpf_common.h, bpf.h).

`struct bpf_insn` is {u8 code; u8 dst_reg:4, src_reg:4; s16 off; s32 imm}. The register
nibbles are a C bitfield, so their order follows the object's byte order: on little-endian
dst_reg is the low nibble, on big-endian the high one.
"""

from __future__ import annotations

import struct
import sys

INSN_SIZE = 8
# classic BPF's program limit; iproute2's load report counts "over limit" against it for
# eBPF programs too
BPF_MAXINSNS = 4096

BPF_LD_IMM64 = 0x18  # BPF_LD | BPF_IMM | BPF_DW: two slots, imm64 split over both
BPF_CALL = 0x85  # BPF_JMP | BPF_CALL
BPF_EXIT = 0x95

BPF_PSEUDO_MAP_FD = 1
BPF_PSEUDO_MAP_VALUE = 2
BPF_PSEUDO_BTF_ID = 3
BPF_PSEUDO_FUNC = 4
BPF_PSEUDO_CALL = 1
BPF_PSEUDO_KFUNC_CALL = 2


# struct bpf_insn in each byte order ("<", ">"): code, the register nibbles, off, imm. The one
# declaration of the layout: the parser, the relocations and the programs built here use it.
INSN_LAYOUT = {bo: struct.Struct(bo + "BBhi") for bo in "<>"}
HOST_ORDER = "<" if sys.byteorder == "little" else ">"
_UNPACK = {bo: layout.unpack_from for bo, layout in INSN_LAYOUT.items()}
_PACK_IMM = {bo: struct.Struct(bo + "i").pack_into for bo in "<>"}


def encode(
    code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0, byteorder: str = HOST_ORDER
) -> bytes:
    """encode: one instruction in `byteorder` (default: this machine's, as the kernel takes
    it), the register nibbles in that order's bitfield layout."""
    regs = (src << 4) | dst if byteorder == "<" else (dst << 4) | src
    return INSN_LAYOUT[byteorder].pack(code, regs, off, imm)


class Insn:
    """Insn: decoded view of one instruction slot in a byte buffer of a given byte order."""

    __slots__ = ("code", "dst", "imm", "off", "src")

    def __init__(self, buf: bytes | bytearray, index: int, byteorder: str) -> None:
        code, regs, off, imm = _UNPACK[byteorder](buf, index * INSN_SIZE)
        self.code: int = code
        self.off: int = off
        self.imm: int = imm
        if byteorder == "<":
            self.dst, self.src = regs & 0xF, regs >> 4
        else:
            self.dst, self.src = regs >> 4, regs & 0xF

    @property
    def is_ld_imm64(self) -> bool:
        return self.code == BPF_LD_IMM64

    @property
    def is_subprog_call(self) -> bool:
        return self.code == BPF_CALL and self.src == BPF_PSEUDO_CALL

    @property
    def is_call(self) -> bool:
        return self.code == BPF_CALL


def set_imm(buf: bytearray, index: int, imm: int, byteorder: str) -> None:
    """set_imm: overwrite the 32-bit immediate of instruction `index` with `imm`, signed
    (-2**31 <= imm < 2**31) or unsigned (up to 2**32 - 1, as the kernel reads an ld_imm64's
    second half) alike."""
    if not -(1 << 31) <= imm <= 0xFFFFFFFF:
        raise ValueError(f"immediate {imm} does not fit 32 bits")
    _PACK_IMM[byteorder](buf, index * INSN_SIZE + 4, imm - (1 << 32) if imm >> 31 == 1 else imm)


def set_src(buf: bytearray, index: int, src: int, byteorder: str) -> None:
    """set_src: overwrite the src_reg nibble of instruction `index`, keeping dst_reg."""
    pos = index * INSN_SIZE + 1
    regs = buf[pos]
    buf[pos] = (regs & 0x0F) | (src << 4) if byteorder == "<" else (regs & 0xF0) | src


def call_sites(code: bytes, start: int, end: int, byteorder: str) -> list[int]:
    """call_sites: indexes in [start, end) of BPF-to-BPF calls (BPF_CALL, src BPF_PSEUDO_CALL).

    Searching the opcode byte is far cheaper than decoding every instruction; hits inside
    immediates are discarded by the alignment check, helper calls by their src nibble.
    """
    out = []
    shift = 4 if byteorder == "<" else 0
    stop = end * INSN_SIZE
    pos = code.find(b"\x85", start * INSN_SIZE, stop)
    while pos >= 0:
        if pos % INSN_SIZE == 0:
            if (code[pos + 1] >> shift) & 0xF == BPF_PSEUDO_CALL:
                out.append(pos // INSN_SIZE)
            pos = code.find(b"\x85", pos + INSN_SIZE, stop)
        else:
            pos = code.find(b"\x85", pos + 1, stop)
    return out
