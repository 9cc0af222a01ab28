"""bench_parse: parse the real test and example objects, and a large generated one beside
pyelftools.

First the objects users have: every tests/bpf/*.c and examples/*.c built for the host's byte
order, each parsed cold many times (median per object). Speed work is judged on these and
on cold commands (README, Benchmarks), not on the synthetic object below.
Then the synthetic object's targets (issue 2): ObjectSpec in at most 15 ms median; at least
7x faster than pyelftools iterating the same relocations; importing the parse path at most
40 ms. It also prints what importing pyelftools' ELF reader would cost a command (the
README's reason for our own).
Each parse is a cold one: the parser keeps no memo from one parse to the next. The last lines
put the 7x target in proportion: how long merely constructing the finished spec's records
takes, no parsing at all.
Run: .venv/bin/python benchmarks/bench_parse.py [--instructions]

With --instructions (needs valgrind), it also counts the machine instructions one parse and
one pyelftools pass execute (callgrind's Ir): a ratio that the machine's noise cannot move.
"""

from __future__ import annotations

import io
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_large import generate

from pybpftool.spec import ObjectSpec


def median_ms(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def build(folder: Path) -> Path:
    src, obj = folder / "large.c", folder / "large.o"
    src.write_text(generate())
    subprocess.run(
        ["clang-14", "-O2", "-g", "-target", "bpfel", "-c", str(src), "-o", str(obj)], check=True
    )
    return obj


def pyelftools_relocations(data: bytes) -> int:
    from elftools.elf.elffile import ELFFile
    from elftools.elf.relocation import RelocationSection

    count = 0
    for sec in ELFFile(io.BytesIO(data)).iter_sections():
        if isinstance(sec, RelocationSection):
            for rel in sec.iter_relocations():
                _ = (rel["r_offset"], rel["r_info_sym"], rel["r_info_type"])
                count += 1
    return count


def import_cost_ms(module: str, runs: int = 11) -> float:
    def wall(code: str) -> float:
        return median_ms(lambda: subprocess.run([sys.executable, "-c", code], check=True), runs)

    return wall(f"import {module}") - wall("pass")


def cold_parse(data: bytes) -> ObjectSpec:
    """cold_parse: parse_object as a command's only parse runs it (nothing is remembered
    from one parse to the next, so a benchmark loop cannot warm it up)."""
    from pybpftool.parser import parse_object

    return parse_object(data, name="large")


def rebuild_records(spec: ObjectSpec) -> None:
    """rebuild_records: construct every map and program of `spec` again from its own fields,
    with no parsing at all: the floor of any parser returning this spec."""
    for m in spec.maps:
        type(m)(**m._asdict())
    for p in spec.programs:
        type(p)(**p._asdict())


RUNNERS: dict[str, Callable[[bytes], object]] = {
    "parse_object": cold_parse,
    "pyelftools": pyelftools_relocations,
}


def run_child(which: str, obj: str, count: int) -> None:
    """run_child: one call of `which` to warm up (imports, first-use state), then `count`."""
    data = Path(obj).read_bytes()
    for _ in range(count + 1):
        RUNNERS[which](data)


def instructions(which: str, obj: Path) -> int:
    """instructions: callgrind's instruction count of one call of `which`: a process making
    two calls after the warm-up, less one making none, halved."""

    def total(count: int) -> int:
        child = [sys.executable, __file__, "--child", which, str(obj), str(count)]
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *child]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
        found = re.search(r"Collected : (\d+)", out)
        if found is None:
            raise RuntimeError(f"no instruction count from callgrind:\n{out}")
        return int(found.group(1))

    return (total(2) - total(0)) // 2


def print_instructions(obj: Path) -> None:
    if shutil.which("valgrind") is None:
        print("instructions: valgrind is not installed")
        return
    ours, theirs = instructions("parse_object", obj), instructions("pyelftools", obj)
    print(f"instructions per parse_object    {ours / 1e6:7.1f} M")
    print(f"instructions per pyelftools pass {theirs / 1e6:7.1f} M")
    print(f"ratio of instructions            {theirs / ours:7.1f}x     target >= 7x")


def real_objects(folder: Path) -> dict[str, bytes]:
    """real_objects: every test and example object, built for the host's byte order."""
    root = Path(__file__).resolve().parent.parent
    target = "bpfel" if sys.byteorder == "little" else "bpfeb"
    out = {}
    for source in sorted([*(root / "tests/bpf").glob("*.c"), *(root / "examples").glob("*.c")]):
        obj = folder / f"{source.parent.name}-{source.stem}.o"
        cmd = ["clang-14", "-O2", "-g", "-target", target, f"-I{root / 'tests/bpf/include'}"]
        subprocess.run([*cmd, "-c", str(source), "-o", str(obj)], check=True)
        out[f"{source.parent.name}/{source.stem}"] = obj.read_bytes()
    return out


def print_real_objects(objects: dict[str, bytes]) -> None:
    from pybpftool.parser import parse_object

    medians = []
    for name, data in objects.items():
        ms = median_ms(lambda data=data: parse_object(data), 101)
        medians.append(ms)
        print(f"  {name:28} {len(data):7} bytes {ms * 1000:7.0f} us")
    print(
        f"real objects: {len(medians)}, parse median {statistics.median(medians) * 1000:.0f} us,"
        f" slowest {max(medians) * 1000:.0f} us   target: well under 1 ms each"
    )


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        run_child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        print_real_objects(real_objects(Path(tmp)))
        obj = build(Path(tmp))
        print_timings(obj.read_bytes())
        if "--instructions" in sys.argv[1:]:
            print_instructions(obj)


def print_timings(data: bytes) -> None:
    spec = cold_parse(data)
    relocs = pyelftools_relocations(data)
    ours = median_ms(lambda: cold_parse(data), 31)
    floor = median_ms(lambda: rebuild_records(spec), 31)
    theirs = median_ms(lambda: pyelftools_relocations(data), 7)
    imports = import_cost_ms("pybpftool.parser")
    pyelftools = import_cost_ms("elftools.elf.elffile, elftools.elf.relocation")
    print(
        f"object: {len(data)} bytes, {len(spec.programs)} programs, {len(spec.maps)} maps, "
        f"{relocs} relocations"
    )
    print(f"parse_object (ObjectSpec)        median {ours:7.2f} ms   target <= 15 ms")
    print(f"pyelftools iterating relocations median {theirs:7.2f} ms")
    print(f"ratio pyelftools / parse_object  {theirs / ours:7.1f}x     target >= 7x")
    print(f"import pybpftool.parser          median {imports:7.2f} ms   target <= 40 ms")
    print(f"import pyelftools' ELF reader    median {pyelftools:7.2f} ms   (what it would add)")
    print(f"7x of pyelftools leaves          {theirs / 7:13.2f} ms to parse in")
    print(f"building the spec's records alone, no parsing (the floor) {floor:6.2f} ms")


if __name__ == "__main__":
    main()
