"""btfbuild: extend an object's .BTF with new types, or build one from nothing.

Records and strings are appended, never moved: existing type ids and string offsets keep their
meaning, so `.BTF.ext` (func_info, line_info, CO-RE records name types by id and files and
lines by string offset) stays valid as it is. A record may be replaced in place by another of
the same id (the converter rewrites the legacy `maps` DATASEC that way); the type section is
re-encoded, so a replacement may change a record's length.

Encodings follow include/uapi/linux/btf.h; each record is built once per distinct content, so
the same `int (*)[4]` member type is shared by every map definition that needs it, as clang
shares it.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from pybpftool.btf import BtfSpec, Int, Kind
from pybpftool.btf.spec import BTF_HEADER_SIZE, BTF_MAGIC
from pybpftool.errors import ObjectError

BTF_VERSION = 1
BTF_INT_SIGNED = 1
BTF_VAR_GLOBAL_ALLOCATED = 1
MAX_VLEN = 0xFFFF


class BtfBuilder:
    """BtfBuilder: the records and strings of one .BTF blob, ready to be extended."""

    def __init__(self, byteorder: str, base: BtfSpec | None = None) -> None:
        self.byteorder = byteorder
        self._records: list[bytes] = [b""]  # type id 0 (void) has no record
        self._strings = bytearray(b"\0")
        self._string_at: dict[bytes, int] = {b"": 0}
        self._built: dict[bytes, int] = {}
        self.base = base
        if base is not None:
            self._load(base)

    def _load(self, base: BtfSpec) -> None:
        raw = base.raw
        hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from(
            self.byteorder + "5I", raw, 4
        )
        # Every record is decoded once: what is carried over must be sound, not only the
        # parts a parse happened to read (the parser decodes lazily).
        for type_id in range(1, len(base)):
            base.type(type_id)
        offsets = [base.record_offset(i) for i in range(1, len(base))]
        ends = [*offsets[1:], hdr_len + type_off + type_len]
        self._records += [
            raw[start:end] for start, end in zip(offsets, ends[: len(offsets)], strict=True)
        ]
        strings = raw[hdr_len + str_off : hdr_len + str_off + str_len]
        self._strings = bytearray(strings if strings.endswith(b"\0") else strings + b"\0")

    def __len__(self) -> int:
        return len(self._records)

    def string(self, text: str) -> int:
        """string: the offset of `text` in the string section, appended if it is new."""
        raw = text.encode("utf-8", "surrogateescape")
        offset = self._string_at.get(raw)
        if offset is None:
            # An existing copy (clang's strings are unique) is found by one search.
            found = self._strings.find(b"\0" + raw + b"\0") if raw else 0
            if found >= 0 and raw:
                offset = found + 1
            else:
                offset = len(self._strings)
                self._strings += raw + b"\0"
            self._string_at[raw] = offset
        return offset

    def _record(self, name: str, kind: Kind, vlen: int, size_or_type: int, tail: bytes) -> bytes:
        if vlen > MAX_VLEN:
            raise ObjectError(f"BTF type {name!r} would have {vlen} members, at most {MAX_VLEN}")
        info = (int(kind) << 24) | vlen
        return struct.pack(self.byteorder + "III", self.string(name), info, size_or_type) + tail

    def _add(self, record: bytes) -> int:
        """_add: the id of a type with this exact record, appended if there is none yet."""
        type_id = self._built.get(record)
        if type_id is None:
            type_id = self._built[record] = len(self._records)
            self._records.append(record)
        return type_id

    def replace(self, type_id: int, record: bytes) -> None:
        """replace: give type `type_id` a new record (made by one of the *_record methods)."""
        if not 0 < type_id < len(self._records):
            raise ValueError(f"replace: type id {type_id} does not exist")
        self._records[type_id] = record

    def int_type(self, name: str, size: int, signed: bool) -> int:
        encoding = BTF_INT_SIGNED if signed else 0
        tail = struct.pack(self.byteorder + "I", (encoding << 24) | (size * 8))
        return self._add(self._record(name, Kind.INT, 0, size, tail))

    def ptr(self, target: int) -> int:
        return self._add(self._record("", Kind.PTR, 0, target, b""))

    def array(self, elem: int, index: int, nelems: int) -> int:
        tail = struct.pack(self.byteorder + "III", elem, index, nelems)
        return self._add(self._record("", Kind.ARRAY, 0, 0, tail))

    def struct(self, name: str, size: int, members: Sequence[tuple[str, int, int]]) -> int:
        """struct: a STRUCT of (member name, type id, bit offset) members."""
        return self._add(self.struct_record(name, size, members))

    def struct_record(self, name: str, size: int, members: Sequence[tuple[str, int, int]]) -> bytes:
        pack = struct.Struct(self.byteorder + "III").pack
        tail = b"".join(pack(self.string(m), t, off) for m, t, off in members)
        return self._record(name, Kind.STRUCT, len(members), size, tail)

    def func_proto(self, ret: int, params: Sequence[tuple[str, int]]) -> int:
        pack = struct.Struct(self.byteorder + "II").pack
        tail = b"".join(pack(self.string(n), t) for n, t in params)
        return self._add(self._record("", Kind.FUNC_PROTO, len(params), ret, tail))

    def var_record(self, name: str, type_id: int) -> bytes:
        tail = struct.pack(self.byteorder + "I", BTF_VAR_GLOBAL_ALLOCATED)
        return self._record(name, Kind.VAR, 0, type_id, tail)

    def var(self, name: str, type_id: int) -> int:
        # Never shared: a VAR is one variable, even if another has its name and type.
        self._records.append(self.var_record(name, type_id))
        return len(self._records) - 1

    def datasec_record(self, name: str, size: int, vars_: Sequence[tuple[int, int, int]]) -> bytes:
        """datasec_record: a DATASEC of (VAR id, offset, size) entries, sorted by offset."""
        pack = struct.Struct(self.byteorder + "III").pack
        tail = b"".join(pack(*entry) for entry in sorted(vars_, key=lambda v: v[1]))
        return self._record(name, Kind.DATASEC, len(vars_), size, tail)

    def datasec(self, name: str, size: int, vars_: Sequence[tuple[int, int, int]]) -> int:
        self._records.append(self.datasec_record(name, size, vars_))
        return len(self._records) - 1

    def void_ptr_record(self) -> bytes:
        """void_ptr_record: `void *`: what a type no longer needed becomes, so that the ids
        after it keep their meaning (a PTR to void is valid everywhere, names nothing)."""
        return self._record("", Kind.PTR, 0, 0, b"")

    def find_int(self, name: str, size: int, signed: bool) -> int:
        """find_int: an INT of the base called `name` with this size and sign, else a new one."""
        if self.base is not None:
            for type_id in self.base.find(name, Kind.INT):
                t = self.base.type(type_id)
                if (
                    isinstance(t, Int)
                    and t.size == size
                    and bool(t.encoding & BTF_INT_SIGNED) == signed
                    and t.bits == size * 8
                    and t.bit_offset == 0
                ):
                    return type_id
        return self.int_type(name, size, signed)

    def encode(self) -> bytes:
        """encode: the whole blob: header, type section, string section."""
        types = b"".join(self._records)
        header = struct.pack(
            self.byteorder + "HBBIIIII",
            BTF_MAGIC,
            BTF_VERSION,
            0,  # flags
            BTF_HEADER_SIZE,
            0,  # type_off
            len(types),
            len(types),  # str_off
            len(self._strings),
        )
        return header + types + bytes(self._strings)
