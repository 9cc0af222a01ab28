"""rewrite: a legacy object's sections rewritten around a new `.maps` (the conversion itself).

`convert_object` parses the object (so it is exactly as valid as pytc finds it), plans the
maps (convert/plan.py), and, unless something is refused, writes the output:

- section `maps` becomes `.maps` (in its place, so the sections after it keep their indexes;
  in an object that has `.maps` already, the legacy definitions are appended to that one),
  holding zeroed definitions, and `.rel.maps` holds the static slots (map-in-map and tail
  calls), as clang emits them for `.values = { [K] = &x }`;
- `.BTF` gets the definition structs, a VAR per map (the VAR clang made for the legacy map,
  retyped, when there is one) and the `.maps` DATASEC with real offsets and sizes; `.rel.BTF`
  (the linker's fixups of the DATASEC, now filled in) is dropped;
- the symbol table moves the map symbols into `.maps` and puts locals first; every relocation
  section (code, debug, `.BTF.ext`) and `.llvm_addrsig` is rewritten with the new symbol
  indexes; code relocations against the `maps` section itself name the map's own symbol;
- everything else (code, `.text`, `.BTF.ext`, global data, license, version, DWARF) is
  carried over byte for byte.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from pybpftool.btf import BtfSpec, Datasec, Kind, parse_btf
from pybpftool.convert.btfbuild import BtfBuilder
from pybpftool.convert.elfwrite import (
    REL_SIZE,
    SHF_INFO_LINK,
    SYM_SIZE,
    OutSection,
    encode_relocations,
    null_section,
    write_elf,
)
from pybpftool.convert.findings import (
    ConversionRefused,
    ConvertOptions,
    Finding,
    Graft,
    Severity,
)
from pybpftool.convert.mapbtf import PTR_SIZE, MapType, MapTypes
from pybpftool.convert.plan import ConversionPlan, plan_conversion
from pybpftool.convert.symbols import MovedMap, SymbolTable, rebuild_symbols, static_entries
from pybpftool.convert.ulebs import decode_ulebs, encode_ulebs
from pybpftool.elf import (
    R_BPF_64_ABS64,
    SHF_ALLOC,
    SHF_WRITE,
    SHN_XINDEX,
    SHT_PROGBITS,
    SHT_REL,
    SHT_STRTAB,
    SHT_SYMTAB,
    STB_LOCAL,
    STT_FUNC,
    ElfFile,
    Section,
    parse_elf,
)
from pybpftool.errors import ObjectError
from pybpftool.maps.btf import BTF_MAPS_SECTION
from pybpftool.maps.legacy import LEGACY_MAPS_SECTION
from pybpftool.parser import parse_object
from pybpftool.spec import MapOrigin, ObjectSpec

SHT_LLVM_ADDRSIG = 0x6FFF4C03
REL_MAPS_SECTION = ".rel" + BTF_MAPS_SECTION
BTF_SECTION = ".BTF"
BTF_EXT_SECTION = ".BTF.ext"
MAPS_ALIGN = 8


class Conversion(NamedTuple):
    """Conversion: the converted object (None when something was refused), every finding,
    and the grafts `--tail-calls graft` leaves to `tc exec bpf graft`."""

    image: bytes | None
    findings: tuple[Finding, ...]
    grafts: tuple[Graft, ...]

    @property
    def refused(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.REFUSED)

    def output(self) -> bytes:
        """output: the converted object; ConversionRefused if there is none."""
        if self.image is None:
            raise ConversionRefused(self.findings)
        return self.image


def convert_object(data: bytes, options: ConvertOptions | None = None) -> Conversion:
    """convert_object: `data` (a legacy object) as a BTF-maps object, or the findings that
    stop it. Only ObjectError comes out, for an object that cannot be parsed at all."""
    spec = parse_object(data, name="")
    elf = parse_elf(data)
    plan = plan_conversion(spec, options or ConvertOptions())
    shaped, program_findings = static_entries(elf)
    findings = plan.findings + tuple(program_findings)
    if any(f.severity is Severity.REFUSED for f in findings):
        return Conversion(None, findings, plan.grafts)
    image = _Rewriter(elf, spec, plan, shaped).write()
    return Conversion(image, findings, plan.grafts)


class _Layout(NamedTuple):
    """_Layout: the converted maps' places in `.maps` and their BTF."""

    moved: dict[str, MovedMap]
    types: dict[str, MapType]
    size: int


class _Rewriter:
    """_Rewriter: one conversion's output, built from the input ELF and the plan."""

    def __init__(self, elf: ElfFile, spec: ObjectSpec, plan: ConversionPlan, shaped: set[int]):
        self.elf, self.spec, self.plan, self.shaped = elf, spec, plan, shaped
        self.bo = elf.byteorder
        legacy = [s for s in elf.sections if s.name == LEGACY_MAPS_SECTION and s.size]
        if len(legacy) != 1 or elf.symtab is None:
            raise ObjectError("a legacy object needs one `maps` section and a symbol table")
        self.legacy = legacy[0]
        maps = elf.section_by_name(BTF_MAPS_SECTION)
        self.btf_maps = maps if maps is not None and maps.size else None
        self.btf_sec = elf.section_by_name(BTF_SECTION)
        self.builder = BtfBuilder(
            self.bo, parse_btf(elf.section_data(self.btf_sec), self.bo) if self.btf_sec else None
        )

    def write(self) -> bytes:
        layout = self._lay_out()
        btf = self._btf(layout)
        kept = self._sections()
        index = {old: new for new, old in enumerate(kept) if isinstance(old, int)}
        maps_index = (
            kept.index(BTF_MAPS_SECTION) if self.btf_maps is None else index[self.btf_maps.ndx]
        )
        table = rebuild_symbols(
            self.elf, index, (self.legacy.ndx, maps_index), layout.moved, self.shaped
        )
        out = [null_section()]
        for item in kept[1:]:
            if item == BTF_MAPS_SECTION:
                out.append(self._maps_section(layout, b""))
            elif item == REL_MAPS_SECTION:
                out.append(self._rel_maps(layout, table, maps_index, index, None))
            elif item == BTF_SECTION:
                out.append(OutSection(BTF_SECTION, SHT_PROGBITS, 0, btf, addralign=4))
            else:
                assert isinstance(item, int)
                out.append(self._carried(self.elf.sections[item], layout, btf, table, index))
        return write_elf(self.bo, out, table.symbols)

    def _lay_out(self) -> _Layout:
        types = MapTypes(self.builder)
        cursor = self.btf_maps.size if self.btf_maps is not None else 0
        moved: dict[str, MovedMap] = {}
        made: dict[str, MapType] = {}
        for d in self.plan.maps:
            made[d.name] = t = types.define(d)
            cursor += -cursor % MAPS_ALIGN
            moved[d.name] = MovedMap(cursor, types.var_size(d, t))
            cursor += moved[d.name].size
        return _Layout(moved, made, cursor)

    def _btf(self, layout: _Layout) -> bytes:
        """_btf: the extended .BTF: a VAR per converted map and the `.maps` DATASEC."""
        b, base = self.builder, self.builder.base
        old_vars: dict[str, int] = {}
        old_datasec = _datasec(base, LEGACY_MAPS_SECTION)
        if old_datasec is not None and base is not None:
            for info in old_datasec.vars:
                var = base.type(info.type)
                if var.kind is Kind.VAR:
                    old_vars.setdefault(var.name, var.id)
        entries: list[tuple[int, int, int]] = []
        for d in self.plan.maps:
            struct_id = layout.types[d.name].struct_id
            var_id = old_vars.pop(d.name, 0)
            if var_id:
                b.replace(var_id, b.var_record(d.name, struct_id))
            else:
                var_id = b.var(d.name, struct_id)
            place = layout.moved[d.name]
            entries.append((var_id, place.offset, place.size))
        existing = _datasec(base, BTF_MAPS_SECTION)
        if existing is not None:
            fixed = _datasec(self.spec.btf, BTF_MAPS_SECTION)  # offsets and sizes filled in
            assert fixed is not None
            entries += [(v.type, v.offset, v.size) for v in fixed.vars]
            b.replace(existing.id, b.datasec_record(BTF_MAPS_SECTION, layout.size, entries))
            if old_datasec is not None:
                b.replace(old_datasec.id, b.void_ptr_record())
        elif old_datasec is not None:
            b.replace(old_datasec.id, b.datasec_record(BTF_MAPS_SECTION, layout.size, entries))
        else:
            b.datasec(BTF_MAPS_SECTION, layout.size, entries)
        return b.encode()

    def _sections(self) -> list[int | str]:
        """_sections: the output's sections in order: input indexes, or the names of the new
        `.maps` / `.rel.maps`."""
        elf = self.elf
        symtab = elf.symtab
        assert symtab is not None
        shstrndx = _shstrndx(elf)
        maps_ndx = self.btf_maps.ndx if self.btf_maps is not None else self.legacy.ndx
        has_rel_maps = any(s.type == SHT_REL and s.info == maps_ndx for s in elf.sections)
        ext = elf.section_by_name(BTF_EXT_SECTION)
        orphans = {ext.ndx} if ext is not None else set()
        orphans |= {s.ndx for s in elf.sections if s.type == SHT_REL and s.info in orphans}
        out: list[int | str] = [0]
        for sec in elf.sections[1:]:
            if sec.type == SHT_REL and sec.info in (self.legacy.ndx, _ndx(self.btf_sec)):
                continue  # relocations of `maps` or `.BTF`: their targets are rewritten
            if sec.type == SHT_STRTAB and sec.ndx == shstrndx != symtab.link:
                continue  # the writer names sections in the symbols' string table
            if self.btf_sec is None and sec.ndx in orphans:
                continue  # .BTF.ext names types of a .BTF that is not there
            if sec.ndx == self.legacy.ndx and self.btf_maps is None:
                out.append(BTF_MAPS_SECTION)
            elif sec.ndx != self.legacy.ndx:
                out.append(sec.ndx)
            if sec.ndx == maps_ndx and not has_rel_maps and self.plan_has_slots():
                out.append(REL_MAPS_SECTION)
            if sec.ndx == maps_ndx and self.btf_sec is None:
                out.append(BTF_SECTION)  # an object built without -g: BTF made from nothing
        return out

    def plan_has_slots(self) -> bool:
        return any(d.slots for d in self.plan.maps)

    def _carried(
        self,
        sec: Section,
        layout: _Layout,
        btf: bytes,
        table: SymbolTable,
        index: dict[int, int],
    ) -> OutSection:
        """_carried: an input section in the output, its data and links rewritten as needed."""
        data = self.elf.section_data(sec)
        link, info = index.get(sec.link, 0) if sec.link else 0, sec.info
        if sec.type == SHT_REL or sec.flags & SHF_INFO_LINK:
            info = index.get(sec.info, 0)
        if self.btf_maps is not None and sec.ndx == self.btf_maps.ndx:
            return self._maps_section(layout, data)
        if self.btf_maps is not None and sec.type == SHT_REL and sec.info == self.btf_maps.ndx:
            return self._rel_maps(layout, table, info, index, sec)
        if self.btf_sec is not None and sec.ndx == self.btf_sec.ndx:
            data = btf
        elif sec.type == SHT_REL:
            data = encode_relocations(self.bo, self._renumbered(sec, table))
        elif sec.type == SHT_LLVM_ADDRSIG:
            data = _addrsig(data, table)
        elif sec.type == SHT_SYMTAB:
            data, info = b"", 0  # the writer encodes the symbols
        entsize = SYM_SIZE if sec.type == SHT_SYMTAB else sec.entsize
        return OutSection(
            sec.name, sec.type, sec.flags, data, link, info, sec.addralign, entsize, sec.size
        )

    def _maps_section(self, layout: _Layout, existing: bytes) -> OutSection:
        data = existing + bytes(layout.size - len(existing))
        return OutSection(
            BTF_MAPS_SECTION, SHT_PROGBITS, SHF_WRITE | SHF_ALLOC, data, addralign=MAPS_ALIGN
        )

    def _rel_maps(
        self,
        layout: _Layout,
        table: SymbolTable,
        maps_index: int,
        index: dict[int, int],
        existing: Section | None,
    ) -> OutSection:
        """_rel_maps: `.rel.maps`: the input's static slots (renumbered), then the new ones."""
        records = self._renumbered(existing, table) if existing is not None else []
        programs = self._program_symbols(table)
        maps = {name: table.new_index[sym] for name, sym in self._map_symbols().items()}
        for d in self.plan.maps:
            if not d.slots:
                continue
            start = layout.moved[d.name].offset + _values_offset(layout.types[d.name])
            for key, name in d.slots:
                target = (programs if d.prog_slots else maps).get(name)
                if target is None:
                    raise ObjectError(f"map '{d.name}': no symbol for '{name}' of slot {key}")
                records.append((start + PTR_SIZE * key, target, R_BPF_64_ABS64))
        symtab = self.elf.symtab
        assert symtab is not None
        return OutSection(
            REL_MAPS_SECTION,
            SHT_REL,
            SHF_INFO_LINK,
            encode_relocations(self.bo, records),
            index[symtab.ndx],
            maps_index,
            8,
            REL_SIZE,
        )

    def _renumbered(self, sec: Section, table: SymbolTable) -> list[tuple[int, int, int]]:
        """_renumbered: the records of `sec` with new symbol indexes; in code, a relocation
        against the `maps` section names the map defined at its offset."""
        retarget = (
            self.elf.sections[sec.info].is_exec if 0 < sec.info < len(self.elf.sections) else False
        )
        by_offset = self._maps_at_offset() if retarget else {}
        symbols = self.elf.symbols
        records = []
        for offset, sym, rtype in self.elf.relocations(sec):
            if sym not in table.new_index:
                raise ObjectError(f"relocation section {sec.name!r}: no symbol #{sym}")
            if retarget and symbols[sym].shndx == self.legacy.ndx:
                sym = by_offset.get(symbols[sym].value, sym)
            records.append((offset, table.new_index[sym], rtype))
        return records

    def _map_symbols(self) -> dict[str, int]:
        """_map_symbols: the input symbol index of each legacy map (a global in `maps`)."""
        return {
            s.name: s.ndx
            for s in self.elf.symbols_in(self.legacy.ndx)
            if s.bind != STB_LOCAL and s.name
        }

    def _maps_at_offset(self) -> dict[int, int]:
        """_maps_at_offset: offset in `maps` -> the symbol of the map defined there."""
        symbols = self._map_symbols()
        legacy = [m for m in self.spec.maps if m.origin is MapOrigin.LEGACY and m.legacy]
        return {
            i * m.legacy.struct_size: symbols[m.name]
            for i, m in enumerate(legacy)
            if m.legacy is not None and m.name in symbols
        }

    def _program_symbols(self, table: SymbolTable) -> dict[str, int]:
        """_program_symbols: output symbol index of each program's entry function."""
        starts = {
            (p.layout[0].section, p.layout[0].start * 8): p.name
            for p in self.spec.programs
            if p.layout
        }
        sections = self.elf.sections
        found: dict[str, int] = {}
        for sym in self.elf.symbols:
            if sym.type != STT_FUNC or not 0 < sym.shndx < len(sections):
                continue
            name = starts.get((sections[sym.shndx].name, sym.value))
            if name == sym.name:
                found.setdefault(name, table.new_index[sym.ndx])
        return found


def _values_offset(t: MapType) -> int:
    assert t.values_offset is not None, "slots without a values member"
    return t.values_offset


def _datasec(btf: BtfSpec | None, name: str) -> Datasec | None:
    return btf.datasec(name) if btf is not None else None


def _ndx(sec: Section | None) -> int:
    return sec.ndx if sec is not None else -1


def _shstrndx(elf: ElfFile) -> int:
    """_shstrndx: e_shstrndx, or section 0's sh_link under extended numbering."""
    value: int = struct.unpack_from(elf.byteorder + "H", elf.data, 62)[0]
    return elf.sections[0].link if value == SHN_XINDEX else value


def _addrsig(data: bytes, table: SymbolTable) -> bytes:
    """_addrsig: `.llvm_addrsig` (ULEB128 symbol indexes) with the new indexes; symbols
    that no longer exist are left out (the section only lists address-taken symbols)."""
    olds = decode_ulebs(data)
    return encode_ulebs([table.new_index[i] for i in olds if i in table.new_index])
