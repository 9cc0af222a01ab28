"""A run's ProgramMemo: a -batch that loads one object line after line works out its
func_info and line_info once, sends exactly what a load without the memo sends, and works
them out afresh for an object file that changed between lines (parsed again, new specs)."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import bpfobjs
import pytest
from fakekernel import FakeKernel, FakeProg

import pybpftool.loader.programs as programs
from pybpftool.cli.common.context import RunContext
from pybpftool.loader import LoadOptions, load_object
from pybpftool.loader.programs import ProgramMemo
from pybpftool.spec import ObjectSpec
from pybpftool.uapi import BpfProgType as P

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"


@pytest.fixture(autouse=True)
def _fake_bpffs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pybpftool.kernel.bpffs.is_bpffs", lambda path: True)


@pytest.fixture
def worked_out(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """worked_out: the section of every program whose records were computed."""
    seen: list[str] = []
    real = programs.ext_records

    def counting(prog, ext, byteorder):  # type: ignore[no-untyped-def]
        seen.append(prog.section)
        return real(prog, ext, byteorder)

    monkeypatch.setattr(programs, "ext_records", counting)
    return seen


Sent = list[tuple[str, bytes, bytes, bool]]


def load(spec: ObjectSpec, mnt: Path, section: str, memo: ProgramMemo | None) -> Sent:
    """load: each loaded program's name, func_info, line_info and whether BTF went along (in
    a bpffs of its own: the fake kernel of another load cannot open its pins)."""
    mnt = Path(tempfile.mkdtemp(dir=mnt))
    kernel = FakeKernel()
    options = LoadOptions(
        prog_type=P.BPF_PROG_TYPE_SCHED_CLS,
        section=section,
        env={"TC_BPF_MNT": str(mnt)},
        pinning_db=str(mnt / "no-db"),
        memo=memo,
    )
    load_object(kernel, spec, options).close()
    reqs = [obj.req for obj in kernel.objects.values() if isinstance(obj, FakeProg)]
    return sorted((r.name, r.func_info, r.line_info, bool(r.prog_btf_fd)) for r in reqs)


def test_a_run_works_out_a_programs_records_once_and_sends_the_same(
    tmp_path: Path, worked_out: list[str]
) -> None:
    run = RunContext()
    path = bpfobjs.build("btf_maps", HOST)
    spec = run.parse(path)
    section = spec.programs[0].section
    alone = load(spec, tmp_path, section, None)
    assert all(func and line and btf for _, func, line, btf in alone)  # records to memoise
    per_load = len(worked_out)
    lines = [load(run.parse(path), tmp_path, section, run.program_memo()) for _ in range(3)]
    assert len(worked_out) == 2 * per_load  # the load alone, then the run's first line
    assert lines == [alone] * 3


def test_an_object_changed_between_lines_is_worked_out_afresh(
    tmp_path: Path, worked_out: list[str]
) -> None:
    run = RunContext()
    path = tmp_path / "obj.o"
    records = []
    for source in ("btf_maps", "global_data", "btf_maps"):
        shutil.copyfile(bpfobjs.build(source, HOST), path)
        spec = run.parse(str(path))
        section = spec.programs[0].section
        sent = load(spec, tmp_path, section, run.program_memo())
        assert sent == load(spec, tmp_path, section, None)
        records.append(sent)
    assert records[0] != records[1]
    assert records[0] == records[2]
    assert set(worked_out) >= {p.section for p in spec.programs[:1]}
    assert len(worked_out) == 2 * (2 * len(records[0]) + len(records[1]))  # never memoised


def test_relocated_instructions_are_kept_only_for_the_same_fds() -> None:
    spec = RunContext().parse(bpfobjs.build("btf_maps", HOST))
    prog = next(p for p in spec.programs if p.references)
    names = {ref.target for ref in prog.references}
    memo = ProgramMemo()
    first = {name: 5 for name in names}
    other = {name: 9 for name in names}
    assert memo.relocated(prog, first, spec.byteorder) == programs.relocate(
        prog, first, spec.byteorder
    )
    assert memo.relocated(prog, other, spec.byteorder) == programs.relocate(
        prog, other, spec.byteorder
    )
    assert memo.relocated(prog, other, spec.byteorder) != memo.relocated(
        prog, first, spec.byteorder
    )
