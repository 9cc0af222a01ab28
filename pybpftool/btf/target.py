"""target: a target BTF (the kernel's, or a file standing in for it) indexed for CO-RE.

CO-RE looks target types up by kind and essential name (`task_struct___old` -> `task_struct`).
The index holds, for the kinds a relocation can start from, every essential name with its
type ids, next to BtfSpec's record offsets and kinds. Building it costs one pass over the
type section; `encode`/`decode` turn it into a compact marshal blob for the on-disk cache
(marshal, never pickle: loading it cannot run code). A decoded blob is checked against the
BTF's digest, the type count and its own checksum, and every record is still checked against
the kind table when it is decoded, so a damaged cache is rebuilt, never believed.
"""

from __future__ import annotations

import hashlib
import marshal
import struct
from array import array
from typing import NamedTuple

from pybpftool.btf.compat import essential_name
from pybpftool.btf.spec import BtfSpec, parse_btf
from pybpftool.btf.types import MAX_KIND, Kind
from pybpftool.errors import ObjectError

FORMAT = 1
BTF_MAGIC = 0xEB9F
# Kinds a relocation's root type can have (typedefs and ints for type relocations).
ROOT_KINDS = frozenset(
    {Kind.INT, Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.ENUM64, Kind.FWD, Kind.TYPEDEF, Kind.FLOAT}
)
_ROOT_TABLE = bytes(1 if k in ROOT_KINDS else 0 for k in range(256))
_ENUMS = (Kind.ENUM, Kind.ENUM64)


class TargetIndex(NamedTuple):
    """TargetIndex: where each type record starts, its kind, and root types by name."""

    offsets: array[int]
    kinds: bytes
    names: dict[str, list[int]]


def byte_order(raw: bytes) -> str:
    """byte_order: "<" or ">" from a raw BTF blob's magic."""
    if len(raw) >= 2:
        if struct.unpack_from("<H", raw)[0] == BTF_MAGIC:
            return "<"
        if struct.unpack_from(">H", raw)[0] == BTF_MAGIC:
            return ">"
    raise ObjectError("not a BTF blob (bad magic)")


def digest(raw: bytes) -> str:
    """digest: the content hash a cached index is keyed and validated by."""
    return hashlib.sha256(raw).hexdigest()


def build_index(btf: BtfSpec) -> TargetIndex:
    """build_index: the name index of `btf` (one pass over the root kinds' names)."""
    offsets, kinds = btf.index_tables()
    unpack = struct.Struct(btf.byteorder + "I").unpack_from
    raw, string, table = btf.raw, btf.string, _ROOT_TABLE
    names: dict[str, list[int]] = {}
    for type_id in range(1, len(offsets)):
        if table[kinds[type_id]]:
            name_off = unpack(raw, offsets[type_id])[0]
            if name_off:
                name = string(name_off)
                if "___" in name:
                    name = essential_name(name)
                names.setdefault(name, []).append(type_id)
    return TargetIndex(array("I", offsets), bytes(kinds), names)


def encode(index: TargetIndex, key: str) -> bytes:
    """encode: the cache blob of `index` for the BTF whose digest is `key`."""
    payload = marshal.dumps(
        (FORMAT, key, index.offsets.tobytes(), index.kinds, index.names), marshal.version
    )
    return hashlib.sha256(payload).digest() + payload


def decode(blob: bytes, key: str) -> TargetIndex | None:
    """decode: the index in a cache blob, or None if it is damaged, stale or foreign."""
    checksum, payload = blob[:32], blob[32:]
    if hashlib.sha256(payload).digest() != checksum:
        return None
    try:
        fmt, found_key, offsets_raw, kinds, names = marshal.loads(payload)
    except (ValueError, EOFError, TypeError):
        return None
    if fmt != FORMAT or found_key != key or not isinstance(names, dict):
        return None
    if not isinstance(offsets_raw, bytes) or not isinstance(kinds, bytes):
        return None
    offsets = array("I")
    if len(offsets_raw) % offsets.itemsize:
        return None
    offsets.frombytes(offsets_raw)
    if len(offsets) != len(kinds) or not offsets or max(kinds) > MAX_KIND:
        return None
    return TargetIndex(offsets, kinds, names)


class TargetBtf:
    """TargetBtf: a target BTF with lazily decoded types and a candidate lookup."""

    def __init__(self, raw: bytes, index: TargetIndex | None = None) -> None:
        order = byte_order(raw)
        if index is None:
            self.btf = parse_btf(raw, order)
            index = build_index(self.btf)
        else:
            self.btf = BtfSpec(raw, order, (index.offsets, index.kinds))
        self.index = index

    def candidates(self, kind: Kind, name: str) -> list[int]:
        """candidates: target types of a kind compatible with `kind` whose essential name
        is `name` (enums and 64-bit enums match each other, as in libbpf)."""
        kinds, btf = self.index.kinds, self.btf
        wanted = _ENUMS if kind in _ENUMS else (kind,)
        found = [i for i in self.index.names.get(name, ()) if kinds[i] in wanted]
        # The index may come from a cache: a candidate must really carry the name.
        for type_id in found:
            if essential_name(btf.type(type_id).name) != name:
                raise ObjectError(f"target BTF index: type [{type_id}] is not called {name}")
        return found
