"""report: what iproute2's own loader (lib/bpf_legacy.c) prints with `verbose`, for every
object pybpftool loads, legacy or BTF (the installed tc and ip print libbpf's debug log
instead; see DIFFERENCES in pytc(8) and pyip(8)).

- the BTF, when the kernel's log of its load says something (bpf_btf_report): `BTF debug
  data section '.BTF' loaded (FD)!`, its length and the kernel's analysis;
- each map the load creates (bpf_map_report): `Map object 'NAME' loaded (FD)!` and its
  type, identifier, pinning, key and value sizes, maximum entries and flags, as struct
  bpf_elf_map holds them (a BTF map's identifier is 0, its pinning the value it declares,
  1 when pinned by name; a map-in-map's value size is 4); each pinned map it reuses:
  `Map 'NAME' loaded as pinned!`;
- each program (bpf_prog_report): `Prog section 'SECTION' loaded (FD)!`, its type,
  instruction count and license, and the verifier's log of the load (log level 1, as
  iproute2 6.1 asks), which ends with the verifier's `processed N insns ...` line.

Each function returns the lines of its text, a name never split: the reporter takes one
line per call (a newline in a section or map name is escaped, never a line of its own).
"""

from __future__ import annotations

from pybpftool.insn import BPF_MAXINSNS
from pybpftool.kernel.bpf import MapRequest, ProgRequest
from pybpftool.spec import MapSpec


def _outcome(fd: int) -> str:
    return f"loaded ({fd})"


def btf_loaded(fd: int, length: int, log: str) -> list[str]:
    """btf_loaded: bpf_btf_report() of a BTF the kernel accepted, nothing if its log is empty."""
    if not log:
        return []
    return [
        "",
        f"BTF debug data section '.BTF' {_outcome(fd)}!",
        f" - Length:       {length}",
        "Verifier analysis:",
        "",
        *log.split("\n"),
    ]


def map_loaded(spec: MapSpec, req: MapRequest, fd: int) -> list[str]:
    """map_loaded: bpf_map_report() of a map the load created."""
    ident = spec.legacy.id if spec.legacy is not None else 0
    flags = "0" if not req.map_flags else f"{req.map_flags:#x}"
    return [
        f"Map object '{spec.name}' {_outcome(fd)}!",
        f" - Type:         {req.map_type}",
        f" - Identifier:   {ident}",
        f" - Pinning:      {spec.pin_id}",
        f" - Size key:     {req.key_size}",
        f" - Size value:   {req.value_size}",
        f" - Max elems:    {req.max_entries}",
        f" - Flags:        {flags}",
        "",
    ]


def map_pinned(spec: MapSpec) -> list[str]:
    """map_pinned: the line for a pinned map the load reuses."""
    return [f"Map '{spec.name}' loaded as pinned!"]


def prog_loaded(section: str, req: ProgRequest, fd: int, log: str) -> list[str]:
    """prog_loaded: bpf_prog_report() of a program the verifier accepted."""
    return ["", *prog_report_head(section, _outcome(fd), req), *(log.split("\n") if log else [])]


def prog_report_head(section: str, outcome: str, req: ProgRequest) -> list[str]:
    """prog_report_head: bpf_prog_report()'s lines before the verifier's log, for a program
    `outcome` ("loaded (FD)", or "rejected: ERROR (ERRNO)")."""
    insns = len(req.insns) // 8
    over = max(0, insns - BPF_MAXINSNS)
    return [
        f"Prog section '{section}' {outcome}!",
        f" - Type:         {req.prog_type}",
        f" - Instructions: {insns} ({over} over limit)",
        f" - License:      {req.license}",
        "",
        "Verifier analysis:",
        "",
    ]


def map_fixup(spec: MapSpec) -> str | None:
    """map_fixup: the stdout line for a legacy map section whose definitions are shorter
    than struct bpf_elf_map (36 bytes), once per object."""
    if spec.legacy is None or spec.legacy.struct_size >= 36:
        return None
    missing = 36 - spec.legacy.struct_size
    return f"{missing} bytes struct bpf_elf_map fixup performed due to size mismatch!"
