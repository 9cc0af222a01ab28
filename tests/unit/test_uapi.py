"""Our linux/bpf.h enums against the running kernel's, read from its BTF with bpftool: every
name we define exists in the kernel with the same number (the kernel may define more)."""

from __future__ import annotations

import re
import shutil
import subprocess
from enum import IntEnum
from functools import cache
from pathlib import Path

import pytest

from pybpftool.uapi import BpfAttachType, BpfMapType, BpfProgType

VMLINUX = Path("/sys/kernel/btf/vmlinux")


@cache
def kernel_header() -> str:
    bpftool = shutil.which("bpftool")
    if bpftool is None:
        pytest.fail("bpftool is required to read the kernel's enums")
    return subprocess.run(
        [bpftool, "btf", "dump", "file", str(VMLINUX), "format", "c"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def kernel_enum(name: str) -> dict[str, int]:
    """kernel_enum: NAME = value of `enum NAME {...}` in the kernel's BTF, as C."""
    block = re.search(r"^enum " + name + r" \{\n(.*?)^\};", kernel_header(), re.M | re.S)
    assert block is not None, f"enum {name} not in the kernel's BTF"
    values = {}
    for line in block.group(1).splitlines():
        entry = re.fullmatch(r"\s*(\w+) = (-?\d+),?", line)
        assert entry is not None, line
        values[entry.group(1)] = int(entry.group(2))
    return values


@pytest.fixture(autouse=True)
def _needs_kernel_btf() -> None:
    if not VMLINUX.exists():
        pytest.skip(f"{VMLINUX} is missing: the kernel has no BTF")


@pytest.mark.parametrize(
    ("ours", "kernel_name"),
    [
        pytest.param(BpfMapType, "bpf_map_type", id="map-type"),
        pytest.param(BpfProgType, "bpf_prog_type", id="prog-type"),
        pytest.param(BpfAttachType, "bpf_attach_type", id="attach-type"),
    ],
)
def test_enum_matches_the_kernel(ours: type[IntEnum], kernel_name: str) -> None:
    kernel = kernel_enum(kernel_name)
    assert {m.name: m.value for m in ours} == {m.name: kernel.get(m.name) for m in ours}


def test_parsed_kernel_enums_are_plausible() -> None:
    # Guards the parser above: an enum read as empty would make every comparison vacuous.
    assert kernel_enum("bpf_prog_type")["BPF_PROG_TYPE_UNSPEC"] == 0
    assert kernel_enum("bpf_map_type")["BPF_MAP_TYPE_HASH"] == 1
    assert len(kernel_enum("bpf_attach_type")) > 40
