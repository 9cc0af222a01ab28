"""core: CO-RE relocations: rewrite field offsets, sizes and existence checks for a target BTF.

The semantics are libbpf's (relo_core.c, see spec/loaders.md §1.2), written here from them:

1. The access string ("0:2:1") is walked through the *local* (object) BTF into a spec: the
   named fields and array indexes it goes through and the bit offset it reaches.
2. Candidates are the target types of the same kind whose "essential" name (without a
   `___flavor` suffix) equals the local one.
3. Each candidate is matched by field *names* (anonymous members searched through) and
   array bounds, fields checked for compatible types; each match gives a value.
4. All matching candidates must agree; none matching means "poison the instruction": it is
   replaced by a call to helper 0xbad2310, which the verifier rejects only if reachable.
5. The instruction (ALU imm, load/store offset and size, or ld_imm64) is checked to hold the
   local value, then patched with the target's.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from enum import IntEnum
from typing import NamedTuple

from pybpftool.btf.spec import BtfSpec
from pybpftool.btf.types import Array, Composite, Enum, FuncProto, Int, Kind, Member, Ptr
from pybpftool.errors import ObjectError

POISON_HELPER = 0xBAD2310  # the verifier then says "invalid func unknown#195896080"
# (loader/corerelo.py repeats it, to explain logs without importing this module)
MAX_SPEC_LEN = 64
MAX_COMPAT_LEVELS = 32  # libbpf: chain steps and prototype nesting _types_compatible follows
BTF_INT_SIGNED = 1


class CoreKind(IntEnum):
    """CoreKind: enum bpf_core_relo_kind (include/uapi/linux/bpf.h)."""

    FIELD_BYTE_OFFSET = 0
    FIELD_BYTE_SIZE = 1
    FIELD_EXISTS = 2
    FIELD_SIGNED = 3
    FIELD_LSHIFT_U64 = 4
    FIELD_RSHIFT_U64 = 5
    TYPE_ID_LOCAL = 6
    TYPE_ID_TARGET = 7
    TYPE_EXISTS = 8
    TYPE_SIZE = 9
    ENUMVAL_EXISTS = 10
    ENUMVAL_VALUE = 11
    TYPE_MATCHES = 12


FIELD_KINDS = frozenset(range(0, 6))
TYPE_KINDS = frozenset({6, 7, 8, 9, 12})
ENUM_KINDS = frozenset({10, 11})
KIND_NAMES = {
    0: "byte_off",
    1: "byte_sz",
    2: "field_exists",
    3: "signed",
    4: "lshift_u64",
    5: "rshift_u64",
    6: "local_type_id",
    7: "target_type_id",
    8: "type_exists",
    9: "type_size",
    10: "enumval_exists",
    11: "enumval_value",
    12: "type_matches",
}


def essential_name(name: str) -> str:
    """essential_name: `name` without its `___flavor` suffix (the last `x___y` split)."""
    for i in range(len(name) - 5, -1, -1):
        sep = name[i : i + 5]
        if sep[0] != "_" and sep[1:4] == "___" and sep[4] != "_":
            return name[: i + 1]
    return name


class Accessor(NamedTuple):
    """Accessor: one meaningful step of a spec: a named member or an array index."""

    type_id: int  # the composite (for a member) or the element type (for an index)
    idx: int
    name: str | None


class Spec(NamedTuple):
    """Spec: where an access string leads in one BTF."""

    btf: BtfSpec
    root_id: int
    accessors: tuple[Accessor, ...]
    bit_offset: int
    raw: tuple[int, ...] = ()  # the access string's indexes (local spec only)


class Result(NamedTuple):
    """Result: a relocation's local and target values and how to apply them."""

    orig: int
    new: int
    poison: bool = False
    validate: bool = True
    orig_size: int = 0  # memory access size, when a load/store may need resizing
    new_size: int = 0
    size_change_unsafe: bool = False
    description: str = ""
    # A 32-bit enumerator: clang 14 writes an ld_imm64 of it zero- or sign-extended by the
    # C constant's type, which BTF does not record; either is accepted as the local value.
    either_extension: bool = False


def _kinds_compatible(a: Kind, b: Kind) -> bool:
    enums = (Kind.ENUM, Kind.ENUM64)
    return a == b or (a in enums and b in enums)


def _is_flex(btf: BtfSpec, parent: Accessor | None, array: Array) -> bool:
    if parent is None or parent.name is None or array.nelems > 0:
        return False
    outer = btf.type(parent.type_id)
    return isinstance(outer, Composite) and parent.idx == len(outer.members) - 1


def parse_local_spec(btf: BtfSpec, type_id: int, access: str, kind: int) -> Spec:
    """parse_local_spec: the spec an access string describes in the object's own BTF."""
    where = f"CO-RE access '{access}' on [{type_id}]"
    if kind in TYPE_KINDS:
        if access != "0":
            raise ObjectError(f'{where}: a type relocation takes access "0"')
        return Spec(btf, type_id, (), 0)
    try:
        raw = [int(part) for part in access.split(":")]
    except ValueError:
        raise ObjectError(f"{where}: not a list of indexes") from None
    if not raw or len(raw) > MAX_SPEC_LEN or any(i < 0 for i in raw):
        raise ObjectError(f"{where}: bad access string")
    cur = btf.skip_mods_and_typedefs(type_id)
    if kind in ENUM_KINDS:
        enum = btf.type(cur)
        if not isinstance(enum, Enum) or len(raw) > 1 or raw[0] >= len(enum.values):
            raise ObjectError(f"{where}: not an enumerator")
        accessor = Accessor(cur, raw[0], enum.values[raw[0]].name)
        return Spec(btf, type_id, (accessor,), 0, tuple(raw))
    if kind not in FIELD_KINDS:
        raise ObjectError(f"{where}: unknown CO-RE relocation kind {kind}")
    accessors = [Accessor(cur, raw[0], None)]
    bit_offset = raw[0] * btf.resolve_size(cur) * 8
    for idx in raw[1:]:
        cur = btf.skip_mods_and_typedefs(cur)
        t = btf.type(cur)
        if isinstance(t, Composite):
            if idx >= len(t.members):
                raise ObjectError(f"{where}: member {idx} of [{cur}] does not exist")
            member = t.members[idx]
            bit_offset += member.bit_offset
            if member.name:
                accessors.append(Accessor(cur, idx, member.name))
            cur = member.type
        elif isinstance(t, Array):
            parent = accessors[-1] if accessors else None
            if not _is_flex(btf, parent, t) and idx >= t.nelems:
                raise ObjectError(f"{where}: index {idx} is past the array [{cur}]")
            cur = btf.skip_mods_and_typedefs(t.type)
            accessors.append(Accessor(cur, idx, None))
            bit_offset += idx * btf.resolve_size(cur) * 8
        else:
            raise ObjectError(f"{where}: step {idx} reaches a {t.kind.name}")
    return Spec(btf, type_id, tuple(accessors), bit_offset, tuple(raw))


def _fields_compatible(local: BtfSpec, lid: int, target: BtfSpec, tid: int) -> bool:
    for _ in range(32):
        lt = local.type(local.skip_mods_and_typedefs(lid))
        tt = target.type(target.skip_mods_and_typedefs(tid))
        if isinstance(lt, Composite) and isinstance(tt, Composite):
            return True
        if not _kinds_compatible(lt.kind, tt.kind):
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


def _types_compatible(local: BtfSpec, lid: int, target: BtfSpec, tid: int) -> bool:
    """_types_compatible: libbpf's rules for type-based relocations (names already match).

    As in libbpf (__bpf_core_types_are_compat), a chain of pointers, arrays and return types
    is followed at most 32 steps, and function prototypes' parameters at most 32 levels deep,
    which is an error: a target typedef whose prototype takes and returns the typedef itself
    would never end. Each pair of types is compared once per level.
    """
    return _TypeComparison(local, target).compatible(lid, tid, MAX_COMPAT_LEVELS)


class _TypeComparison:
    """_TypeComparison: one _types_compatible question, with its answers so far."""

    def __init__(self, local: BtfSpec, target: BtfSpec) -> None:
        self.local, self.target = local, target
        self.known: dict[tuple[int, int, int], bool] = {}

    def compatible(self, lid: int, tid: int, level: int) -> bool:
        if (lid, tid, level) not in self.known:
            self.known[lid, tid, level] = self._compare(lid, tid, level)
        return self.known[lid, tid, level]

    def _compare(self, lid: int, tid: int, level: int) -> bool:
        local, target = self.local, self.target
        if not _kinds_compatible(local.kind(lid), target.kind(tid)):
            return False
        for _ in range(MAX_COMPAT_LEVELS):
            lid, tid = local.skip_mods_and_typedefs(lid), target.skip_mods_and_typedefs(tid)
            lt, tt = local.type(lid), target.type(tid)
            if not _kinds_compatible(lt.kind, tt.kind):
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


def _match_member(
    local: BtfSpec, acc: Accessor, target: BtfSpec, tid: int, bit_offset: int
) -> tuple[Accessor, int, int] | None:
    """_match_member: (target accessor, next type, bit offset) of the member named like the
    local one, searching anonymous members too (depth first, in member order, as libbpf);
    None when there is no compatible one. A composite whose member of that name is not
    compatible is given up, and the search goes on in the one enclosing it.

    Each composite is searched once: one that did not have the member the first time will
    not have it the next, so a member that loops back to its own struct ends the search
    there, and a deep nest of anonymous members costs one step per type.
    """
    local_member = local.type(acc.type_id)
    assert isinstance(local_member, Composite)
    wanted = local_member.members[acc.idx]
    searched: set[int] = set()
    # Each entry: a composite's members still to look at, and where the composite starts.
    pending: list[tuple[Iterator[tuple[int, Member]], Composite, int]] = []

    def enter(type_id: int, offset: int) -> None:
        found = target.skip_mods_and_typedefs(type_id)
        t = target.type(found)
        if isinstance(t, Composite) and found not in searched:
            searched.add(found)
            pending.append((iter(enumerate(t.members)), t, offset))

    enter(tid, bit_offset)
    while pending:
        members, owner, start = pending[-1]
        step = next(members, None)
        if step is None:
            pending.pop()
            continue
        i, m = step
        offset = start + m.bit_offset
        if not m.name:
            enter(m.type, offset)
        elif m.name == wanted.name:
            if _fields_compatible(local, wanted.type, target, m.type):
                return Accessor(owner.id, i, m.name), m.type, offset
            pending.pop()  # not this composite; an enclosing one may have another
    return None


def match_spec(local: Spec, target: BtfSpec, cand: int, kind: int) -> Spec | None:
    """match_spec: the local spec carried over to candidate `cand`, or None if it misses."""
    if kind in TYPE_KINDS:
        ok = _types_compatible(local.btf, local.root_id, target, cand)
        return Spec(target, cand, (), 0) if ok else None
    if kind in ENUM_KINDS:
        enum_id = target.skip_mods_and_typedefs(cand)
        enum = target.type(enum_id)
        if not isinstance(enum, Enum):
            return None
        wanted = essential_name(local.accessors[0].name or "")
        for i, value in enumerate(enum.values):
            if essential_name(value.name) == wanted:
                return Spec(target, cand, (Accessor(enum_id, i, value.name),), 0)
        return None
    accessors: list[Accessor] = []
    tid, bit_offset = cand, 0
    for n, acc in enumerate(local.accessors):
        tid = target.skip_mods_and_typedefs(tid)
        if acc.name is not None:
            found = _match_member(local.btf, acc, target, tid, bit_offset)
            if found is None:
                return None
            targ_acc, tid, bit_offset = found
            accessors.append(targ_acc)
            continue
        if n > 0:
            array = target.type(tid)
            if not isinstance(array, Array):
                return None
            if not _is_flex(target, accessors[-1] if accessors else None, array) and (
                acc.idx >= array.nelems
            ):
                return None
            tid = target.skip_mods_and_typedefs(array.type)
        accessors.append(Accessor(tid, acc.idx, None))
        bit_offset += acc.idx * target.resolve_size(tid) * 8
    return Spec(target, cand, tuple(accessors), bit_offset)


class _Field(NamedTuple):
    value: int
    size: int  # memory access size (0 when not resizable)
    type_id: int
    validate: bool


def _field_value(spec: Spec | None, kind: int) -> _Field | None:
    """_field_value: a field relocation's value for one spec; None asks for poisoning."""
    if kind == CoreKind.FIELD_EXISTS:
        return _Field(1 if spec else 0, 0, 0, True)
    if spec is None:
        return None
    btf, acc = spec.btf, spec.accessors[-1]
    if acc.name is None:  # a[n]
        size = btf.resolve_size(acc.type_id)
        if kind == CoreKind.FIELD_BYTE_OFFSET:
            return _Field(spec.bit_offset // 8, size, acc.type_id, True)
        if kind == CoreKind.FIELD_BYTE_SIZE:
            return _Field(size, 0, 0, True)
        raise ObjectError(f"CO-RE {KIND_NAMES[kind]} cannot apply to an array element")
    owner = btf.type(acc.type_id)
    assert isinstance(owner, Composite)
    member = owner.members[acc.idx]
    field_id = btf.skip_mods_and_typedefs(member.type)
    field = btf.type(field_id)
    bit_off, bit_sz = spec.bit_offset, member.bitfield_size
    if bit_sz:
        byte_sz = btf.resolve_size(field_id)
        if not byte_sz:
            raise ObjectError(f"CO-RE relocation on bitfield '{member.name}' of a type of no size")
        byte_off = bit_off // 8 // byte_sz * byte_sz
        while bit_off + bit_sz - byte_off * 8 > byte_sz * 8:
            if byte_sz >= 8:
                raise ObjectError("CO-RE relocation on a bitfield no 64-bit load can reach")
            byte_sz *= 2
            byte_off = bit_off // 8 // byte_sz * byte_sz
    else:
        byte_sz = btf.resolve_size(field_id)
        byte_off, bit_sz = bit_off // 8, byte_sz * 8
    # A bitfield's offset, size and shift depend on how the compiler chose to load it,
    # so the instruction's value is not checked (signedness and right shift are).
    validate = not member.bitfield_size
    if kind == CoreKind.FIELD_BYTE_OFFSET:
        size = 0 if member.bitfield_size else byte_sz
        return _Field(byte_off, size, field_id, validate)
    if kind == CoreKind.FIELD_BYTE_SIZE:
        return _Field(byte_sz, 0, 0, validate)
    if kind == CoreKind.FIELD_SIGNED:
        signed = (isinstance(field, Enum) and field.signed) or (
            isinstance(field, Int) and bool(field.encoding & BTF_INT_SIGNED)
        )
        return _Field(int(signed), 0, 0, True)
    if kind == CoreKind.FIELD_LSHIFT_U64:
        if btf.byteorder == "<":
            shift = 64 - (bit_off + bit_sz - byte_off * 8)
        else:
            shift = (8 - byte_sz) * 8 + (bit_off - byte_off * 8)
        return _Field(shift, 0, 0, validate)
    return _Field(64 - bit_sz, 0, 0, True)  # FIELD_RSHIFT_U64


def _other_value(spec: Spec | None, kind: int) -> int | None:
    if kind in TYPE_KINDS:
        if spec is None:
            return 0
        if kind == CoreKind.TYPE_ID_TARGET:
            return spec.root_id
        if kind == CoreKind.TYPE_SIZE:
            return spec.btf.resolve_size(spec.root_id)
        return 1  # TYPE_EXISTS
    if kind == CoreKind.ENUMVAL_EXISTS:
        return 1 if spec else 0
    if spec is None:
        return None  # ENUMVAL_VALUE with no target: poison
    enum = spec.btf.type(spec.accessors[0].type_id)
    assert isinstance(enum, Enum)
    value = enum.values[spec.accessors[0].idx].value
    if enum.kind == Kind.ENUM:  # libbpf reads a 32-bit enumerator as s32, whatever its sign
        value = ((value & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000
    return value


def _calc(local: Spec, target: Spec | None, kind: int) -> Result:
    if kind in FIELD_KINDS:
        orig = _field_value(local, kind)
        new = _field_value(target, kind)
        assert orig is not None
        if new is None:
            return Result(orig.value, 0, poison=True)
        unsafe = False
        if orig.size != new.size and target is not None:
            lt, tt = local.btf.type(orig.type_id), target.btf.type(new.type_id)
            same_ptr = isinstance(lt, Ptr) and isinstance(tt, Ptr)
            unsigned = (
                isinstance(lt, Int)
                and isinstance(tt, Int)
                and lt.encoding != BTF_INT_SIGNED
                and tt.encoding != BTF_INT_SIGNED
            )
            unsafe = not (same_ptr or unsigned)
        return Result(orig.value, new.value, False, orig.validate, orig.size, new.size, unsafe)
    orig_value = _other_value(local, kind)
    new_value = _other_value(target, kind)
    assert orig_value is not None
    if new_value is None:
        return Result(orig_value, 0, poison=True)
    either = (
        kind == CoreKind.ENUMVAL_VALUE and local.btf.kind(local.accessors[0].type_id) == Kind.ENUM
    )
    return Result(
        orig_value,
        new_value,
        validate=kind != CoreKind.TYPE_ID_TARGET,
        either_extension=either,
    )


def describe(spec: Spec, kind: int) -> str:
    """describe: a relocation as libbpf prints it (bpf_core_format_spec), e.g.
    `<byte_off> [18] struct core_rec.in.x (0:5:0 @ offset 20)`."""
    root = spec.btf.type(spec.root_id)
    text = f"<{KIND_NAMES.get(kind, kind)}> [{spec.root_id}] {root.kind.name.lower()} "
    text += root.name or "<anon>"
    if kind in TYPE_KINDS:
        return text
    if kind in ENUM_KINDS:
        acc = spec.accessors[0]
        enum = spec.btf.type(acc.type_id)
        assert isinstance(enum, Enum)
        return text + f"::{acc.name} = {enum.values[acc.idx].value}"
    for n, acc in enumerate(spec.accessors):
        if acc.name is not None:
            text += f".{acc.name}"
        elif n > 0 or acc.idx > 0:
            text += f"[{acc.idx}]"
    where = f"{spec.bit_offset // 8}" + (f".{spec.bit_offset % 8}" if spec.bit_offset % 8 else "")
    return text + f" ({':'.join(map(str, spec.raw))} @ offset {where})"


def _name(btf: BtfSpec, type_id: int) -> str:
    t = btf.type(type_id)
    return f"{t.kind.name.lower()} {t.name or '<anon>'} [{type_id}]"


Candidates = Callable[[Kind, str], list[int]]


def resolve(
    local_btf: BtfSpec,
    target: BtfSpec,
    candidates: Candidates,
    type_id: int,
    access: str,
    kind: int,
) -> Result:
    """resolve: the relocation's result against `target` (candidates by kind and name)."""
    local = parse_local_spec(local_btf, type_id, access, kind)
    if kind == CoreKind.TYPE_ID_LOCAL:
        return Result(type_id, type_id, validate=False, description=describe(local, kind))
    if kind == CoreKind.TYPE_MATCHES:
        raise ObjectError("CO-RE type_matches relocations are not supported")
    root = local_btf.type(type_id)
    if not root.name:
        raise ObjectError(f"CO-RE relocation on anonymous type [{type_id}] is not supported")
    found: tuple[Spec, Result] | None = None
    for cand in candidates(local_btf.kind(type_id), essential_name(root.name)):
        spec = match_spec(local, target, cand, kind)
        if spec is None:
            continue
        result = _calc(local, spec, kind)
        if found is None:
            found = (spec, result)
        elif spec.bit_offset != found[0].bit_offset or (result.poison, result.new) != (
            found[1].poison,
            found[1].new,
        ):
            raise ObjectError(
                f"CO-RE relocation {describe(local, kind)} is ambiguous: target "
                f"{_name(target, found[0].root_id)} gives {found[1].new}, "
                f"{_name(target, cand)} gives {result.new}"
            )
    result = found[1] if found is not None else _calc(local, None, kind)
    return result._replace(description=describe(local, kind))


def _unpack(buf: bytearray, idx: int, bo: str) -> tuple[int, int, int, int]:
    """_unpack: (code, src_reg, off, imm) of instruction `idx`."""
    code, regs, off, imm = struct.unpack_from(bo + "BBhi", buf, idx * 8)
    return code, regs >> 4 if bo == "<" else regs & 0xF, off, imm


def poison(buf: bytearray, idx: int, bo: str) -> None:
    """poison: a call to helper 0xbad2310 in place of instruction `idx` (both ld_imm64
    slots), which the verifier rejects only if it can reach it."""
    slots = (idx, idx + 1) if buf[idx * 8] == 0x18 else (idx,)  # patch checks both exist
    for i in slots:
        struct.pack_into(bo + "BBhi", buf, i * 8, 0x85, 0, 0, POISON_HELPER)


_SIZES = {8: 0x18, 4: 0x00, 2: 0x08, 1: 0x10}  # BPF_DW, BPF_W, BPF_H, BPF_B


def patch(buf: bytearray, idx: int, result: Result, bo: str) -> bool:
    """patch: apply `result` to instruction `idx` (after checking it holds the local value);
    True when the instruction was poisoned instead."""
    where = f"instruction {idx} ({result.description})"
    if result.poison:
        if buf[idx * 8] == 0x18 and len(buf) < (idx + 2) * 8:
            raise ObjectError(f"CO-RE {where}: ld_imm64 is cut short")
        poison(buf, idx, bo)
        return True
    code, src, off, imm = _unpack(buf, idx, bo)
    cls = code & 0x07
    if cls in (0x04, 0x07):  # ALU, ALU64
        if code & 0x08:
            raise ObjectError(f"CO-RE {where}: ALU with a register source")
        if result.validate and imm & 0xFFFFFFFF != result.orig & 0xFFFFFFFF:
            raise ObjectError(f"CO-RE {where}: holds {imm}, expected {result.orig}")
        struct.pack_into(bo + "i", buf, idx * 8 + 4, _s32(result.new))
    elif cls in (0x01, 0x02, 0x03):  # LDX, ST, STX
        if result.validate and off != result.orig:
            raise ObjectError(f"CO-RE {where}: offset {off}, expected {result.orig}")
        if result.new > 0x7FFF:
            raise ObjectError(f"CO-RE {where}: offset {result.new} does not fit")
        if result.size_change_unsafe:
            poison(buf, idx, bo)  # resizing would change the value read: libbpf poisons too
            return True
        struct.pack_into(bo + "h", buf, idx * 8 + 2, result.new)
        if result.new_size != result.orig_size:
            if _SIZES.get(result.orig_size) != code & 0x18 or result.new_size not in _SIZES:
                raise ObjectError(f"CO-RE {where}: unexpected memory access size")
            buf[idx * 8] = (code & ~0x18) | _SIZES[result.new_size]
    elif code == 0x18:  # ld_imm64
        if (
            len(buf) < (idx + 2) * 8
            or src != 0
            or off != 0
            or buf[(idx + 1) * 8 : (idx + 1) * 8 + 4] != bytes(4)  # code, regs, off
        ):
            raise ObjectError(f"CO-RE {where}: ld_imm64 of an unexpected form")
        hi = struct.unpack_from(bo + "i", buf, idx * 8 + 12)[0]
        value = (imm & 0xFFFFFFFF) | ((hi & 0xFFFFFFFF) << 32)
        expected = {result.orig & 0xFFFFFFFFFFFFFFFF}
        if result.either_extension:
            expected.add(result.orig & 0xFFFFFFFF)
        if result.validate and value not in expected:
            raise ObjectError(f"CO-RE {where}: holds {value}, expected {result.orig}")
        new = result.new & 0xFFFFFFFFFFFFFFFF
        struct.pack_into(bo + "i", buf, idx * 8 + 4, _s32(new & 0xFFFFFFFF))
        struct.pack_into(bo + "i", buf, idx * 8 + 12, _s32(new >> 32))
    else:
        raise ObjectError(f"CO-RE {where}: instruction code {code:#x} cannot be relocated")
    return False


def _s32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value
