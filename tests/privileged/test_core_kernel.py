"""CO-RE against the running kernel's BTF, side by side with libbpf (bpftool prog loadall).

core_kernel's programs read the current task (and an sk_buff, and the kprobe context) through
small local copies of kernel types. bpftool, with -d, tells for every relocation what libbpf
wrote into which instruction; our relocator must write the same, poisoned instructions
included, and the kernel must then give our loads the tags it gives bpftool's.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import bpfobjs
import pytest

from pybpftool.insn import Insn
from pybpftool.kernel.bpf import Kernel
from pybpftool.loader import LoadOptions, load_object
from pybpftool.loader.corerelo import POISON_HELPER, CoreRelocator
from pybpftool.parser import parse_object
from pybpftool.spec import ObjectSpec

pytestmark = pytest.mark.skipif(
    sys.byteorder != "little" or platform.machine() != "x86_64",
    reason="core_kernel's struct pt_regs is x86_64's",
)

VERIFY = [sys.executable, "-m", "pybpftool", "object", "verify", "--json"]
PROGRAMS = {
    "task_fields",
    "pointer_chase",
    "array_element",
    "nested_field",
    "renamed_field",
    "task_bitfield",
    "skb_bitfield",
    "bitfield_signed",
    "probe_read_offsets",
    "wide_load",
    "narrowed_signed",
    "types",
    "type_ids",
    "missing_type_id",
    "enums",
    "missing_enum_value",
}
# Each poisoned instruction is dead code once the constants before it are patched.
POISONED = {"renamed_field", "narrowed_signed", "missing_enum_value"}

# libbpf (relo_core.c) debug lines, one per instruction change:
#   prog 'x': relo #3: patched insn #7 (LDX/ST/STX) off 40 -> 1264
#   prog 'x': relo #4: patched insn #1 (LDX/ST/STX) mem_sz 8 -> 4
#   prog 'x': relo #5: patched insn #2 (ALU/ALU64) imm 72 -> 3264
#   prog 'x': relo #6: patched insn #0 (LDIMM64) imm64 5 -> 114
#   prog 'x': relo #7: substituting insn #3 w/ invalid insn
PATCHED = re.compile(
    r"libbpf: prog '(?P<prog>\w+)': relo #\d+: patched insn #(?P<insn>\d+) "
    r"\((?:LDX/ST/STX|ALU/ALU64|LDIMM64)\) (?P<what>off|mem_sz|imm|imm64) \d+ -> (?P<value>\d+)$"
)
SUBSTITUTED = re.compile(
    r"libbpf: prog '(?P<prog>\w+)': relo #\d+: substituting insn #(?P<insn>\d+) w/ invalid insn$"
)
Patches = dict[tuple[int, str], int]  # (instruction index, what) -> new value

LDX, ST, STX, ALU, ALU64 = 0x01, 0x02, 0x03, 0x04, 0x07
SIZES = {0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8}  # BPF_W, BPF_H, BPF_B, BPF_DW
U32 = 0xFFFFFFFF


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """cache: a private index cache folder (root's, 0700) for everything that opens the target."""
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    folder.chmod(0o700)
    monkeypatch.setenv("PYBPFTOOL_CACHE_DIR", str(folder))
    monkeypatch.delenv("PYBPFTOOL_TARGET_BTF", raising=False)
    return folder


@pytest.fixture
def obj() -> Path:
    return bpfobjs.build("core_kernel", "bpfel")


@pytest.fixture
def loadall(obj: Path, bpffs: str) -> Iterator[tuple[Path, str]]:
    """loadall: bpftool's load of every program, pinned in the private bpffs; with libbpf's
    debug lines (stderr). The pins are removed afterwards (the bpffs fixture unmounts)."""
    pins = Path(bpffs) / "core_kernel"
    done = subprocess.run(
        ["bpftool", "-d", "prog", "loadall", str(obj), str(pins)], capture_output=True, text=True
    )
    try:
        assert done.returncode == 0, done.stderr[-4000:]
        yield pins, done.stderr
    finally:
        if pins.is_dir():
            for pin in pins.iterdir():
                pin.unlink()
            pins.rmdir()


def libbpf_patches(debug: str) -> dict[str, Patches]:
    """libbpf_patches: per program, what libbpf's CO-RE pass wrote into each instruction."""
    out: dict[str, Patches] = {}
    for line in debug.splitlines():
        if m := PATCHED.match(line):
            key = (int(m["insn"]), m["what"])
            out.setdefault(m["prog"], {})[key] = int(m["value"])
        elif m := SUBSTITUTED.match(line):
            out.setdefault(m["prog"], {})[(int(m["insn"]), "poison")] = POISON_HELPER
    return out


def described(orig: bytes, patched: bytes, idx: int, order: str) -> Patches:
    """described: instruction `idx` of `patched` in libbpf's terms (`orig` tells its kind)."""
    old, new = Insn(orig, idx, order), Insn(patched, idx, order)
    if new.is_call and new.imm == POISON_HELPER:
        out = {(idx, "poison"): POISON_HELPER}
        second = Insn(patched, idx + 1, order) if old.is_ld_imm64 else None
        if second is not None and second.is_call and second.imm == POISON_HELPER:
            out[(idx + 1, "poison")] = POISON_HELPER
        return out
    if old.is_ld_imm64:
        high = Insn(patched, idx + 1, order).imm
        return {(idx, "imm64"): (new.imm & U32) | (high & U32) << 32}
    cls = old.code & 0x07
    if cls in (LDX, ST, STX):
        out = {(idx, "off"): new.off}
        if new.code != old.code:
            out[(idx, "mem_sz")] = SIZES[new.code & 0x18]
        return out
    if cls in (ALU, ALU64):
        return {(idx, "imm"): new.imm & U32}
    return {(idx, f"code {new.code:#x}"): new.imm}


def our_patches(orig: bytes, patched: bytes, order: str, reported: set[int]) -> Patches:
    """our_patches: every instruction we changed, and those libbpf reports, described."""
    out: Patches = {}
    idx = 0
    while idx < len(orig) // 8:
        width = 2 if Insn(orig, idx, order).is_ld_imm64 else 1
        span = slice(idx * 8, (idx + width) * 8)
        if idx in reported or orig[span] != patched[span]:
            out.update(described(orig, patched, idx, order))
        idx += width
    return out


def spec_of(obj: Path) -> ObjectSpec:
    spec = parse_object(str(obj))
    assert {p.name for p in spec.programs} == PROGRAMS
    for prog in spec.programs:
        assert len(prog.layout) == 1, f"{prog.name}: no subprograms, so indexes are the same"
    return spec


def bpftool_json(*args: str) -> dict[str, object]:
    done = subprocess.run(["bpftool", "-j", *args], check=True, capture_output=True, text=True)
    shown = json.loads(done.stdout)
    assert isinstance(shown, dict)
    return shown


def test_every_relocation_is_patched_as_libbpf_patches_it(
    obj: Path, loadall: tuple[Path, str]
) -> None:
    pins, debug = loadall
    assert {p.name for p in pins.iterdir()} == PROGRAMS  # bpftool's verifier accepted all
    theirs = libbpf_patches(debug)
    assert set(theirs) == PROGRAMS
    spec = spec_of(obj)
    core = CoreRelocator(spec)
    for prog in spec.programs:
        buf = bytearray(prog.insns)
        poisoned = core.apply(prog, buf)
        reported = {idx for idx, _ in theirs[prog.name]}
        ours = our_patches(prog.insns, bytes(buf), spec.byteorder, reported)
        assert ours == theirs[prog.name], prog.name
        their_poison = {idx for idx, what in theirs[prog.name] if what == "poison"}
        assert {idx for idx, _ in poisoned} <= their_poison, prog.name
        assert bool(poisoned) == (prog.name in POISONED), prog.name


def test_the_object_covers_the_cases_it_claims(loadall: tuple[Path, str]) -> None:
    theirs = libbpf_patches(loadall[1])
    kinds = {name: {what for _, what in patches} for name, patches in theirs.items()}
    assert {name for name, whats in kinds.items() if "poison" in whats} == POISONED
    assert theirs["wide_load"][(1, "mem_sz")] == 4  # unsigned long -> unsigned int
    assert theirs["renamed_field"][(1, "imm")] == 0  # task_struct___old.state: gone since 5.14
    assert theirs["bitfield_signed"][(1, "imm")] == 0  # pkt_type is unsigned in the kernel
    assert theirs["types"][(2, "imm")] == 0  # struct nonexistent___x
    assert theirs["missing_type_id"][(3, "imm64")] == 0  # its target id: 0, not poisoned
    assert "imm64" in kinds["type_ids"] and "imm64" in kinds["enums"]
    assert "off" in kinds["task_fields"] and "imm" in kinds["probe_read_offsets"]


def test_our_loads_have_the_tags_of_bpftools(obj: Path, loadall: tuple[Path, str]) -> None:
    pins, _ = loadall
    kernel = Kernel()
    spec = spec_of(obj)
    loaded = load_object(kernel, spec, LoadOptions(pin=False), programs=spec.programs)
    try:
        ours = {p.spec.name: kernel.prog_info(p.fd).tag for p in loaded.programs}
    finally:
        loaded.close()
    theirs = {}
    for name in PROGRAMS:
        shown = bpftool_json("prog", "show", "pinned", str(pins / name))
        assert shown["type"] == "kprobe"
        theirs[name] = shown["tag"]
    assert ours == theirs


def test_object_verify_accepts_every_program_and_then_uses_the_cached_index(
    obj: Path, cache: Path
) -> None:
    env = {**os.environ, "PYBPFTOOL_CACHE_DIR": str(cache)}

    def verify() -> dict[str, str]:
        done = subprocess.run([*VERIFY, str(obj)], capture_output=True, text=True, env=env)
        assert (done.returncode, done.stderr) == (0, "")
        return {p["name"]: p["verdict"] for p in json.loads(done.stdout)["programs"]}

    assert list(cache.iterdir()) == []
    assert verify() == dict.fromkeys(PROGRAMS, "accepted")
    (index,) = cache.glob("btf-index-*.bin")
    before = index.stat()
    assert verify() == dict.fromkeys(PROGRAMS, "accepted")
    after = index.stat()
    assert list(cache.glob("btf-index-*.bin")) == [index]
    # Read, not rebuilt: the same file, never rewritten.
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
