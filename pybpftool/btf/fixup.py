"""fixup: make an object's .BTF acceptable to the kernel (libbpf btf_finalize_data, sanitize).

Two rewrites, both in place and size-preserving so every type keeps its id:

- `fix_datasecs`: clang leaves DATASEC sizes and variable offsets at 0; the kernel wants the
  ELF section's size and each variable's symbol value (libbpf btf_fixup_datasec).
- `sanitize`: for kernels that reject newer kinds, libbpf's replacements: DECL_TAG and VAR
  become INT, TYPE_TAG becomes CONST, FLOAT and DATASEC become STRUCT, ENUM64 becomes UNION,
  global FUNCs become static (libbpf bpf_object__sanitize_btf).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from itertools import chain

from pybpftool.btf.spec import BtfSpec
from pybpftool.btf.types import Datasec, Kind, Var, VarSecinfo
from pybpftool.errors import ObjectError

BTF_FUNC_STATIC = 0
_INFO_KIND_SHIFT = 24
_U32_MAX = 0xFFFFFFFF


def fix_datasecs(btf: BtfSpec, sections: Mapping[str, tuple[int, Mapping[str, int]]]) -> BtfSpec:
    """fix_datasecs: DATASEC sizes and offsets from `sections`: name -> (size, {var: offset}).

    Returns `btf` itself when nothing needs changing.
    """
    patches: list[tuple[int, bytes]] = []
    fixed: dict[int, Datasec] = {}
    for type_id in btf.ids_of_kind(Kind.DATASEC):
        datasec = btf.type(type_id)
        assert isinstance(datasec, Datasec)
        layout = sections.get(datasec.name)
        if layout is None:
            continue
        size, offsets = layout
        if size > _U32_MAX:
            raise ObjectError(f"section {datasec.name!r}: size beyond 4 GiB")
        placed = Datasec(type_id, datasec.kind, datasec.name, size, _placed(btf, datasec, offsets))
        if placed != datasec:
            patches.append((btf.record_offset(type_id) + 8, _record_tail(placed, btf.byteorder)))
            fixed[type_id] = placed
    # The rewritten records are handed over decoded: they need not be decoded again.
    return btf.with_patched_records(_patched(btf.raw, patches), fixed) if fixed else btf


def _placed(btf: BtfSpec, datasec: Datasec, offsets: Mapping[str, int]) -> tuple[VarSecinfo, ...]:
    """_placed: the DATASEC's entries with each variable at its symbol's offset, sorted by
    offset as libbpf sorts them (the kernel wants them so)."""
    placed = []
    for var_id, offset, size in datasec.vars:
        var = btf.type(var_id)
        if isinstance(var, Var):
            offset = offsets.get(var.name, offset)
            if offset > _U32_MAX:
                raise ObjectError(f"variable '{var.name}': symbol offset beyond 4 GiB")
        placed.append(VarSecinfo(var_id, offset, size))
    placed.sort(key=lambda entry: entry.offset)
    return tuple(placed)


def _record_tail(datasec: Datasec, byteorder: str) -> bytes:
    """_record_tail: the bytes of a DATASEC record from its size on: size, then entries."""
    words = [datasec.size, *chain.from_iterable(datasec.vars)]
    return struct.pack(f"{byteorder}{len(words)}I", *words)


def _patched(raw: bytes, patches: list[tuple[int, bytes]]) -> bytes:
    """_patched: `raw` with each (offset, bytes) of `patches` written over it (records of
    distinct types, so they do not overlap), in one copy of the blob."""
    view, at = memoryview(raw), 0
    pieces: list[bytes | memoryview] = []
    for pos, patch in sorted(patches):
        pieces += (view[at:pos], patch)
        at = pos + len(patch)
    pieces.append(view[at:])
    return b"".join(pieces)


def sanitize(btf: BtfSpec) -> bytes:
    """sanitize: the blob with every kind newer than BTF func support replaced (see above)."""
    raw = bytearray(btf.raw)
    bo = btf.byteorder
    for type_id in range(1, len(btf)):
        kind = btf.kind(type_id)
        pos = btf.record_offset(type_id)
        name_off, info, size_type = struct.unpack_from(bo + "III", raw, pos)
        vlen = info & 0xFFFF
        if kind in (Kind.DECL_TAG, Kind.VAR):
            # 12 + 4 bytes either way: INT of 1 byte, 8 bits.
            struct.pack_into(bo + "IIII", raw, pos, name_off, Kind.INT << _INFO_KIND_SHIFT, 1, 8)
        elif kind == Kind.TYPE_TAG:
            struct.pack_into(bo + "III", raw, pos, 0, Kind.CONST << _INFO_KIND_SHIFT, size_type)
        elif kind == Kind.FLOAT:
            struct.pack_into(bo + "I", raw, pos + 4, Kind.STRUCT << _INFO_KIND_SHIFT)
        elif kind == Kind.DATASEC:
            # btf_var_secinfo and btf_member are both 12 bytes; members become unnamed u8s.
            struct.pack_into(bo + "I", raw, pos + 4, (Kind.STRUCT << _INFO_KIND_SHIFT) | vlen)
            _sanitize_datasec_members(btf, raw, type_id, vlen)
        elif kind == Kind.ENUM64:
            union = (Kind.UNION << _INFO_KIND_SHIFT) | vlen
            struct.pack_into(bo + "I", raw, pos + 4, union)
            for i in range(vlen):
                struct.pack_into(bo + "III", raw, pos + 12 + 12 * i, 0, _u8_type(btf), 0)
        elif kind == Kind.FUNC and vlen != BTF_FUNC_STATIC:
            struct.pack_into(bo + "I", raw, pos + 4, Kind.FUNC << _INFO_KIND_SHIFT)
    return bytes(raw)


def _sanitize_datasec_members(btf: BtfSpec, raw: bytearray, type_id: int, vlen: int) -> None:
    """_sanitize_datasec_members: each of the `vlen` variables of DATASEC `type_id` becomes
    an unnamed u8 member at the variable's offset, in bits (which must fit 32 bits)."""
    bo, pos = btf.byteorder, btf.record_offset(type_id)
    for i in range(vlen):
        at = pos + 12 + 12 * i
        var_id, offset, _size = struct.unpack_from(bo + "III", raw, at)
        if offset * 8 > _U32_MAX:
            raise ObjectError(
                f"DATASEC {btf.name_of(type_id)!r}: variable #{var_id} at byte offset {offset}"
                " lies beyond any struct member's reach, so it cannot be sanitized"
            )
        struct.pack_into(bo + "III", raw, at, 0, _u8_type(btf), offset * 8)


def _u8_type(btf: BtfSpec) -> int:
    """_u8_type: some 1-byte INT of the blob to type sanitized members with (void if none)."""
    for type_id in btf.ids_of_kind(Kind.INT):
        if btf.resolve_size(type_id) == 1:
            return type_id
    return 0
