"""corepatch: write a CO-RE relocation's result into its instruction (libbpf
bpf_core_patch_insn): an ALU immediate, a load or store offset (and size, when the field was
resized), or an ld_imm64 value, each checked to hold the local value first; or poison it.
"""

from __future__ import annotations

import struct

from pybpftool.btf.core import Result
from pybpftool.errors import ObjectError
from pybpftool.insn import INSN_LAYOUT, INSN_SIZE

POISON_HELPER = 0xBAD2310  # the verifier then says "invalid func unknown#195896080"
# (loader/corerelo.py repeats it, to explain logs without importing this module)


def _unpack(buf: bytearray, idx: int, bo: str) -> tuple[int, int, int, int]:
    """_unpack: (code, src_reg, off, imm) of instruction `idx`."""
    code, regs, off, imm = INSN_LAYOUT[bo].unpack_from(buf, idx * INSN_SIZE)
    return code, regs >> 4 if bo == "<" else regs & 0xF, off, imm


def poison(buf: bytearray, idx: int, bo: str) -> None:
    """poison: a call to helper 0xbad2310 in place of instruction `idx` (both ld_imm64
    slots), which the verifier rejects only if it can reach it."""
    slots = (idx, idx + 1) if buf[idx * 8] == 0x18 else (idx,)  # patch checks both exist
    for i in slots:
        INSN_LAYOUT[bo].pack_into(buf, i * INSN_SIZE, 0x85, 0, 0, POISON_HELPER)


_SIZES = {8: 0x18, 4: 0x00, 2: 0x08, 1: 0x10}  # BPF_DW, BPF_W, BPF_H, BPF_B


def patch(buf: bytearray, idx: int, result: Result, bo: str) -> bool:
    """patch: apply `result` to instruction `idx` (after checking it holds the local value);
    True when the instruction was poisoned instead."""
    where = f"instruction {idx} ({result.description})"
    if result.poison:
        if buf[idx * 8] == 0x18 and len(buf) < (idx + 2) * 8:
            raise ObjectError(f"CO-RE {where}: ld_imm64 is cut short")
        poison(buf, idx, bo)
        return True
    code, src, off, imm = _unpack(buf, idx, bo)
    cls = code & 0x07
    if cls in (0x04, 0x07):  # ALU, ALU64
        if code & 0x08:
            raise ObjectError(f"CO-RE {where}: ALU with a register source")
        if result.validate and imm & 0xFFFFFFFF != result.orig & 0xFFFFFFFF:
            raise ObjectError(f"CO-RE {where}: holds {imm}, expected {result.orig}")
        struct.pack_into(bo + "i", buf, idx * 8 + 4, _s32(result.new))
    elif cls in (0x01, 0x02, 0x03):  # LDX, ST, STX
        if result.validate and off != result.orig:
            raise ObjectError(f"CO-RE {where}: offset {off}, expected {result.orig}")
        if result.new > 0x7FFF:
            raise ObjectError(f"CO-RE {where}: offset {result.new} does not fit")
        if result.size_change_unsafe:
            poison(buf, idx, bo)  # resizing would change the value read: libbpf poisons too
            return True
        struct.pack_into(bo + "h", buf, idx * 8 + 2, result.new)
        if result.new_size != result.orig_size:
            if _SIZES.get(result.orig_size) != code & 0x18 or result.new_size not in _SIZES:
                raise ObjectError(f"CO-RE {where}: unexpected memory access size")
            buf[idx * 8] = (code & ~0x18) | _SIZES[result.new_size]
    elif code == 0x18:  # ld_imm64
        if (
            len(buf) < (idx + 2) * 8
            or src != 0
            or off != 0
            or buf[(idx + 1) * 8 : (idx + 1) * 8 + 4] != bytes(4)  # code, regs, off
        ):
            raise ObjectError(f"CO-RE {where}: ld_imm64 of an unexpected form")
        hi = struct.unpack_from(bo + "i", buf, idx * 8 + 12)[0]
        value = (imm & 0xFFFFFFFF) | ((hi & 0xFFFFFFFF) << 32)
        expected = {result.orig & 0xFFFFFFFFFFFFFFFF}
        if result.either_extension:
            expected.add(result.orig & 0xFFFFFFFF)
        if result.validate and value not in expected:
            raise ObjectError(f"CO-RE {where}: holds {value}, expected {result.orig}")
        new = result.new & 0xFFFFFFFFFFFFFFFF
        struct.pack_into(bo + "i", buf, idx * 8 + 4, _s32(new & 0xFFFFFFFF))
        struct.pack_into(bo + "i", buf, idx * 8 + 12, _s32(new >> 32))
    else:
        raise ObjectError(f"CO-RE {where}: instruction code {code:#x} cannot be relocated")
    return False


def _s32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value
