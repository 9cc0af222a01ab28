"""spec: BtfSpec, a lazily decoded view of a .BTF blob (include/uapi/linux/btf.h).

`parse_btf` validates the header and makes one pass over the type section to record where
each type starts (cilium/ebpf's lazy decoder idea, spec/loaders.md §4); a type is decoded
only when asked for. Every malformed input raises ObjectError.
"""

from __future__ import annotations

import struct

from pybpftool.btf.types import (
    MAX_KIND,
    MODIFIERS,
    Array,
    BtfType,
    Composite,
    Datasec,
    DeclTag,
    Enum,
    EnumValue,
    Float,
    Func,
    FuncProto,
    Fwd,
    Int,
    Kind,
    Member,
    Modifier,
    Param,
    Ptr,
    Typedef,
    Var,
    VarSecinfo,
    Void,
)
from pybpftool.elf import decode_name
from pybpftool.errors import ObjectError

BTF_MAGIC = 0xEB9F
BTF_HEADER_SIZE = 24
MAX_RESOLVE_DEPTH = 32  # libbpf MAX_RESOLVE_DEPTH
PTR_SIZE = 8
UINT32_MAX = 0xFFFFFFFF

# Bytes of trailing data per type (fixed) or per vlen entry, after the 12-byte common header.
_FIXED_EXTRA: dict[int, int] = {Kind.INT: 4, Kind.ARRAY: 12, Kind.VAR: 4, Kind.DECL_TAG: 4}
_PER_VLEN: dict[int, int] = {
    Kind.STRUCT: 12,
    Kind.UNION: 12,
    Kind.ENUM: 8,
    Kind.FUNC_PROTO: 8,
    Kind.DATASEC: 12,
    Kind.ENUM64: 12,
}


def check_header(data: bytes, byteorder: str, what: str) -> tuple[int, ...]:
    """check_header: magic and version of a .BTF or .BTF.ext header; returns its u32 words."""
    if len(data) < 8:
        raise ObjectError(f"{what}: truncated header")
    magic = struct.unpack_from(byteorder + "H", data, 0)[0]
    if magic != BTF_MAGIC:
        swapped = struct.unpack_from(("<" if byteorder == ">" else ">") + "H", data, 0)[0]
        if swapped == BTF_MAGIC:
            raise ObjectError(f"{what}: byte order differs from the ELF object's")
        raise ObjectError(f"{what}: bad magic {magic:#06x}")
    if data[2] != 1:
        raise ObjectError(f"{what}: unsupported version {data[2]}")
    hdr_len = struct.unpack_from(byteorder + "I", data, 4)[0]
    if hdr_len < 8 or hdr_len > len(data) or hdr_len % 4:
        raise ObjectError(f"{what}: bad header length {hdr_len}")
    return struct.unpack_from(byteorder + "I" * ((hdr_len - 4) // 4), data, 4)


class BtfSpec:
    """BtfSpec: the types and strings of one .BTF section."""

    def __init__(self, raw: bytes, byteorder: str) -> None:
        self.raw = raw
        self.byteorder = byteorder
        words = check_header(raw, byteorder, ".BTF")
        if words[0] < BTF_HEADER_SIZE:
            raise ObjectError(f".BTF: header length {words[0]} is shorter than 24")
        hdr_len, type_off, type_len, str_off, str_len = words[:5]
        self._types = _region(raw, hdr_len, type_off, type_len, "type")
        self._str_start, self._str_end = _region(raw, hdr_len, str_off, str_len, "string")
        if str_len == 0 or raw[self._str_start] != 0:
            raise ObjectError(".BTF: string section must start with an empty string")
        self._offsets = self._index()
        self._cache: dict[int, BtfType] = {0: Void()}
        self._names: dict[str, list[int]] | None = None

    def _index(self) -> list[int]:
        """_index: the start of every type record; type id N is entry N (0 is void)."""
        raw, (pos, end) = self.raw, self._types
        fmt = self.byteorder + "I"
        offsets = [0]
        append = offsets.append
        unpack = struct.unpack_from
        while pos < end:
            if pos + 12 > end:
                raise ObjectError(f".BTF: type #{len(offsets)} is truncated")
            info = unpack(fmt, raw, pos + 4)[0]
            kind = (info >> 24) & 0x1F
            if not 0 < kind <= MAX_KIND:
                raise ObjectError(f".BTF: type #{len(offsets)} has unknown kind {kind}")
            append(pos)
            pos += 12 + _FIXED_EXTRA.get(kind, 0) + _PER_VLEN.get(kind, 0) * (info & 0xFFFF)
        if pos != end:
            raise ObjectError(f".BTF: type #{len(offsets) - 1} runs past the type section")
        return offsets

    def __len__(self) -> int:
        return len(self._offsets)

    def string(self, offset: int) -> str:
        """string: the NUL-terminated string at `offset` of the string section."""
        start = self._str_start + offset
        if offset < 0 or start >= self._str_end:
            raise ObjectError(f".BTF: string offset {offset} outside the string section")
        stop = self.raw.find(b"\0", start, self._str_end)
        if stop < 0:
            raise ObjectError(f".BTF: string at offset {offset} is not NUL-terminated")
        return decode_name(self.raw[start:stop])

    def type(self, type_id: int) -> BtfType:
        """type: the decoded type `type_id` (cached)."""
        found = self._cache.get(type_id)
        if found is None:
            if not 0 < type_id < len(self._offsets):
                raise ObjectError(f".BTF: type id {type_id} does not exist")
            found = self._decode(type_id)
            self._cache[type_id] = found
        return found

    def name_of(self, type_id: int) -> str:
        return self.type(type_id).name

    def find(self, name: str, kind: Kind | None = None) -> list[int]:
        """find: ids of the types called `name` (and of `kind`, if given)."""
        if self._names is None:
            self._names = self._name_index()
        ids = self._names.get(name, [])
        return ids if kind is None else [i for i in ids if self._kind_of(i) == kind]

    def _kind_of(self, type_id: int) -> int:
        info = struct.unpack_from(self.byteorder + "I", self.raw, self._offsets[type_id] + 4)[0]
        return int((info >> 24) & 0x1F)

    def _name_index(self) -> dict[str, list[int]]:
        index: dict[str, list[int]] = {}
        fmt = self.byteorder + "I"
        for type_id in range(1, len(self._offsets)):
            name_off = struct.unpack_from(fmt, self.raw, self._offsets[type_id])[0]
            if name_off:
                index.setdefault(self.string(name_off), []).append(type_id)
        return index

    def datasec(self, name: str) -> Datasec | None:
        """datasec: the DATASEC called `name` (e.g. ".maps"), if any."""
        for type_id in self.find(name, Kind.DATASEC):
            found = self.type(type_id)
            if isinstance(found, Datasec):
                return found
        return None

    def skip_mods_and_typedefs(self, type_id: int) -> int:
        """skip_mods_and_typedefs: follow CONST/VOLATILE/RESTRICT/TYPE_TAG/TYPEDEF (libbpf)."""
        for _ in range(MAX_RESOLVE_DEPTH):
            t = self.type(type_id)
            if not isinstance(t, Typedef | Modifier):
                return type_id
            type_id = t.type
        raise ObjectError(f".BTF: type chain from [{type_id}] is too deep or loops")

    def resolve_size(self, type_id: int) -> int:
        """resolve_size: byte size of a type (libbpf btf__resolve_size)."""
        nelems = 1
        for _ in range(MAX_RESOLVE_DEPTH):
            t = self.type(type_id)
            if isinstance(t, Int | Composite | Enum | Datasec | Float):
                size = t.size
                break
            if isinstance(t, Ptr):
                size = PTR_SIZE
                break
            if isinstance(t, Typedef | Modifier | Var | DeclTag):
                type_id = t.type
            elif isinstance(t, Array):
                if t.nelems and nelems > UINT32_MAX // t.nelems:
                    raise ObjectError(f".BTF: array [{t.id}] is too large")
                nelems *= t.nelems
                type_id = t.type
            else:
                raise ObjectError(f".BTF: type [{type_id}] ({t.kind.name}) has no size")
        else:
            raise ObjectError(f".BTF: type chain from [{type_id}] is too deep or loops")
        if nelems and size > UINT32_MAX // nelems:
            raise ObjectError(f".BTF: type [{type_id}] is too large")
        return nelems * size

    def _ref(self, type_id: int, owner: int) -> int:
        if type_id >= len(self._offsets):
            raise ObjectError(f".BTF: type [{owner}] refers to missing type [{type_id}]")
        return type_id

    def _decode(self, type_id: int) -> BtfType:
        pos = self._offsets[type_id]
        bo = self.byteorder
        name_off, info, size_type = struct.unpack_from(bo + "III", self.raw, pos)
        kind, vlen, kflag = Kind((info >> 24) & 0x1F), info & 0xFFFF, bool(info >> 31)
        name = self.string(name_off) if name_off else ""
        extra = pos + 12
        ref = self._ref
        if kind == Kind.INT:
            word = struct.unpack_from(bo + "I", self.raw, extra)[0]
            return Int(
                type_id, kind, name, size_type, (word >> 24) & 0xF, (word >> 16) & 0xFF, word & 0xFF
            )
        if kind == Kind.PTR:
            return Ptr(type_id, kind, name, ref(size_type, type_id))
        if kind == Kind.ARRAY:
            elem, index, nelems = struct.unpack_from(bo + "III", self.raw, extra)
            return Array(type_id, kind, name, ref(elem, type_id), ref(index, type_id), nelems)
        if kind in (Kind.STRUCT, Kind.UNION):
            return Composite(
                type_id, kind, name, size_type, self._members(extra, vlen, kflag, type_id)
            )
        if kind in (Kind.ENUM, Kind.ENUM64):
            return Enum(
                type_id, kind, name, size_type, kflag, self._enum_values(extra, vlen, kind, kflag)
            )
        if kind == Kind.FWD:
            return Fwd(type_id, kind, name, kflag)
        if kind == Kind.TYPEDEF:
            return Typedef(type_id, kind, name, ref(size_type, type_id))
        if kind in MODIFIERS:
            return Modifier(type_id, kind, name, ref(size_type, type_id))
        if kind == Kind.FUNC:
            return Func(type_id, kind, name, ref(size_type, type_id), vlen)
        if kind == Kind.FUNC_PROTO:
            params = tuple(
                Param(self.string(n) if n else "", ref(t, type_id))
                for n, t in struct.iter_unpack(bo + "II", self.raw[extra : extra + 8 * vlen])
            )
            return FuncProto(type_id, kind, name, ref(size_type, type_id), params)
        if kind == Kind.VAR:
            linkage = struct.unpack_from(bo + "I", self.raw, extra)[0]
            return Var(type_id, kind, name, ref(size_type, type_id), linkage)
        if kind == Kind.DATASEC:
            secinfo = tuple(
                VarSecinfo(ref(t, type_id), off, size)
                for t, off, size in struct.iter_unpack(
                    bo + "III", self.raw[extra : extra + 12 * vlen]
                )
            )
            return Datasec(type_id, kind, name, size_type, secinfo)
        if kind == Kind.FLOAT:
            return Float(type_id, kind, name, size_type)
        component = struct.unpack_from(bo + "i", self.raw, extra)[0]
        return DeclTag(type_id, kind, name, ref(size_type, type_id), component)

    def _members(self, pos: int, vlen: int, kflag: bool, owner: int) -> tuple[Member, ...]:
        out = []
        for name_off, mtype, offset in struct.iter_unpack(
            self.byteorder + "III", self.raw[pos : pos + 12 * vlen]
        ):
            bits, bit_offset = (offset >> 24, offset & 0xFFFFFF) if kflag else (0, offset)
            out.append(
                Member(
                    self.string(name_off) if name_off else "",
                    self._ref(mtype, owner),
                    bit_offset,
                    bits,
                )
            )
        return tuple(out)

    def _enum_values(self, pos: int, vlen: int, kind: Kind, signed: bool) -> tuple[EnumValue, ...]:
        bo = self.byteorder
        if kind == Kind.ENUM:
            fmt = bo + ("Ii" if signed else "II")
            raw = self.raw[pos : pos + 8 * vlen]
            return tuple(EnumValue(self.string(n), v) for n, v in struct.iter_unpack(fmt, raw))
        out = []
        for n, lo, hi in struct.iter_unpack(bo + "III", self.raw[pos : pos + 12 * vlen]):
            value = (hi << 32) | lo
            if signed and value >> 63:
                value -= 1 << 64
            out.append(EnumValue(self.string(n), value))
        return tuple(out)


def _region(raw: bytes, hdr_len: int, off: int, length: int, what: str) -> tuple[int, int]:
    start = hdr_len + off
    if start > len(raw) or length > len(raw) - start:
        raise ObjectError(f".BTF: {what} section lies outside the blob")
    return start, start + length


def parse_btf(data: bytes, byteorder: str) -> BtfSpec:
    """parse_btf: validate and index a .BTF blob of the given byte order ("<" or ">")."""
    return BtfSpec(data, byteorder)
