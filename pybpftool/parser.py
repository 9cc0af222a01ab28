"""parser: parse_object(path or bytes) -> ObjectSpec, with no root and no syscalls.

Walks the sections the way libbpf's bpf_object__elf_collect does: symbols first, then each
section classified by name and type. Relocation sections are decoded only when they target
code or `.maps`; those for debug info and `.BTF.ext` (most of the relocations of a large object)
are skipped without being read.
"""

from __future__ import annotations

import os
import struct
from collections import ChainMap
from collections.abc import Mapping

from pybpftool.btf import BtfSpec, Kind, parse_btf, parse_btf_ext
from pybpftool.btf.fixup import fix_datasecs
from pybpftool.elf import (
    SHT_REL,
    STT_OBJECT,
    ElfFile,
    Section,
    Symbol,
    parse_elf,
)
from pybpftool.errors import ElfContextError, FsAccess, ObjectError
from pybpftool.insn import INSN_SIZE
from pybpftool.maps.btf import (
    BTF_MAPS_SECTION,
    BtfMapLayout,
    collect_static_slots,
    parse_btf_maps,
)
from pybpftool.maps.data import is_data_section, parse_data_map
from pybpftool.maps.legacy import LEGACY_MAPS_SECTION, parse_legacy_maps
from pybpftool.programs import TEXT_SECTION, CodeSections, build_program
from pybpftool.relocations import Relocator, Target
from pybpftool.sections import SectionType, guess_program_type
from pybpftool.spec import MapSpec, ObjectSpec, ProgramSpec, RefKind
from pybpftool.tailcalls import assign_tail_calls
from pybpftool.uapi import BpfMapType

LICENSE_MAX = 128  # iproute2 ctx->license


def parse_object(source: str | os.PathLike[str] | bytes, name: str | None = None) -> ObjectSpec:
    """parse_object: read a BPF ELF object (a path or its bytes) into an ObjectSpec.

    `name` overrides the object name libbpf would derive from the file name (it prefixes the
    names of data maps such as `<name>.rodata`).
    """
    if isinstance(source, bytes):
        data, obj_name = source, name or ""
    else:
        data = _read(os.fspath(source))
        obj_name = name if name is not None else object_name(os.fspath(source))
    try:
        return _Parser(parse_elf(data), data, obj_name).parse()
    except RecursionError:
        raise ObjectError("object nests too deeply to parse") from None


def object_name(path: str) -> str:
    """object_name: libbpf's object name: the file's basename up to its first dot."""
    return os.path.basename(path).split(".", 1)[0]


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except IsADirectoryError:
        raise ElfContextError(f"{path}: is a directory") from None
    except OSError as err:
        access = FsAccess("read_file", path)
        raise ElfContextError(f"{path}: {err.strerror or err}", access=access) from None


class _Parser:
    """_Parser: one pass over an ELF object, collecting what ObjectSpec needs."""

    def __init__(self, elf: ElfFile, data: bytes, obj_name: str) -> None:
        self.elf = elf
        self.data = data
        self.obj_name = obj_name
        self.code = CodeSections(elf)
        self.rel_sections: dict[int, list[Section]] = {}
        self.data_maps: dict[int, MapSpec] = {}
        self.legacy_sec: Section | None = None
        self.legacy_maps: list[MapSpec] = []
        self.btf_layouts: list[BtfMapLayout] = []
        self.btf_maps_sec: Section | None = None
        self._btf_map_at: dict[int, str] | None = None
        self._legacy_map_at_offset: dict[int, str] | None = None
        self._entry_names: dict[tuple[int, int], str] | None = None
        self.license = ""
        self.kern_version: int | None = None

    def parse(self) -> ObjectSpec:
        elf = self.elf
        self._classify_sections()
        btf_sec = elf.section_by_name(".BTF")
        btf = parse_btf(elf.section_data(btf_sec), elf.byteorder) if btf_sec else None
        if btf is not None:
            btf = fix_datasecs(btf, self._datasec_layouts(btf))
        ext_sec = elf.section_by_name(".BTF.ext")
        btf_ext = (
            parse_btf_ext(elf.section_data(ext_sec), elf.byteorder, btf)
            if ext_sec is not None and btf is not None
            else None
        )
        maps = self._collect_maps(btf)
        programs = self._collect_programs()
        maps = self._static_slots(maps, programs)
        programs = assign_tail_calls(programs, maps)
        return ObjectSpec(
            name=self.obj_name,
            byteorder=elf.byteorder,
            license=self.license,
            kern_version=self.kern_version,
            maps=tuple(maps),
            programs=tuple(programs),
            btf=btf,
            btf_ext=btf_ext,
            image=self.data,
        )

    def _classify_sections(self) -> None:
        elf = self.elf
        for sec in elf.sections:
            if sec.type == SHT_REL:
                if not 0 < sec.info < len(elf.sections):
                    raise ObjectError(f"relocation section {sec.name!r} targets no section")
                self.rel_sections.setdefault(sec.info, []).append(sec)
            elif sec.name == "license":
                self.license = self._license(sec)
            elif sec.name == "version":
                self.kern_version = self._version(sec)
            elif sec.is_exec:
                if sec.size:
                    self.code.add_section(sec)
            elif sec.name == LEGACY_MAPS_SECTION and sec.size:
                self.legacy_sec = sec
            elif sec.name == BTF_MAPS_SECTION and sec.size:
                self.btf_maps_sec = sec
            elif is_data_section(sec):
                self.data_maps[sec.ndx] = parse_data_map(elf, sec, self.obj_name, None)

    def _datasec_layouts(self, btf: BtfSpec) -> dict[str, tuple[int, Mapping[str, int]]]:
        """_datasec_layouts: size and variable offsets of each ELF section a DATASEC names.

        libbpf finds a variable's symbol by name in any section (clang may put a static const
        in .rodata.cst16 while BTF lists it under .rodata); one in its own section wins.
        """
        elf = self.elf
        anywhere = {s.name: s.value for s in elf.symbols if s.type == STT_OBJECT}
        layouts: dict[str, tuple[int, Mapping[str, int]]] = {}
        for type_id in btf.ids_of_kind(Kind.DATASEC):
            sec = elf.section_by_name(btf.type(type_id).name)
            if sec is not None:
                own = {s.name: s.value for s in elf.symbols_in(sec.ndx, STT_OBJECT)}
                layouts[sec.name] = (sec.size, ChainMap(own, anywhere))
        return layouts

    def _license(self, sec: Section) -> str:
        raw = self.elf.section_data(sec)
        if len(raw) > LICENSE_MAX:
            raise ObjectError(f"license section is {len(raw)} bytes, at most {LICENSE_MAX}")
        return raw.split(b"\0", 1)[0].decode("utf-8", "backslashreplace")

    def _version(self, sec: Section) -> int:
        raw = self.elf.section_data(sec)
        if len(raw) != 4:
            raise ObjectError(f"invalid version section: {len(raw)} bytes, expected 4")
        value: int = struct.unpack(self.elf.byteorder + "I", raw)[0]
        return value

    def _collect_maps(self, btf: BtfSpec | None) -> list[MapSpec]:
        maps: list[MapSpec] = []
        if self.legacy_sec is not None:
            self.legacy_maps = parse_legacy_maps(self.elf, self.legacy_sec)
            maps += self.legacy_maps
        if self.btf_maps_sec is not None:
            btf_maps, self.btf_layouts = parse_btf_maps(self.elf, self.btf_maps_sec, btf)
            maps += btf_maps
        if btf is not None:
            self.data_maps = {
                index: parse_data_map(self.elf, self.elf.sections[index], self.obj_name, btf)
                for index in self.data_maps
            }
        maps += self.data_maps.values()
        _check_maps(maps)
        return maps

    def _resolve_map(self, sym: Symbol, imm: int) -> Target | None:
        """_resolve_map: the map or data a symbol in a map-holding section stands for."""
        if self.legacy_sec is not None and sym.shndx == self.legacy_sec.ndx:
            return Target(RefKind.MAP, self._legacy_map_at(sym.value))
        if self.btf_maps_sec is not None and sym.shndx == self.btf_maps_sec.ndx:
            if self._btf_map_at is None:
                self._btf_map_at = {lay.offset: lay.name for lay in reversed(self.btf_layouts)}
            name = self._btf_map_at.get(sym.value)
            if name is None:
                raise ObjectError(f"reference to '{sym.name}', which is not a map of .maps")
            return Target(RefKind.MAP, name)
        data_map = self.data_maps.get(sym.shndx)
        if data_map is None:
            return None
        # The kernel reads the offset as a u32 of the ld_imm64's second half and judges it
        # against the value size; one that does not fit 32 bits cannot even be written.
        offset = sym.value + imm
        if not 0 <= offset <= 0xFFFFFFFF:
            raise ObjectError(
                f"reference to '{sym.name}' at offset {offset} of {data_map.section!r}"
                " does not fit 32 bits"
            )
        return Target(RefKind.MAP_VALUE, data_map.name, offset=offset)

    def _legacy_map_at(self, offset: int) -> str:
        if self._legacy_map_at_offset is None:
            self._legacy_map_at_offset = {
                i * spec.legacy.struct_size: spec.name
                for i, spec in reversed(list(enumerate(self.legacy_maps)))
                if spec.legacy is not None
            }
        name = self._legacy_map_at_offset.get(offset)
        if name is not None:
            return name
        raise ObjectError(f"reference to offset {offset} of section maps, where no map is")

    def _collect_programs(self) -> list[ProgramSpec]:
        text = self.elf.section_by_name(TEXT_SECTION)
        text_index = text.ndx if text is not None and text.is_exec else None
        relocator = Relocator(self.elf, self._resolve_map, text_index)
        for index, code in self.code.code.items():
            rels = [
                r for rel in self.rel_sections.get(index, []) for r in self.elf.relocations(rel)
            ]
            if rels:
                self.code.relocs[index] = relocator.resolve(self.elf.sections[index], code, rels)
        kinds: dict[SectionType | None, tuple[int | None, int | None, bool]] = {}
        programs = []
        for entry in self.code.entries:
            guess = guess_program_type(entry.section.name)
            if guess not in kinds:
                kinds[guess] = _program_kind(guess)
            programs.append(build_program(self.code, entry, kinds[guess]))
        if not programs:
            raise ObjectError("object has no programs (no executable section besides .text)")
        return programs

    def _static_slots(self, maps: list[MapSpec], programs: list[ProgramSpec]) -> list[MapSpec]:
        sec = self.btf_maps_sec
        if sec is None or sec.ndx not in self.rel_sections:
            return maps
        rels = [r for rel in self.rel_sections[sec.ndx] for r in self.elf.relocations(rel)]
        return collect_static_slots(self.elf, rels, maps, self.btf_layouts, self._entry_at, sec.ndx)

    def _entry_at(self, shndx: int, offset: int) -> str:
        """_entry_at: the name of the entry program at byte `offset` of section `shndx`, or ""
        if none starts there. Indexed on first use: only prog arrays' slots name programs."""
        if self._entry_names is None:
            self._entry_names = {
                (fn.section.ndx, fn.start * INSN_SIZE): fn.name for fn in self.code.entries
            }
        return self._entry_names.get((shndx, offset), "")


def _check_maps(maps: list[MapSpec]) -> None:
    """_check_maps: map names unique, map types known to the kernel headers we mirror."""
    seen: set[str] = set()
    for spec in maps:
        if spec.name in seen:
            raise ObjectError(f"map '{spec.name}' is defined more than once")
        seen.add(spec.name)
        for m in (spec, spec.inner):
            if m is not None and m.type not in _KNOWN_MAP_TYPES:
                raise ObjectError(f"map '{m.name}': unknown map type {m.type}")


_KNOWN_MAP_TYPES = frozenset(int(t) for t in BpfMapType if t != BpfMapType.BPF_MAP_TYPE_UNSPEC)


def _program_kind(guess: SectionType | None) -> tuple[int | None, int | None, bool]:
    """_program_kind: (type, expected attach type, sleepable) as ProgramSpec holds them."""
    if guess is None:
        return None, None, False
    attach = guess.expected_attach_type
    return int(guess.prog_type), None if attach is None else int(attach), guess.sleepable
