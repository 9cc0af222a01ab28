"""types: BTF type records (include/uapi/linux/btf.h), one named tuple per kind family.

Named tuples rather than frozen dataclasses: a large object decodes thousands of these, and a
tuple is built several times faster and its class costs far less to import.

Annotations here are evaluated when defined (no `from __future__ import annotations`):
typing.NamedTuple compiles a string annotation into a ForwardRef per field, which a cold
attach, defining these records, paid for.
"""

from enum import IntEnum
from typing import NamedTuple


class Kind(IntEnum):
    """Kind: BTF_KIND_* (include/uapi/linux/btf.h)."""

    UNKN = 0
    INT = 1
    PTR = 2
    ARRAY = 3
    STRUCT = 4
    UNION = 5
    ENUM = 6
    FWD = 7
    TYPEDEF = 8
    VOLATILE = 9
    CONST = 10
    RESTRICT = 11
    FUNC = 12
    FUNC_PROTO = 13
    VAR = 14
    DATASEC = 15
    FLOAT = 16
    DECL_TAG = 17
    TYPE_TAG = 18
    ENUM64 = 19


MAX_KIND = Kind.ENUM64
MODIFIERS = frozenset({Kind.VOLATILE, Kind.CONST, Kind.RESTRICT, Kind.TYPE_TAG})


class Void(NamedTuple):
    """Void: type id 0."""

    id: int = 0
    kind: Kind = Kind.UNKN
    name: str = ""


class Int(NamedTuple):
    """Int: BTF_KIND_INT; encoding bits BTF_INT_SIGNED (1), CHAR (2), BOOL (4)."""

    id: int
    kind: Kind
    name: str
    size: int
    encoding: int
    bit_offset: int
    bits: int


class Ptr(NamedTuple):
    """Ptr: BTF_KIND_PTR to `type`."""

    id: int
    kind: Kind
    name: str
    type: int


class Array(NamedTuple):
    """Array: BTF_KIND_ARRAY (struct btf_array)."""

    id: int
    kind: Kind
    name: str
    type: int
    index_type: int
    nelems: int


class Member(NamedTuple):
    """Member: struct btf_member with the kind_flag encoding of `offset` decoded."""

    name: str
    type: int
    bit_offset: int
    bitfield_size: int


class Composite(NamedTuple):
    """Composite: BTF_KIND_STRUCT or BTF_KIND_UNION."""

    id: int
    kind: Kind
    name: str
    size: int
    members: tuple[Member, ...]


class EnumValue(NamedTuple):
    """EnumValue: struct btf_enum / btf_enum64 entry."""

    name: str
    value: int


class Enum(NamedTuple):
    """Enum: BTF_KIND_ENUM or BTF_KIND_ENUM64; kind_flag means signed values."""

    id: int
    kind: Kind
    name: str
    size: int
    signed: bool
    values: tuple[EnumValue, ...]


class Fwd(NamedTuple):
    """Fwd: BTF_KIND_FWD; kind_flag means a union."""

    id: int
    kind: Kind
    name: str
    is_union: bool


class Typedef(NamedTuple):
    """Typedef: BTF_KIND_TYPEDEF."""

    id: int
    kind: Kind
    name: str
    type: int


class Modifier(NamedTuple):
    """Modifier: VOLATILE, CONST, RESTRICT, or TYPE_TAG (whose name is the tag)."""

    id: int
    kind: Kind
    name: str
    type: int


class Func(NamedTuple):
    """Func: BTF_KIND_FUNC; `type` is its FUNC_PROTO, linkage static/global/extern."""

    id: int
    kind: Kind
    name: str
    type: int
    linkage: int


class Param(NamedTuple):
    """Param: struct btf_param."""

    name: str
    type: int


class FuncProto(NamedTuple):
    """FuncProto: BTF_KIND_FUNC_PROTO."""

    id: int
    kind: Kind
    name: str
    return_type: int
    params: tuple[Param, ...]


class Var(NamedTuple):
    """Var: BTF_KIND_VAR (struct btf_var linkage)."""

    id: int
    kind: Kind
    name: str
    type: int
    linkage: int


class VarSecinfo(NamedTuple):
    """VarSecinfo: struct btf_var_secinfo."""

    type: int
    offset: int
    size: int


class Datasec(NamedTuple):
    """Datasec: BTF_KIND_DATASEC."""

    id: int
    kind: Kind
    name: str
    size: int
    vars: tuple[VarSecinfo, ...]


class Float(NamedTuple):
    """Float: BTF_KIND_FLOAT."""

    id: int
    kind: Kind
    name: str
    size: int


class DeclTag(NamedTuple):
    """DeclTag: BTF_KIND_DECL_TAG; component_idx -1 tags the type itself."""

    id: int
    kind: Kind
    name: str
    type: int
    component_idx: int


BtfType = (
    Void
    | Int
    | Ptr
    | Array
    | Composite
    | Enum
    | Fwd
    | Typedef
    | Modifier
    | Func
    | FuncProto
    | Var
    | Datasec
    | Float
    | DeclTag
)
