"""types: BTF type records (include/uapi/linux/btf.h), one frozen dataclass per kind family."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


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


@dataclass(frozen=True, slots=True)
class Void:
    """Void: type id 0."""

    id: int = 0
    kind: Kind = Kind.UNKN
    name: str = ""


@dataclass(frozen=True, slots=True)
class Int:
    """Int: BTF_KIND_INT; encoding bits BTF_INT_SIGNED (1), CHAR (2), BOOL (4)."""

    id: int
    kind: Kind
    name: str
    size: int
    encoding: int
    bit_offset: int
    bits: int


@dataclass(frozen=True, slots=True)
class Ptr:
    """Ptr: BTF_KIND_PTR to `type`."""

    id: int
    kind: Kind
    name: str
    type: int


@dataclass(frozen=True, slots=True)
class Array:
    """Array: BTF_KIND_ARRAY (struct btf_array)."""

    id: int
    kind: Kind
    name: str
    type: int
    index_type: int
    nelems: int


@dataclass(frozen=True, slots=True)
class Member:
    """Member: struct btf_member with the kind_flag encoding of `offset` decoded."""

    name: str
    type: int
    bit_offset: int
    bitfield_size: int


@dataclass(frozen=True, slots=True)
class Composite:
    """Composite: BTF_KIND_STRUCT or BTF_KIND_UNION."""

    id: int
    kind: Kind
    name: str
    size: int
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class EnumValue:
    """EnumValue: struct btf_enum / btf_enum64 entry."""

    name: str
    value: int


@dataclass(frozen=True, slots=True)
class Enum:
    """Enum: BTF_KIND_ENUM or BTF_KIND_ENUM64; kind_flag means signed values."""

    id: int
    kind: Kind
    name: str
    size: int
    signed: bool
    values: tuple[EnumValue, ...]


@dataclass(frozen=True, slots=True)
class Fwd:
    """Fwd: BTF_KIND_FWD; kind_flag means a union."""

    id: int
    kind: Kind
    name: str
    is_union: bool


@dataclass(frozen=True, slots=True)
class Typedef:
    """Typedef: BTF_KIND_TYPEDEF."""

    id: int
    kind: Kind
    name: str
    type: int


@dataclass(frozen=True, slots=True)
class Modifier:
    """Modifier: VOLATILE, CONST, RESTRICT, or TYPE_TAG (whose name is the tag)."""

    id: int
    kind: Kind
    name: str
    type: int


@dataclass(frozen=True, slots=True)
class Func:
    """Func: BTF_KIND_FUNC; `type` is its FUNC_PROTO, linkage static/global/extern."""

    id: int
    kind: Kind
    name: str
    type: int
    linkage: int


@dataclass(frozen=True, slots=True)
class Param:
    """Param: struct btf_param."""

    name: str
    type: int


@dataclass(frozen=True, slots=True)
class FuncProto:
    """FuncProto: BTF_KIND_FUNC_PROTO."""

    id: int
    kind: Kind
    name: str
    return_type: int
    params: tuple[Param, ...]


@dataclass(frozen=True, slots=True)
class Var:
    """Var: BTF_KIND_VAR (struct btf_var linkage)."""

    id: int
    kind: Kind
    name: str
    type: int
    linkage: int


@dataclass(frozen=True, slots=True)
class VarSecinfo:
    """VarSecinfo: struct btf_var_secinfo."""

    type: int
    offset: int
    size: int


@dataclass(frozen=True, slots=True)
class Datasec:
    """Datasec: BTF_KIND_DATASEC."""

    id: int
    kind: Kind
    name: str
    size: int
    vars: tuple[VarSecinfo, ...]


@dataclass(frozen=True, slots=True)
class Float:
    """Float: BTF_KIND_FLOAT."""

    id: int
    kind: Kind
    name: str
    size: int


@dataclass(frozen=True, slots=True)
class DeclTag:
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
