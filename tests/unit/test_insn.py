"""insn: the call-site search agrees with decoding every instruction; the one bpf_insn layout
encodes what it decodes."""

from __future__ import annotations

import random

import pytest

from pybpftool.insn import BPF_CALL, INSN_SIZE, Insn, call_sites


def decoded_calls(code: bytes, start: int, end: int, byteorder: str) -> list[int]:
    return [i for i in range(start, end) if Insn(code, i, byteorder).is_subprog_call]


def call_heavy_code(rng: random.Random, count: int) -> bytes:
    """Random instructions where 0x85 and pseudo-call register bytes are common everywhere,
    in offsets and immediates too, so misaligned lookalikes appear next to real calls."""
    alphabet = [BPF_CALL, 0x10, 0x01, 0x11, 0x1F, 0xF1, 0x00, 0x95]
    return bytes(rng.choice(alphabet) for _ in range(count * INSN_SIZE))


@pytest.mark.parametrize("byteorder", ["<", ">"])
def test_call_sites_equal_decoding_every_instruction(byteorder: str) -> None:
    rng = random.Random(2)
    for _ in range(300):
        count = rng.randint(1, 40)
        code = call_heavy_code(rng, count)
        start = rng.randint(0, count - 1)
        end = rng.randint(start, count)
        assert call_sites(code, start, end, byteorder) == decoded_calls(code, start, end, byteorder)


@pytest.mark.parametrize("byteorder", ["<", ">"])
def test_an_encoded_instruction_decodes_to_its_fields(byteorder: str) -> None:
    from pybpftool.insn import encode

    insn = Insn(encode(0x63, dst=1, src=3, off=-8, imm=-2, byteorder=byteorder), 0, byteorder)
    assert (insn.code, insn.dst, insn.src, insn.off, insn.imm) == (0x63, 1, 3, -8, -2)


def test_the_register_nibbles_follow_the_byte_order() -> None:
    from pybpftool.insn import encode

    # bpf_insn's dst_reg:4, src_reg:4 bitfield: dst is the low nibble on little-endian
    assert encode(0xBF, dst=6, src=1, byteorder="<") == bytes.fromhex("bf16000000000000")
    assert encode(0xBF, dst=6, src=1, byteorder=">") == bytes.fromhex("bf61000000000000")
