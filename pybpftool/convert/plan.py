"""plan: what each legacy map becomes in `.maps`, decided from the parsed ObjectSpec.

Pure decisions, no bytes: `plan_conversion` turns the legacy maps of an ObjectSpec into
MapDefs (the fields of a libbpf BTF map definition, its static slots) in the order libbpf must
create them, with a Finding for everything the output states differently or cannot state.

Rules (libbpf 1.1 parse_btf_map_def, bpf_object__collect_map_relos, iproute2 6.1
lib/bpf_libbpf.c):
- PIN_GLOBAL_NS is LIBBPF_PIN_BY_NAME: iproute2 opens objects with pin_root_path
  `<bpffs>/<tc|xdp|ip>/globals`, where its legacy loader pins PIN_GLOBAL_NS maps.
- PIN_OBJECT_NS and custom ids have no BTF equivalent: refused, or pinned by name or not at
  all as ConvertOptions select.
- map-in-map (`inner_id` names a template by `id`, `inner_idx` puts a map into slots) becomes
  `__array(values, <template>)` with the slots initialised through `.rel.maps`; libbpf fills
  them right after creating the outer map, so every slot map is placed before its outer.
- `ID/KEY` sections become slots of their prog array. iproute2's libbpf path loads only the
  attached program and `ID/KEY` sections whose ID it finds in a legacy `maps` section, which
  a converted object has not: a statically initialised prog array then fails its load
  ("failed to initialize slot"). So tail calls are refused unless a TailCallMode is chosen.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from pybpftool.btf import BtfSpec, Composite, Kind
from pybpftool.convert.findings import (
    ConvertOptions,
    Finding,
    Graft,
    PinChoice,
    Severity,
    TailCallMode,
)
from pybpftool.convert.tailplan import (
    IDENTIFIER,
    TailSlots,
    graft_sharing,
    make_grafts,
    section_notes,
    tail_call_refusals,
    tail_slots,
)
from pybpftool.maps.legacy import BPF_ELF_NO_SLOT
from pybpftool.spec import MapOrigin, MapSpec, ObjectSpec, Pinning, ProgramSpec
from pybpftool.uapi import BpfMapType

PROG_ARRAY = BpfMapType.BPF_MAP_TYPE_PROG_ARRAY
MAP_IN_MAP = frozenset(
    {BpfMapType.BPF_MAP_TYPE_ARRAY_OF_MAPS, BpfMapType.BPF_MAP_TYPE_HASH_OF_MAPS}
)
HASH_OF_MAPS = BpfMapType.BPF_MAP_TYPE_HASH_OF_MAPS
MAX_STATIC_SLOT = 1 << 16
_REFUSED, _CHANGED, _NOTE = Severity.REFUSED, Severity.CHANGED, Severity.NOTE


class MapDef(NamedTuple):
    """MapDef: the BTF definition of one map, as `__uint`/`__type`/`__array` members.

    `key_type`/`value_type` are BTF ids of the object's own types (0: sizes only). `slots`
    are (key, name): maps for map-in-map, programs for a prog array (`prog_slots`).
    """

    name: str
    type: int
    key_size: int
    value_size: int
    max_entries: int
    flags: int
    key_type: int = 0
    value_type: int = 0
    pin_by_name: bool = False
    inner: MapDef | None = None
    slots: tuple[tuple[int, str], ...] = ()
    prog_slots: bool = False


class ConversionPlan(NamedTuple):
    """ConversionPlan: the map definitions in `.maps` order, the findings, the grafts."""

    maps: tuple[MapDef, ...]
    findings: tuple[Finding, ...]
    grafts: tuple[Graft, ...]

    @property
    def refused(self) -> bool:
        return any(f.severity is _REFUSED for f in self.findings)


def plan_conversion(spec: ObjectSpec, options: ConvertOptions) -> ConversionPlan:
    """plan_conversion: the plan for the legacy maps of `spec`."""
    findings: list[Finding] = []
    legacy = [m for m in spec.maps if m.origin is MapOrigin.LEGACY]
    if not legacy:
        findings.append(
            Finding(_REFUSED, "object", "legacy maps", "it has no `maps` section: nothing to do")
        )
        return ConversionPlan((), tuple(findings), ())
    findings += _bad_names(legacy)
    tails = tail_slots(spec, legacy, findings)
    mode = options.tail_calls
    grafted = set(tails) if mode is TailCallMode.GRAFT else set()
    defs = [
        _map_def(spec.btf, m, options, tails.get(m.name, {}), m.name in grafted, findings)
        for m in legacy
    ]
    if tails and mode is None:
        findings += tail_call_refusals(tails)
    for m in legacy:
        if m.type in MAP_IN_MAP:
            findings += _map_in_map_findings(m)
    findings += _slot_bounds(defs)
    findings += _dropped_ids(legacy, tails)
    grafts: tuple[Graft, ...] = ()
    if grafted:
        grafts = make_grafts(tails)
        findings += graft_sharing(spec, {d.name for d in defs if d.pin_by_name}, grafts)
    findings += section_notes(spec, tails)
    return ConversionPlan(tuple(_creation_order(defs)), tuple(findings), grafts)


def _subject(name: str) -> str:
    return f"map '{name}'"


def _bad_names(legacy: list[MapSpec]) -> Iterable[Finding]:
    """_bad_names: libbpf names a map after its BTF VAR, and the kernel takes only C
    identifiers as VAR names (iproute2's loader never asked)."""
    for m in legacy:
        if not IDENTIFIER.fullmatch(m.name):
            yield Finding(
                _REFUSED,
                _subject(m.name),
                "map name",
                "a BTF map is named by its variable, which must be a C identifier",
                "rename the map's symbol",
            )


def _map_def(
    btf: BtfSpec | None,
    m: MapSpec,
    options: ConvertOptions,
    tails: dict[int, ProgramSpec],
    grafted: bool,
    findings: list[Finding],
) -> MapDef:
    key_type, value_type = _kv_types(btf, m)
    slots: tuple[tuple[int, str], ...] = ()
    inner = None
    if m.type in MAP_IN_MAP and m.inner is not None:
        inner = _template(btf, m.inner)
        slots = m.contents
    elif tails and options.tail_calls is TailCallMode.STATIC:
        slots = tuple((key, prog.name) for key, prog in sorted(tails.items()))
    if grafted:
        pin = True
        if m.pinning is not Pinning.GLOBAL_NS:
            was = {Pinning.NONE: "not pinned", Pinning.OBJECT_NS: "PIN_OBJECT_NS"}.get(
                m.pinning, f"custom pinning id {m.pin_id}"
            )
            findings.append(
                Finding(
                    _CHANGED,
                    _subject(m.name),
                    "pinning",
                    f"{was} before; pinned by name (tc/globals/{m.name}) so that"
                    " `tc exec bpf graft` can fill it (--tail-calls graft)",
                )
            )
    else:
        pin = _pin_by_name(m, options, findings)
    has_values = m.type in MAP_IN_MAP or (m.type == PROG_ARRAY and bool(slots))
    return MapDef(
        name=m.name,
        type=m.type,
        key_size=m.key_size,
        value_size=4 if has_values else m.value_size,
        max_entries=m.max_entries,
        flags=m.flags,
        key_type=key_type,
        value_type=0 if has_values else value_type,
        pin_by_name=pin,
        inner=inner,
        slots=slots,
        prog_slots=m.type == PROG_ARRAY,
    )


def _template(btf: BtfSpec | None, inner: MapSpec) -> MapDef:
    """_template: the inner map definition of a map-in-map (never pinned: libbpf forbids)."""
    key_type, value_type = _kv_types(btf, inner)
    return MapDef(
        name=inner.name,
        type=inner.type,
        key_size=inner.key_size,
        value_size=inner.value_size,
        max_entries=inner.max_entries,
        flags=inner.flags,
        key_type=key_type,
        value_type=value_type,
    )


def _kv_types(btf: BtfSpec | None, m: MapSpec) -> tuple[int, int]:
    """_kv_types: key and value type ids from iproute2's BPF_ANNOTATE_KV_PAIR struct
    `____btf_map_<name>` (members `key`, `value`), each only if its size is the map's."""
    if btf is None:
        return 0, 0
    for type_id in btf.find(f"____btf_map_{m.name}", Kind.STRUCT):
        t = btf.type(type_id)
        if not isinstance(t, Composite):
            continue
        members = {mem.name: mem.type for mem in t.members}
        return (
            _sized(btf, members.get("key", 0), m.key_size),
            _sized(btf, members.get("value", 0), m.value_size),
        )
    return 0, 0


def _sized(btf: BtfSpec, type_id: int, size: int) -> int:
    if not type_id or not size:
        return 0
    return type_id if btf.resolve_size(type_id) == size else 0


def _pin_by_name(m: MapSpec, options: ConvertOptions, findings: list[Finding]) -> bool:
    if m.pinning is Pinning.NONE:
        return False
    if m.pinning is Pinning.GLOBAL_NS:
        return True
    if m.pinning is Pinning.OBJECT_NS:
        feature, choice, option = "PIN_OBJECT_NS", options.object_ns_pins, "--object-ns-pins"
        why = "libbpf pins only by name, under one pin root (tc/globals), never per object"
    else:
        feature, choice, option = (
            f"custom pinning id {m.pin_id}",
            options.custom_pins,
            "--custom-pins",
        )
        why = "libbpf has no pinning database (/etc/iproute2/bpf_pinning): it pins only by name"
    if choice is None:
        findings.append(
            Finding(
                _REFUSED,
                _subject(m.name),
                feature,
                why,
                f"{option} global (pinned at tc/globals/{m.name}, shared with every object),"
                f" {option} none (not pinned: a new map on every load)",
            )
        )
        return False
    where = f"pinned by name at tc/globals/{m.name}" if choice is PinChoice.GLOBAL else "not pinned"
    findings.append(
        Finding(_CHANGED, _subject(m.name), feature, f"{where} ({option} {choice.value})")
    )
    return choice is PinChoice.GLOBAL


def _map_in_map_findings(outer: MapSpec) -> Iterable[Finding]:
    inner = outer.inner
    if inner is not None and inner.type in MAP_IN_MAP:
        yield Finding(
            _REFUSED,
            _subject(outer.name),
            "map-in-map",
            f"its inner map '{inner.name}' is itself a map-in-map: libbpf supports one level",
        )
    for key, name in outer.contents:
        if key >= outer.max_entries and outer.type != HASH_OF_MAPS:
            yield Finding(
                _REFUSED,
                _subject(outer.name),
                "map-in-map",
                f"map '{name}' goes into slot {key}, but the map has {outer.max_entries}"
                " entries (iproute2 fails its load the same way)",
            )
    if outer.type == HASH_OF_MAPS and outer.contents and outer.key_size != 4:
        yield Finding(
            _REFUSED,
            _subject(outer.name),
            "map-in-map",
            f"libbpf fills a hash of maps only with 4-byte keys, this one has {outer.key_size}",
        )


def _slot_bounds(defs: list[MapDef]) -> Iterable[Finding]:
    """_slot_bounds: a static slot costs 8 bytes of `.maps` for every key up to it."""
    for d in defs:
        top = max((key for key, _ in d.slots), default=0)
        if top >= MAX_STATIC_SLOT:
            yield Finding(
                _REFUSED,
                _subject(d.name),
                "static slot",
                f"key {top} would make its `.maps` definition {8 * top} bytes long"
                f" (libbpf's slots are an array up to the last key); at most {MAX_STATIC_SLOT - 1}",
            )


def _dropped_ids(legacy: list[MapSpec], tails: TailSlots) -> Iterable[Finding]:
    """_dropped_ids: ids that link nothing (not a tail-call array, not a template or a slot):
    iproute2 uses those only for `tc exec bpf import`, which its libbpf path never feeds."""
    inner_ids = {m.legacy.inner_id for m in legacy if m.legacy and m.type in MAP_IN_MAP}
    for m in legacy:
        lg = m.legacy
        if lg is None or not lg.id or m.name in tails or lg.id in inner_ids:
            continue
        if m.type == PROG_ARRAY:
            continue  # an empty prog array: its id is simply unused
        yield Finding(
            _NOTE,
            _subject(m.name),
            f"id {lg.id}",
            "links no tail call or map-in-map; BTF maps have no ids, so it is dropped",
        )
    for m in legacy:
        lg = m.legacy
        if lg and lg.inner_idx not in (0, BPF_ELF_NO_SLOT) and lg.id not in inner_ids:
            yield Finding(
                _NOTE,
                _subject(m.name),
                f"inner_idx {lg.inner_idx}",
                "no map-in-map has its id as inner_id: nothing to insert it into",
            )


def _creation_order(defs: list[MapDef]) -> list[MapDef]:
    """_creation_order: the definitions with every map-in-map after the maps in its slots
    (libbpf fills an outer map's slots as soon as it creates it); otherwise as they were."""
    by_name = {d.name: d for d in defs}
    placed: dict[str, MapDef] = {}

    def place(d: MapDef, path: tuple[str, ...]) -> None:
        if d.name in placed or d.name in path:
            return  # a cycle: the parser's rules make none; keep the given order
        if not d.prog_slots:
            for _key, name in d.slots:
                target = by_name.get(name)
                if target is not None:
                    place(target, (*path, d.name))
        placed[d.name] = d

    for d in defs:
        place(d, ())
    return list(placed.values())
