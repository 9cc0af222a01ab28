"""BTF the kernel refuses and that cannot be sanitized either (a DATASEC variable at byte
offset 0x80000000) is left out, as a refused sanitized copy is: the object loads without it
(issue 20: this was a struct.error)."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import bpfobjs
import pytest
from fakekernel import FakeKernel, FakeProg

from pybpftool.elf import parse_elf
from pybpftool.loader import LoadOptions, load_object
from pybpftool.parser import parse_object
from pybpftool.uapi import BpfProgType as P

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
FAR = 0x80000000


@pytest.fixture(autouse=True)
def _fake_bpffs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pybpftool.kernel.bpffs.is_bpffs", lambda path: True)


def far_limit() -> bytes:
    data = bytearray(bpfobjs.build("rodata_ref", HOST).read_bytes())
    elf = parse_elf(bytes(data))
    (sym,) = [s for s in elf.symbols if s.name == "limit"]
    assert elf.symtab is not None
    struct.pack_into(elf.byteorder + "Q", data, elf.symtab.offset + sym.ndx * 24 + 8, FAR)
    return bytes(data)


@pytest.mark.parametrize("verbose", [False, True])
def test_unsanitizable_btf_is_left_out(tmp_path: Path, verbose: bool) -> None:
    kernel = FakeKernel()
    kernel.btf_ok = False
    reports: list[str] = []
    options = LoadOptions(
        prog_type=P.BPF_PROG_TYPE_XDP,
        section="xdp",
        env={"TC_BPF_MNT": str(tmp_path)},
        pinning_db=str(tmp_path / "no-db"),
        verbose=verbose,
        report=reports.append,
    )
    loaded = load_object(kernel, parse_object(far_limit()), options)
    (prog,) = [obj for obj in kernel.objects.values() if isinstance(obj, FakeProg)]
    assert prog.req.prog_btf_fd == 0 and not prog.req.func_info
    assert struct.pack(prog_order(), FAR) in prog.req.insns
    assert ("cannot be sanitized" in "".join(reports)) is verbose
    loaded.close()


def prog_order() -> str:
    return ("<" if HOST == "bpfel" else ">") + "I"
