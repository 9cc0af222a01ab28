"""spec: ObjectSpec, MapSpec, ProgramSpec — the pure description of a BPF ELF object.

Parsing an object gives the same spec on every machine (cilium/ebpf's CollectionSpec rule);
anything that depends on the running kernel happens later, in the loader. A spec never holds a
file descriptor: instructions refer to maps and data by name through `Reference`s, and the
loader patches fds in at load time.

The records are NamedTuples (frozen, typed, built by keyword; `._replace` makes a changed
copy): a cold attach defines them all, and dataclasses would cost it inspect, ast and dis.

Annotations here are evaluated when defined (no `from __future__ import annotations`):
typing.NamedTuple compiles a string annotation into a ForwardRef per field, which a cold
attach, defining these records, paid for.
"""

from enum import Enum
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from pybpftool.btf import BtfExt, BtfSpec
    from pybpftool.linking import ProgramCode


class MapOrigin(Enum):
    """MapOrigin: where a map definition came from."""

    LEGACY = "legacy"  # iproute2 struct bpf_elf_map / libbpf < 1.0 struct bpf_map_def in `maps`
    BTF = "btf"  # BTF-defined map in `.maps`
    DATA = "data"  # global data section (.data, .rodata, .bss, ...) as a one-entry array


class Pinning(Enum):
    """Pinning: pin policy of a map (iproute2 bpf_elf.h PIN_*, libbpf LIBBPF_PIN_BY_NAME)."""

    NONE = "none"
    OBJECT_NS = "object"  # PIN_OBJECT_NS: <mnt>/tc/<sha1 of object>/NAME
    GLOBAL_NS = "global"  # PIN_GLOBAL_NS: <mnt>/tc/globals/NAME
    BY_NAME = "by_name"  # LIBBPF_PIN_BY_NAME: <mnt>/tc/globals/NAME under iproute2
    CUSTOM = "custom"  # id >= 3 looked up in /etc/iproute2/bpf_pinning


class RefKind(Enum):
    """RefKind: what an instruction reference points at; decides how the loader patches it."""

    MAP = "map"  # ld_imm64 src=BPF_PSEUDO_MAP_FD, imm = map fd
    MAP_VALUE = "map_value"  # ld_imm64 src=BPF_PSEUDO_MAP_VALUE, imm = fd, imm2 = offset
    EXTERN = "extern"  # undefined symbol (kfunc, ksym, kconfig): resolved against the kernel


class LegacyMapDef(NamedTuple):
    """LegacyMapDef: iproute2's extra struct bpf_elf_map fields (include/bpf_elf.h)."""

    id: int
    pinning: int
    inner_id: int
    inner_idx: int
    struct_size: int  # bytes per definition in the section (36 for bpf_elf_map, 20 for bpf_map_def)


class MapSpec(NamedTuple):
    """MapSpec: one map to create; field names follow bpf_attr (BPF_MAP_CREATE).

    `type` is the raw number so an unknown map type survives to the error message.
    `contents` holds static slots: (key, name of map or program) for map-in-map and prog
    arrays. `data` holds the initial value of a global-data map.
    """

    name: str
    type: int
    key_size: int
    value_size: int
    max_entries: int
    flags: int
    origin: MapOrigin
    section: str
    pinning: Pinning = Pinning.NONE
    pin_id: int = 0  # the raw pinning number (custom id for Pinning.CUSTOM)
    map_extra: int = 0
    numa_node: int | None = None
    legacy: LegacyMapDef | None = None
    inner: "MapSpec | None" = None
    contents: tuple[tuple[int, str], ...] = ()
    data: bytes | None = None
    freeze: bool = False
    btf_key_type_id: int = 0
    btf_value_type_id: int = 0


class Reference(NamedTuple):
    """Reference: instruction `insn` (index in the program's flattened insns) refers to `target`.

    For MAP_VALUE, `offset` is the byte offset into the data map's value.
    """

    insn: int
    kind: RefKind
    target: str
    offset: int = 0


class CodeSpan(NamedTuple):
    """CodeSpan: insns [start, end) of ELF section `section` copied to `at` in the program.

    The program's func_info, line_info and CO-RE records are the .BTF.ext records of each
    span, shifted by `at - start` (libbpf reloc_prog_func_and_line_info).
    """

    section: str
    start: int
    end: int
    at: int


class TailCall(NamedTuple):
    """TailCall: this program goes into prog array `map` at `key` (iproute2 `id/key` section)."""

    map: str
    key: int


class ProgramSpec(NamedTuple):
    """ProgramSpec: one entry program, whose subprograms are appended when it is linked.

    `type`/`expected_attach_type` are guessed from the section name as libbpf does, or None
    when the name carries no type (iproute2 names: the command decides). `code` holds the
    entry function and what it calls; `insns`, `references` and `layout` are the linked
    program's, built anew on each read (a load reads each once), so parsing or showing an
    object links nothing.
    """

    name: str
    section: str
    type: int | None
    expected_attach_type: int | None
    code: "ProgramCode"
    sleepable: bool = False
    autoload: bool = True
    tail_call: TailCall | None = None

    @property
    def insns(self) -> bytes:
        """insns: the linked instructions: the entry's, then each subprogram's."""
        return self.code.insns()

    @property
    def references(self) -> tuple[Reference, ...]:
        """references: what the linked instructions refer to, by instruction."""
        return self.code.references()

    @property
    def layout(self) -> tuple[CodeSpan, ...]:
        """layout: where each function's copy lies in the linked instructions."""
        return self.code.layout()

    @property
    def subprograms(self) -> tuple[str, ...]:
        """subprograms: the names of the appended functions, in their order."""
        return self.code.subprograms

    @property
    def insn_count(self) -> int:
        return self.code.insn_count

    @property
    def maps_used(self) -> tuple[str, ...]:
        """maps_used: the maps (and data maps) its instructions refer to, first use first."""
        return self.code.maps_used()


class ObjectSpec(NamedTuple):
    """ObjectSpec: everything a loader needs from one ELF object, with no kernel state."""

    name: str  # object name as libbpf derives it (file basename without .o/.bpf.o)
    byteorder: str  # "<" or ">"
    license: str
    kern_version: int | None
    maps: tuple[MapSpec, ...]
    programs: tuple[ProgramSpec, ...]
    btf: "BtfSpec | None" = None
    btf_ext: "BtfExt | None" = None
    image: bytes = b""  # the whole ELF file

    def __repr__(self) -> str:
        """__repr__: the fields but the file's bytes, which would drown everything else."""
        shown = ", ".join(f"{k}={v!r}" for k, v in zip(self._fields[:-1], self[:-1], strict=True))
        return f"ObjectSpec({shown}, image=<{len(self.image)} bytes>)"

    @property
    def sha1(self) -> str:
        """sha1: SHA-1 of the whole file, iproute2's PIN_OBJECT_NS folder name; computed when
        asked for (a load asks once), as hashlib costs a cold command ~3 ms of OpenSSL
        loading."""
        import hashlib

        return hashlib.sha1(self.image).hexdigest()

    def map(self, name: str) -> MapSpec | None:
        return next((m for m in self.maps if m.name == name), None)

    def program(self, name: str) -> ProgramSpec | None:
        return next((p for p in self.programs if p.name == name), None)

    def programs_in(self, section: str) -> tuple[ProgramSpec, ...]:
        return tuple(p for p in self.programs if p.section == section)
