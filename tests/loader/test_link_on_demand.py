"""A load links only the programs it loads: one program of 100 that call one large subprogram
costs one linked copy, not 100 (issue 20). Memory by tracemalloc, no timing."""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import genobj
import pytest
from fakekernel import FakeKernel, FakeProg

from pybpftool.loader import LoadOptions, load_object
from pybpftool.parser import parse_object
from pybpftool.uapi import BpfProgType as P

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
PROGRAMS, SUBPROGRAM_INSNS = 100, 4000


@pytest.fixture(autouse=True)
def _fake_bpffs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pybpftool.kernel.bpffs.is_bpffs", lambda path: True)


def load_peak(data: bytes, program: str, mnt: Path) -> tuple[list[FakeProg], int]:
    """load_peak: the programs a fake kernel received when `program` of `data` was parsed
    and loaded, and the most memory that took at once."""
    kernel = FakeKernel()
    options = LoadOptions(
        prog_type=P.BPF_PROG_TYPE_XDP,
        program=program,
        env={"TC_BPF_MNT": str(mnt)},
        pinning_db=str(mnt / "no-db"),
    )
    tracemalloc.start()
    try:
        load_object(kernel, parse_object(data), options).close()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return [obj for obj in kernel.objects.values() if isinstance(obj, FakeProg)], peak


def test_loading_one_program_links_that_program_alone(tmp_path: Path) -> None:
    """Loading one of 100 programs costs what loading one of 2 costs, plus the larger
    object; linking all 100 would add 98 copies of the subprogram (3.1 MB)."""
    many = genobj.build(genobj.shared_subprogram(PROGRAMS, SUBPROGRAM_INSNS), HOST)
    few = genobj.build(genobj.shared_subprogram(2, SUBPROGRAM_INSNS), HOST)
    load_peak(few, "prog1", tmp_path)  # first-use imports and caches
    _, few_peak = load_peak(few, "prog1", tmp_path)
    programs, peak = load_peak(many, "prog7", tmp_path)
    assert [p.req.name for p in programs] == ["prog7"]
    assert len(programs[0].req.insns) == (SUBPROGRAM_INSNS + 5) * 8
    copies = (PROGRAMS - 2) * SUBPROGRAM_INSNS * 8
    assert peak - few_peak < copies // 4, f"{peak} bytes, {few_peak} for 2"
