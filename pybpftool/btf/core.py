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
   local value, then patched with the target's (btf/corepatch.py).

Annotations here are evaluated when defined (no `from __future__ import annotations`):
typing.NamedTuple compiles a string annotation into a ForwardRef per field, which every
CO-RE load, defining these records, paid for.
"""

from collections.abc import Callable, Iterator
from enum import IntEnum
from typing import NamedTuple

from pybpftool.btf.compat import essential_name, fields_compatible, types_compatible
from pybpftool.btf.spec import BtfSpec
from pybpftool.btf.types import Array, Composite, Enum, Int, Kind, Member, Ptr
from pybpftool.errors import ObjectError

MAX_SPEC_LEN = 64
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
            if fields_compatible(local, wanted.type, target, m.type):
                return Accessor(owner.id, i, m.name), m.type, offset
            pending.pop()  # not this composite; an enclosing one may have another
    return None


def match_spec(local: Spec, target: BtfSpec, cand: int, kind: int) -> Spec | None:
    """match_spec: the local spec carried over to candidate `cand`, or None if it misses."""
    if kind in TYPE_KINDS:
        ok = types_compatible(local.btf, local.root_id, target, cand)
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
