"""bpfobjs: compile the C test objects of tests/bpf with clang-14, once per session.

Objects are built at test time (never committed) for both byte orders, so a parser test can
run for `bpfel` and `bpfeb` alike. The cache folder lives for one pytest session.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from pybpftool.elf import parse_elf

BPF_DIR = Path(__file__).resolve().parent / "bpf"
EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
TARGETS = ("bpfel", "bpfeb")
CLANG = os.environ.get("CLANG", "clang-14")

_cache_dir: Path | None = None


def clang_available() -> bool:
    return shutil.which(CLANG) is not None


def cache_dir() -> Path:
    global _cache_dir
    if _cache_dir is None:
        _cache_dir = Path(tempfile.mkdtemp(prefix="pybpftool-objs-"))
    return _cache_dir


def cleanup() -> None:
    global _cache_dir
    if _cache_dir is not None:
        shutil.rmtree(_cache_dir, ignore_errors=True)
        _cache_dir = None


def build(name: str, target: str = "bpfel", *flags: str) -> Path:
    """build: compile tests/bpf/NAME.c for TARGET with extra clang FLAGS; returns the .o path."""
    return _compile(BPF_DIR / f"{name}.c", name.replace("/", "_"), target, flags)


def build_example(name: str, target: str = "bpfel") -> Path:
    """build_example: compile examples/NAME.c as examples/Makefile does (same flags)."""
    return _compile(EXAMPLES_DIR / f"{name}.c", f"example_{name}", target, ())


def _compile(source: Path, stem: str, target: str, flags: tuple[str, ...]) -> Path:
    tag = hashlib.sha1(" ".join(flags).encode()).hexdigest()[:8] if flags else "std"
    out = cache_dir() / f"{stem}-{target}-{tag}.o"
    if not out.exists():
        cmd = [
            CLANG,
            "-O2",
            "-g",
            "-Wall",
            "-Werror",
            "-target",
            target,
            f"-I{BPF_DIR / 'include'}",
            *flags,
            "-c",
            str(source),
            "-o",
            str(out),
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stderr}")
    return out


def btf_section(name: str, target: str) -> tuple[bytes, str]:
    """btf_section: the .BTF section of test object NAME as compiled (parse_object would fix
    its DATASECs) and the object's byte order."""
    elf = parse_elf(build(name, target).read_bytes())
    section = elf.section_by_name(".BTF")
    assert section is not None, f"{name} has no .BTF"
    return elf.section_data(section), elf.byteorder


def sources() -> list[str]:
    """sources: the names of every test object (tests/bpf/*.c)."""
    return sorted(p.stem for p in BPF_DIR.glob("*.c"))


def renamed_symbol(obj: Path, old: str, new: str, out: Path) -> Path:
    """renamed_symbol: a copy of OBJ at OUT with the symbol name OLD replaced by NEW in the
    symbol string table (same length, so nothing else moves): names no C compiler emits."""
    if len(new.encode()) != len(old.encode()):
        raise ValueError(f"{new!r} must be as long as {old!r}")
    data = bytearray(obj.read_bytes())
    elf = parse_elf(bytes(data))
    assert elf.symtab is not None
    strtab = elf.sections[elf.symtab.link]
    table = bytes(data[strtab.offset : strtab.offset + strtab.size])
    at = strtab.offset + table.index(b"\0" + old.encode() + b"\0") + 1
    data[at : at + len(new.encode())] = new.encode()
    out.write_bytes(data)
    return out
