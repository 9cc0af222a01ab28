"""spec: BtfSpec, a lazily decoded view of a .BTF blob (include/uapi/linux/btf.h).

`parse_btf` validates the header and makes one pass over the type section to record where
each type starts (cilium/ebpf's lazy decoder idea, spec/loaders.md §4); a type is decoded
only when asked for, and so is each name: a warm CO-RE load reads a handful of the kernel's
2.3 MB of names. Every malformed input raises ObjectError.
"""

from __future__ import annotations

import copy
import struct
from collections.abc import Mapping, Sequence
from operator import itemgetter

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
from pybpftool.elf import decode_name, unsigned_words
from pybpftool.errors import ObjectError

BTF_MAGIC = 0xEB9F
BTF_HEADER_SIZE = 24
MAX_RESOLVE_DEPTH = 32  # libbpf MAX_RESOLVE_DEPTH
PTR_SIZE = 8
UINT32_MAX = 0xFFFFFFFF

# Bytes of trailing data per type (fixed) and per vlen entry after the 12-byte common header,
# indexed by kind number.
_FIXED_EXTRA = [0] * (MAX_KIND + 1)
_PER_VLEN = [0] * (MAX_KIND + 1)
for _kind, _extra in ((Kind.INT, 4), (Kind.ARRAY, 12), (Kind.VAR, 4), (Kind.DECL_TAG, 4)):
    _FIXED_EXTRA[_kind] = _extra
for _kind in (Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.FUNC_PROTO, Kind.DATASEC, Kind.ENUM64):
    _PER_VLEN[_kind] = 8 if _kind in (Kind.ENUM, Kind.FUNC_PROTO) else 12

# The same, in bytes with the 12-byte header, for every value of the info word's 5 kind bits
# (0: no kind has that number).
_RECORD_BASE = [12 + _FIXED_EXTRA[k] if 0 < k <= MAX_KIND else 0 for k in range(32)]
_RECORD_PER_VLEN = [_PER_VLEN[k] if k <= MAX_KIND else 0 for k in range(32)]
# The info word's top byte -> its kind bits (the kflag is bit 7).
_KIND_BITS = bytes(b & 0x1F for b in range(256))

_SKIPPED_KINDS = frozenset((Kind.TYPEDEF, *MODIFIERS))
_SIZED = (Int, Composite, Enum, Datasec, Float)
_REFERRING = (Typedef, Modifier, Var, DeclTag)
_LINKS = (Typedef, Modifier)
# Kinds that are just a name and a referenced type.
_REF_ONLY: dict[int, type[Typedef] | type[Modifier]] = {
    Kind.TYPEDEF: Typedef,
    **dict.fromkeys(MODIFIERS, Modifier),
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


def u32_words(data: bytes, start: int, stop: int, byteorder: str) -> Sequence[int]:
    """u32_words: the whole u32 words of data[start:stop]."""
    whole = stop - (stop - start) % 4
    return unsigned_words(memoryview(data)[start:whole], byteorder, 4)


def gather(seq: Sequence[int], positions: Sequence[int]) -> tuple[int, ...]:
    """gather: seq[p] for each of `positions`, as a tuple."""
    if len(positions) > 1:
        found: tuple[int, ...] = itemgetter(*positions)(seq)
        return found
    return tuple(seq[p] for p in positions)  # itemgetter of one item returns just the item


class BtfSpec:
    """BtfSpec: the types and strings of one .BTF section."""

    def __init__(
        self,
        raw: bytes,
        byteorder: str,
        index: tuple[Sequence[int], bytes | bytearray] | None = None,
    ) -> None:
        """`index`: (record offsets, kinds) from an earlier pass over the same blob (a cache),
        instead of a new pass; each record is still checked against it when decoded."""
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
        self._terminated = raw[self._str_end - 1] == 0
        self._offsets: Sequence[int]
        self._kinds: bytes | bytearray
        if index is None:
            self._offsets, self._kinds = self._index()
        else:
            self._offsets, self._kinds = index
            if len(self._offsets) != len(self._kinds) or not self._offsets:
                raise ObjectError(".BTF: the type index does not fit the blob")
        self._cache: dict[int, BtfType] = {0: Void()}
        self._names: dict[str, list[int]] | None = None
        self._strings: dict[int, str] = {0: ""}
        # Decoded struct members by raw record, without and with kind_flag (see _members).
        self._member_memo: tuple[dict[tuple[int, ...], Member], ...] = ({}, {})

    def with_patched_records(self, raw: bytes, types: Mapping[int, BtfType]) -> BtfSpec:
        """with_patched_records: this spec over `raw`, a copy whose records of `types` were
        rewritten in place (same sizes, same strings) to decode as `types` (the caller's
        promise), so the index is reused, not rebuilt, and the other decoded types kept."""
        if len(raw) != len(self.raw):
            raise ValueError("a patched blob keeps the original's layout")
        patched = copy.copy(self)
        patched.raw = raw
        patched._cache = {**self._cache, **types}
        return patched

    def index_tables(self) -> tuple[Sequence[int], bytes | bytearray]:
        """index_tables: (record offset, kind) of every type id, what `index` takes."""
        return self._offsets, self._kinds

    def _index(self) -> tuple[list[int], bytearray]:
        """_index: where every type record starts and its kind; type id N is entry N.

        The walk visits every record (about 100,000 in a kernel's BTF, whose index a cold CO-RE
        load builds when it is not cached), so it takes one step per record: the info words are
        read as a word sequence, and a record's size comes from a dict keyed by its info word
        (records of one kind and vlen have one size; a blob has few distinct info words),
        filled, and checked, the first time a word is seen.
        """
        raw, (start, end) = self.raw, self._types
        # info_of[pos >> 2] is the info word (bytes 4-8) of a record at pos: the records of
        # the section start at multiples of 4 from `start`.
        info_of = u32_words(raw, start % 4 + 4, end, self.byteorder)
        sizes: dict[int, int] = {}
        # Each step appends where the next record starts: the last entry is where the walk
        # stopped (the end of the section, or not).
        offsets, pos, last = [0, start], start, end - 12
        append = offsets.append
        while pos <= last:
            try:
                while pos <= last:
                    pos += sizes[info_of[pos >> 2]]
                    append(pos)
            except KeyError:
                info = info_of[pos >> 2]
                sizes[info] = _record_size(info, len(offsets) - 1)
        offsets.pop()
        if pos < end:
            raise ObjectError(f".BTF: type #{len(offsets)} is truncated")
        if pos != end:
            raise ObjectError(f".BTF: type #{len(offsets) - 1} runs past the type section")
        return offsets, _kinds_at(raw, offsets, self.byteorder)

    def check_strings(self, offsets: Sequence[int]) -> None:
        """check_strings: check_string of each offset in turn, as one range test of the
        largest when the string section ends in NUL."""
        if offsets and not (self._terminated and max(offsets) < self._str_end - self._str_start):
            for offset in offsets:
                self.check_string(offset)

    def __len__(self) -> int:
        return len(self._offsets)

    def string(self, offset: int) -> str:
        """string: the NUL-terminated string at `offset` of the string section."""
        found = self._strings.get(offset)
        if found is None:
            found = self._strings[offset] = self._read_string(offset)
        return found

    def check_string(self, offset: int) -> None:
        """check_string: raise what `string(offset)` would raise, without decoding the name.

        When the string section ends in NUL, every offset inside it starts a terminated
        string, so a range test is the whole check.
        """
        if not (self._terminated and 0 <= offset < self._str_end - self._str_start):
            self.string(offset)

    def _read_string(self, offset: int) -> str:
        start = self._str_start + offset
        if offset < 0 or start >= self._str_end:
            raise ObjectError(f".BTF: string offset {offset} outside the string section")
        stop = self.raw.find(b"\0", start, self._str_end)
        if stop >= 0:
            return decode_name(self.raw[start:stop])
        raise ObjectError(f".BTF: string at offset {offset} is not NUL-terminated")

    def type(self, type_id: int) -> BtfType:
        """type: the decoded type `type_id` (cached)."""
        found = self._cache.get(type_id)
        if found is None:
            if not 0 < type_id < len(self._offsets):
                raise ObjectError(f".BTF: type id {type_id} does not exist")
            found = self._cache[type_id] = self._decode(type_id)
        return found

    def name_of(self, type_id: int) -> str:
        return self.type(type_id).name

    def find(self, name: str, kind: Kind | None = None) -> list[int]:
        """find: ids of the types called `name` (and of `kind`, if given)."""
        if self._names is None:
            self._names = self._name_index()
        ids = self._names.get(name, [])
        return ids if kind is None else [i for i in ids if self._kinds[i] == kind]

    def ids_of_kind(self, kind: Kind) -> list[int]:
        """ids_of_kind: every type id of `kind`, in id order (read from the index)."""
        out, kinds = [], self._kinds
        type_id = kinds.find(kind)
        while type_id > 0:
            out.append(type_id)
            type_id = kinds.find(kind, type_id + 1)
        return out

    def record_offset(self, type_id: int) -> int:
        """record_offset: where type `type_id`'s record starts in `raw`."""
        if not 0 < type_id < len(self._offsets):
            raise ObjectError(f".BTF: type id {type_id} does not exist")
        return self._offsets[type_id]

    def kind(self, type_id: int) -> Kind:
        """kind: the kind of type `type_id`, read from the index without decoding the type."""
        return Kind(self._checked_kind(type_id))

    def _checked_kind(self, type_id: int) -> int:
        """_checked_kind: the kind number of `type_id` (0 for void), which must exist."""
        if not 0 <= type_id < len(self._kinds):
            raise ObjectError(f".BTF: type id {type_id} does not exist")
        return self._kinds[type_id]

    def pointee(self, type_id: int) -> int | None:
        """pointee: what the PTR `type_id` names through skip_mods_and_typedefs points to;
        None if that is not a PTR (read without decoding the PTR)."""
        ptr = self._skipped_to(type_id, Kind.PTR)
        if ptr is None:
            return None
        target = self._u32_at(self._offsets[ptr] + 8)
        return target if target < len(self._offsets) else self._ref(target, ptr)

    def array_len(self, type_id: int) -> int | None:
        """array_len: the element count of the ARRAY `type_id` names through
        skip_mods_and_typedefs, None if that is not an ARRAY."""
        array = self._skipped_to(type_id, Kind.ARRAY)
        if array is None:
            return None
        return self._u32_at(self._offsets[array] + 20)

    def _u32_at(self, pos: int) -> int:
        value: int = struct.unpack_from(self.byteorder + "I", self.raw, pos)[0]
        return value

    def _skipped_to(self, type_id: int, kind: Kind) -> int | None:
        """_skipped_to: what `type_id` names through skip_mods_and_typedefs, if that is of
        kind `kind`, else None; read from the kind index, nothing decoded."""
        found = self._checked_kind(type_id)
        if found in _SKIPPED_KINDS:
            type_id = self.skip_mods_and_typedefs(type_id)
            found = self._kinds[type_id]  # a chain ends at a type that exists (_decode checks)
        return type_id if found == kind else None

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
        # The kind index finds the few DATASECs without decoding every type's name.
        for type_id in self.ids_of_kind(Kind.DATASEC):
            found = self.type(type_id)
            if isinstance(found, Datasec) and found.name == name:
                return found
        return None

    def skip_mods_and_typedefs(self, type_id: int) -> int:
        """skip_mods_and_typedefs: follow CONST/VOLATILE/RESTRICT/TYPE_TAG/TYPEDEF (libbpf)."""
        kinds, links = self._kinds, 0
        # The kind table answers without decoding the type (most chains have no link), and
        # a while loop builds no range() for the common case of none.
        while 0 <= type_id < len(kinds) and kinds[type_id] in _SKIPPED_KINDS:
            t = self.type(type_id)
            assert isinstance(t, _LINKS)
            type_id = t.type
            links += 1
            if links == MAX_RESOLVE_DEPTH:
                raise ObjectError(f".BTF: type chain from [{type_id}] is too deep or loops")
        return type_id

    def resolve_size(self, type_id: int) -> int:
        """resolve_size: byte size of a type (libbpf btf__resolve_size)."""
        nelems = 1
        for _ in range(MAX_RESOLVE_DEPTH):
            t = self.type(type_id)
            if isinstance(t, _SIZED):
                size = t.size
                break
            if isinstance(t, Ptr):
                size = PTR_SIZE
                break
            if isinstance(t, _REFERRING):
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
        raw, bo = self.raw, self.byteorder
        first, end = self._types
        if not first <= pos <= end - 12:
            raise ObjectError(f".BTF: type [{type_id}] lies outside the type section")
        name_off, info, size_type = struct.unpack_from(bo + "III", raw, pos)
        k, vlen, kflag = (info >> 24) & 0x1F, info & 0xFFFF, info > 0x7FFFFFFF
        # Offsets may come from a cache: the record must be what the index says it is.
        if k != self._kinds[type_id] or pos + 12 + _FIXED_EXTRA[k] + _PER_VLEN[k] * vlen > end:
            raise ObjectError(f".BTF: type [{type_id}] does not match the type index")
        kind = Kind(k)
        name = self.string(name_off) if name_off else ""
        extra = pos + 12
        if kind == Kind.PTR:
            return Ptr(type_id, kind, name, self._ref(size_type, type_id))
        if kind in (Kind.STRUCT, Kind.UNION):
            members = self._members(extra, vlen, kflag, type_id)
            return Composite(type_id, kind, name, size_type, members)
        if kind == Kind.ARRAY:
            elem, index, nelems = struct.unpack_from(bo + "III", raw, extra)
            return Array(
                type_id, kind, name, self._ref(elem, type_id), self._ref(index, type_id), nelems
            )
        if kind == Kind.INT:
            word = self._u32_at(extra)
            return Int(
                type_id, kind, name, size_type, (word >> 24) & 0xF, (word >> 16) & 0xFF, word & 0xFF
            )
        if kind in _REF_ONLY:
            return _REF_ONLY[kind](type_id, kind, name, self._ref(size_type, type_id))
        if kind in (Kind.ENUM, Kind.ENUM64):
            values = self._enum_values(extra, vlen, kind, kflag)
            return Enum(type_id, kind, name, size_type, kflag, values)
        if kind == Kind.FWD:
            return Fwd(type_id, kind, name, kflag)
        if kind == Kind.FUNC:
            return Func(type_id, kind, name, self._ref(size_type, type_id), vlen)
        if kind == Kind.FUNC_PROTO:
            params = self._params(extra, vlen, type_id)
            return FuncProto(type_id, kind, name, self._ref(size_type, type_id), params)
        if kind == Kind.VAR:
            linkage = self._u32_at(extra)
            return Var(type_id, kind, name, self._ref(size_type, type_id), linkage)
        if kind == Kind.DATASEC:
            entries = struct.iter_unpack(bo + "III", raw[extra : extra + 12 * vlen])
            secinfo = tuple(
                VarSecinfo(self._ref(var, type_id), offset, size) for var, offset, size in entries
            )
            return Datasec(type_id, kind, name, size_type, secinfo)
        if kind == Kind.FLOAT:
            return Float(type_id, kind, name, size_type)
        component = struct.unpack_from(bo + "i", raw, extra)[0]
        return DeclTag(type_id, kind, name, self._ref(size_type, type_id), component)

    def _params(self, pos: int, vlen: int, owner: int) -> tuple[Param, ...]:
        return tuple(
            Param(self.string(n) if n else "", self._ref(t, owner))
            for n, t in struct.iter_unpack(self.byteorder + "II", self.raw[pos : pos + 8 * vlen])
        )

    def _members(self, pos: int, vlen: int, kflag: bool, owner: int) -> tuple[Member, ...]:
        # Member records repeat from struct to struct (each map definition has the same
        # `type`, `key` and `value` members): each distinct record is decoded once.
        memo = self._member_memo[kflag]
        out = []
        for record in struct.iter_unpack(self.byteorder + "III", self.raw[pos : pos + 12 * vlen]):
            member = memo.get(record)
            if member is None:
                name_off, mtype, offset = record
                name = self.string(name_off)
                if mtype >= len(self._offsets):
                    self._ref(mtype, owner)
                bits, bit_offset = (offset >> 24, offset & 0xFFFFFF) if kflag else (0, offset)
                member = memo[record] = Member(name, mtype, bit_offset, bits)
            out.append(member)
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


def _record_size(info: int, type_id: int) -> int:
    """_record_size: the bytes of type #`type_id`, whose info word is `info`."""
    kind = (info >> 24) & 0x1F
    if not _RECORD_BASE[kind]:
        raise ObjectError(f".BTF: type #{type_id} has unknown kind {kind}")
    return _RECORD_BASE[kind] + _RECORD_PER_VLEN[kind] * (info & 0xFFFF)


def _kinds_at(raw: bytes, offsets: list[int], byteorder: str) -> bytearray:
    """_kinds_at: the kind of the record at each of `offsets` (the first is void's, 0).

    The kind bits are in the info word's most significant byte.
    """
    first = 7 if byteorder == "<" else 4
    top = raw[first : offsets[-1] + 8]  # top[pos]: the top byte of the info word at pos + 4
    kinds = bytearray(gather(top, offsets)).translate(_KIND_BITS)
    kinds[0] = 0
    return kinds


def _region(raw: bytes, hdr_len: int, off: int, length: int, what: str) -> tuple[int, int]:
    start = hdr_len + off
    if start > len(raw) or length > len(raw) - start:
        raise ObjectError(f".BTF: {what} section lies outside the blob")
    return start, start + length


def parse_btf(data: bytes, byteorder: str) -> BtfSpec:
    """parse_btf: validate and index a .BTF blob of the given byte order ("<" or ">")."""
    return BtfSpec(data, byteorder)
