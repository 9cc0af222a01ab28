"""`verbose` on a successful load prints what iproute2's own loader (lib/bpf_legacy.c)
prints: bpf_btf_report, bpf_map_report for each map made, `Map 'X' loaded as pinned!` for
each pin reused, bpf_prog_report with the verifier's analysis for each program; the texts
below are its format strings filled in."""

from __future__ import annotations

import re
from pathlib import Path

import bpfobjs
import pytest
from fakekernel import FakeKernel

from pybpftool.loader import LoadOptions, load_object
from pybpftool.parser import parse_object

HOST = "bpfel"
SCHED_CLS = 3
ANALYSIS = "processed 9 insns (limit 1000000) max_states_per_insn 0 total_states 1\n"


@pytest.fixture
def mnt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr("pybpftool.kernel.bpffs.is_bpffs", lambda path: True)
    return tmp_path


def _load(kernel: FakeKernel, mnt: Path, name: str) -> str:
    """_load: the verbose report of loading `name`, as the lines the reporter got, joined."""
    lines: list[str] = []
    options = LoadOptions(
        prog_type=SCHED_CLS,
        section="classifier",
        env={"TC_BPF_MNT": str(mnt)},
        pinning_db=str(mnt / "no-db"),
        verbose=True,
        report=lines.append,
    )
    load_object(kernel, parse_object(bpfobjs.build(name, HOST)), options).close()
    assert not any("\n" in line for line in lines)  # one line per call of the reporter
    return re.sub(r"loaded \(\d+\)!", "loaded (FD)!", "".join(f"{line}\n" for line in lines))


def test_a_legacy_load_reports_its_btf_maps_and_programs(mnt: Path) -> None:
    kernel = FakeKernel()
    kernel.success_log, kernel.btf_log = ANALYSIS, "magic: 0xeb9f\n"
    report = _load(kernel, mnt, "legacy_maps")
    assert report.startswith("\nBTF debug data section '.BTF' loaded (FD)!\n - Length:  ")
    btf, rest = report.split("\nVerifier analysis:\n\nmagic: 0xeb9f\n\n", 1)
    assert "\n" not in btf.split(" - Length:")[1]
    assert rest.startswith(
        "Map object 'counters' loaded (FD)!\n"
        " - Type:         1\n"
        " - Identifier:   0\n"
        " - Pinning:      2\n"
        " - Size key:     4\n"
        " - Size value:   8\n"
        " - Max elems:    256\n"
        " - Flags:        0x1\n"
    )
    made = re.findall(r"^Map object '(\w+)'", report, re.M)
    assert made == ["counters", "per_object", "custom_pin", "jmp_tc", "map_inner", "map_outer"]
    outer = _block(report, "Map object 'map_outer'")
    assert " - Type:         12\n - Identifier:   0\n - Pinning:      2\n" in outer
    assert " - Size value:   4\n - Max elems:    2\n - Flags:        0\n" in outer
    assert " - Identifier:   42\n" in _block(report, "Map object 'jmp_tc'")
    assert re.findall(r"^Prog section '([^']+)'", report, re.M) == ["classifier", "42/0", "0x2a/1"]
    assert re.search(
        r"\n\nProg section 'classifier' loaded \(FD\)!\n - Type:         3\n"
        r" - Instructions: \d+ \(0 over limit\)\n - License:      GPL\n\n"
        r"Verifier analysis:\n\nprocessed 9 insns \(limit 1000000\) .*\n",
        report,
    )


def _block(report: str, head: str) -> str:
    """_block: the report of one map, from its head line to the blank line after it."""
    start = report.index(head)
    return report[start : report.index("\n\n", start) + 1]


def test_pins_reused_are_reported_as_pinned(mnt: Path) -> None:
    kernel = FakeKernel()
    _load(kernel, mnt, "legacy_maps")
    again = "\n" + _load(kernel, mnt, "legacy_maps")
    assert "\nMap 'counters' loaded as pinned!\n" in again
    assert "\nMap 'map_outer' loaded as pinned!\n" in again
    assert "\nMap 'per_object' loaded as pinned!\n" in again
    assert "\nMap object 'jmp_tc' loaded (FD)!\n" in again  # not pinned


def test_btf_maps_are_reported_with_the_pinning_they_declare(mnt: Path) -> None:
    kernel = FakeKernel()
    report = _load(kernel, mnt, "twin_btf")
    counters = _block(report, "Map object 'twin_counters'")
    assert " - Identifier:   0\n - Pinning:      1\n - Size key:     4\n" in counters
    assert "BTF debug" not in report  # the kernel said nothing
    assert "Verifier analysis:\n" in report[report.index("\nProg section") :]


def test_no_report_without_verbose(mnt: Path) -> None:
    kernel = FakeKernel()
    kernel.success_log = ANALYSIS
    lines: list[str] = []
    options = LoadOptions(
        prog_type=SCHED_CLS,
        section="classifier",
        env={"TC_BPF_MNT": str(mnt)},
        pinning_db=str(mnt / "no-db"),
        report=lines.append,
    )
    load_object(kernel, parse_object(bpfobjs.build("legacy_maps", HOST)), options).close()
    assert lines == []
    assert all(d.endswith("level=0 size=0") for op, d in kernel.calls if op == "prog_load")
