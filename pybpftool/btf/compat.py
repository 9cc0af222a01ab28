"""compat: libbpf's CO-RE compatibility rules between a local (object) and a target type,
names aside: essential names, kinds, fields (bpf_core_fields_are_compat) and types
(__bpf_core_types_are_compat), bounded as libbpf bounds them.
"""

from __future__ import annotations

from pybpftool.btf.spec import BtfSpec
from pybpftool.btf.types import Array, Composite, FuncProto, Int, Kind, Ptr
from pybpftool.errors import ObjectError

MAX_COMPAT_LEVELS = 32  # libbpf: chain steps and prototype nesting types_compatible follows


def essential_name(name: str) -> str:
    """essential_name: `name` without its `___flavor` suffix (the last `x___y` split)."""
    for i in range(len(name) - 5, -1, -1):
        sep = name[i : i + 5]
        if sep[0] != "_" and sep[1:4] == "___" and sep[4] != "_":
            return name[: i + 1]
    return name


def kinds_compatible(a: Kind, b: Kind) -> bool:
    enums = (Kind.ENUM, Kind.ENUM64)
    return a == b or (a in enums and b in enums)


def fields_compatible(local: BtfSpec, lid: int, target: BtfSpec, tid: int) -> bool:
    for _ in range(32):
        lt = local.type(local.skip_mods_and_typedefs(lid))
        tt = target.type(target.skip_mods_and_typedefs(tid))
        if isinstance(lt, Composite) and isinstance(tt, Composite):
            return True
        if not kinds_compatible(lt.kind, tt.kind):
            return False
        if lt.kind in (Kind.PTR, Kind.FLOAT):
            return True
        if lt.kind in (Kind.FWD, Kind.ENUM, Kind.ENUM64):
            a, b = essential_name(lt.name), essential_name(tt.name)
            return not a or not b or a == b
        if isinstance(lt, Int) and isinstance(tt, Int):
            return lt.bit_offset == 0 and tt.bit_offset == 0
        if isinstance(lt, Array) and isinstance(tt, Array):
            lid, tid = lt.type, tt.type
            continue
        return False
    return False


def types_compatible(local: BtfSpec, lid: int, target: BtfSpec, tid: int) -> bool:
    """types_compatible: libbpf's rules for type-based relocations (names already match).

    As in libbpf (__bpf_core_types_are_compat), a chain of pointers, arrays and return types
    is followed at most 32 steps, and function prototypes' parameters at most 32 levels deep,
    which is an error: a target typedef whose prototype takes and returns the typedef itself
    would never end. Each pair of types is compared once per level.
    """
    return _TypeComparison(local, target).compatible(lid, tid, MAX_COMPAT_LEVELS)


class _TypeComparison:
    """_TypeComparison: one types_compatible question, with its answers so far."""

    def __init__(self, local: BtfSpec, target: BtfSpec) -> None:
        self.local, self.target = local, target
        self.known: dict[tuple[int, int, int], bool] = {}

    def compatible(self, lid: int, tid: int, level: int) -> bool:
        if (lid, tid, level) not in self.known:
            self.known[lid, tid, level] = self._compare(lid, tid, level)
        return self.known[lid, tid, level]

    def _compare(self, lid: int, tid: int, level: int) -> bool:
        local, target = self.local, self.target
        if not kinds_compatible(local.kind(lid), target.kind(tid)):
            return False
        for _ in range(MAX_COMPAT_LEVELS):
            lid, tid = local.skip_mods_and_typedefs(lid), target.skip_mods_and_typedefs(tid)
            lt, tt = local.type(lid), target.type(tid)
            if not kinds_compatible(lt.kind, tt.kind):
                return False
            if lt.kind in (Kind.UNKN, Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.ENUM64, Kind.FWD):
                return True
            if isinstance(lt, Int) and isinstance(tt, Int):
                return lt.bit_offset == 0 and tt.bit_offset == 0
            if isinstance(lt, (Ptr, Array)) and isinstance(tt, (Ptr, Array)):
                lid, tid = lt.type, tt.type  # same kind: checked above
            elif isinstance(lt, FuncProto) and isinstance(tt, FuncProto):
                if len(lt.params) != len(tt.params):
                    return False
                for lp, tp in zip(lt.params, tt.params, strict=True):
                    if level <= 0:
                        raise ObjectError(
                            f"CO-RE: local type [{lid}] and target type [{tid}] nest function"
                            f" prototypes more than {MAX_COMPAT_LEVELS} deep"
                        )
                    lp_id = local.skip_mods_and_typedefs(lp.type)
                    tp_id = target.skip_mods_and_typedefs(tp.type)
                    if not self.compatible(lp_id, tp_id, level - 1):
                        return False
                lid, tid = lt.return_type, tt.return_type
            else:
                return False  # FLOAT and the rest: libbpf calls them incompatible
        return False
