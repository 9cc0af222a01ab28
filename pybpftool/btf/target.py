"""target: a target BTF (the kernel's, or a file standing in for it) indexed for CO-RE.

CO-RE looks target types up by kind and essential name (`task_struct___old` -> `task_struct`).
The index holds, for the kinds a relocation can start from, every essential name with its
type ids, next to BtfSpec's record offsets and kinds. Building it costs one pass over the
type section; `encode`/`decode` turn it into a blob for the on-disk cache. The blob is a
header and the tables as they lie in memory, so a warm run reads the number tables where
they are in the blob (memoryviews) instead of unpacking a 1 MB marshal of them into new
objects (2 ms of a warm `object verify`, page faults mostly). A decoded blob is checked
against its key (what the BTF it indexes is: loader/targetbtf.py), the table sizes and its
own checksum, and every record is still checked against the kind table when it is decoded,
so a damaged cache is rebuilt, never believed.

The names stay one string in the blob (NameIndex): an object asks for a handful of names
of the kernel's tens of thousands, and a dict of them all cost more to build (7 ms) than
the rest of a warm load.
"""

from __future__ import annotations

import struct
import zlib
from array import array
from collections.abc import Sequence
from typing import NamedTuple

from pybpftool.btf.compat import essential_name
from pybpftool.btf.spec import BtfSpec, parse_btf
from pybpftool.btf.types import MAX_KIND, Kind
from pybpftool.errors import ObjectError

FORMAT = 3
BTF_MAGIC = 0xEB9F
CACHE_MAGIC = 0x49544250  # "PBTI" as a little-endian word: a foreign byte order misreads it
# After the checksum: magic, format, then the byte lengths of the key, of the offsets,
# starts and ids tables (native 32-bit words, as array("I") holds them) and of the text;
# the kinds table is as long as the offsets one has words.
_HEADER = struct.Struct("=7I")
_WORD = array("I").itemsize
# Kinds a relocation's root type can have (typedefs and ints for type relocations).
ROOT_KINDS = frozenset(
    {Kind.INT, Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.ENUM64, Kind.FWD, Kind.TYPEDEF, Kind.FLOAT}
)
_ROOT_TABLE = bytes(1 if k in ROOT_KINDS else 0 for k in range(256))
_ENUMS = (Kind.ENUM, Kind.ENUM64)
_KINDS = bytes(range(MAX_KIND + 1))
SEP = "\0"  # between names: a BTF string ends at its NUL, so no name holds one


class NameIndex:
    """NameIndex: root type ids by essential name, found without building a dict of all
    names: `text` is every name between NULs, and the ids of the i-th name are
    ids[starts[i]:starts[i + 1]]."""

    __slots__ = ("_found", "ids", "starts", "text")

    def __init__(self, text: str, starts: Sequence[int], ids: Sequence[int]) -> None:
        self.text = text
        self.starts = starts
        self.ids = ids
        self._found: dict[str, list[int]] = {}

    @classmethod
    def of(cls, names: dict[str, list[int]]) -> NameIndex:
        """of: the index of `names` (name -> type ids)."""
        starts, ids = array("I", [0]), array("I")
        for found in names.values():
            ids.extend(found)
            starts.append(len(ids))
        return cls(SEP + "".join(name + SEP for name in names), starts, ids)

    def get(self, name: str) -> list[int]:
        """get: the type ids called `name` (none: an empty list)."""
        found = self._found.get(name)
        if found is None:
            at = self.text.find(SEP + name + SEP)
            if at < 0:
                found = []
            else:
                i = self.text.count(SEP, 0, at)  # the name's place among the names
                found = list(self.ids[self.starts[i] : self.starts[i + 1]])
            self._found[name] = found
        return found

    def as_dict(self) -> dict[str, list[int]]:
        """as_dict: every name with its type ids."""
        return {name: self.get(name) for name in self.text[1:].split(SEP)[:-1]}

    def fits(self) -> bool:
        """fits: the three parts agree: one run of ids per name, the runs covering `ids`.
        (A run's ids are still checked when used: TargetBtf.candidates.)"""
        starts, text = self.starts, self.text
        return (
            text[:1] == SEP == text[-1:]
            and len(starts) == text.count(SEP)
            and starts[0] == 0
            and starts[-1] == len(self.ids)
        )


class TargetIndex(NamedTuple):
    """TargetIndex: where each type record starts, its kind, and root types by name (the
    number tables are arrays when built, read-only views of the cache blob when decoded)."""

    offsets: Sequence[int]
    kinds: bytes
    names: NameIndex


def byte_order(raw: bytes) -> str:
    """byte_order: "<" or ">" from a raw BTF blob's magic."""
    if len(raw) >= 2:
        if struct.unpack_from("<H", raw)[0] == BTF_MAGIC:
            return "<"
        if struct.unpack_from(">H", raw)[0] == BTF_MAGIC:
            return ">"
    raise ObjectError("not a BTF blob (bad magic)")


def digest(raw: bytes) -> str:
    """digest: the content hash of a BTF blob, which keys its cached index."""
    import hashlib  # OpenSSL's: only a target read whole pays its import

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
    return TargetIndex(array("I", offsets), bytes(kinds), NameIndex.of(names))


def encode(index: TargetIndex, key: str) -> bytes:
    """encode: the cache blob of `index` for the BTF that `key` names.

    Its checksum (CRC-32) is there to catch a damaged file: only root can write the cache
    folder (loader/targetbtf.py), so no one forges one."""
    names = index.names
    key_raw, text = key.encode(), names.text.encode()
    tables = [array("I", numbers).tobytes() for numbers in (index.offsets, names.starts, names.ids)]
    sizes = (len(key_raw), *(len(table) for table in tables), len(text))
    payload = b"".join(
        [_HEADER.pack(CACHE_MAGIC, FORMAT, *sizes), key_raw, *tables, bytes(index.kinds), text]
    )
    return zlib.crc32(payload).to_bytes(4, "little") + payload


def decode(blob: bytes, key: str) -> TargetIndex | None:
    """decode: the index in a cache blob, or None if it is damaged, stale or foreign."""
    checksum, payload = blob[:4], memoryview(blob)[4:]  # not a 1 MB copy: read in place
    if len(checksum) != 4 or zlib.crc32(payload) != int.from_bytes(checksum, "little"):
        return None
    if len(payload) < _HEADER.size:
        return None
    magic, fmt, *sizes = _HEADER.unpack_from(payload)
    key_size, offsets_size, starts_size, ids_size, text_size = sizes
    kinds_size = offsets_size // _WORD
    if magic != CACHE_MAGIC or fmt != FORMAT:
        return None
    if len(payload) != _HEADER.size + sum(sizes) + kinds_size or any(
        size % _WORD for size in (offsets_size, starts_size, ids_size)
    ):
        return None
    parts, at = [], _HEADER.size
    for size in (key_size, offsets_size, starts_size, ids_size, kinds_size, text_size):
        parts.append(payload[at : at + size])
        at += size
    found_key, offsets, starts, ids, kinds, text = parts
    if found_key != key.encode():
        return None
    try:
        names = NameIndex(str(text, "utf-8"), starts.cast("I"), ids.cast("I"))
    except UnicodeDecodeError:
        return None
    kinds_raw = bytes(kinds)
    unknown_kinds = kinds_raw.translate(None, _KINDS)  # what is left is not a kind
    if not offsets or unknown_kinds or not names.fits():
        return None
    return TargetIndex(offsets.cast("I"), kinds_raw, names)


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
        named = self.index.names.get(name)
        if named and max(named) >= len(kinds):
            raise ObjectError(f"target BTF index: type [{max(named)}] does not exist")
        found = [i for i in named if kinds[i] in wanted]
        # The index may come from a cache: a candidate must really carry the name.
        for type_id in found:
            if essential_name(btf.type(type_id).name) != name:
                raise ObjectError(f"target BTF index: type [{type_id}] is not called {name}")
        return found
