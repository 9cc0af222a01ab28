"""convert: a legacy iproute2 object (`struct bpf_elf_map` in `maps`) rewritten as a BTF-maps
object that libbpf-based tools load (issue 21). Pure: no root, no syscalls, same bytes out
for the same bytes in.

Modules: findings (options and what a conversion reports), plan (legacy maps -> map
definitions), tailplan (tail calls: slots, refusal, grafts), btfbuild (extending .BTF),
mapbtf (definitions as BTF structs), symbols (the output symbol table), elfwrite (the ELF
container), rewrite (the conversion).
"""

from pybpftool.convert.findings import (
    ConversionRefused,
    ConvertOptions,
    Finding,
    Graft,
    PinChoice,
    Severity,
    TailCallMode,
)
from pybpftool.convert.rewrite import Conversion, convert_object

__all__ = [
    "Conversion",
    "ConversionRefused",
    "ConvertOptions",
    "Finding",
    "Graft",
    "PinChoice",
    "Severity",
    "TailCallMode",
    "convert_object",
]
