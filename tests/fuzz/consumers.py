"""consumers: every reader of a parsed object, run on one (mutated) object or target BTF.

The fuzz invariant: each step gives its result or a PyBpfError whose message is one line;
any other exception escapes to the caller. The steps are what a command does short of the
kernel: parse (`object show`), the show --json document and the table, the BTF a refused
load sanitizes, and for each program the PROG_LOAD request `object verify` builds (map fds
patched in, CO-RE relocations against a target BTF, func and line info).
"""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Callable
from functools import partial
from pathlib import Path

import bpfobjs
from rich.console import Console

from pybpftool.btf.fixup import sanitize
from pybpftool.btf.target import TargetBtf
from pybpftool.cli.bpftool.objshow import object_to_json, render_object
from pybpftool.errors import PyBpfError
from pybpftool.loader.corerelo import CoreRelocator
from pybpftool.loader.programs import program_request
from pybpftool.parser import parse_object
from pybpftool.spec import ObjectSpec
from pybpftool.uapi import BpfProgType


def one_line(err: PyBpfError) -> None:
    assert err.message and "\n" not in err.message, f"not one line: {err.message!r}"


def attempt(step: Callable[[], object]) -> bool:
    """attempt: run `step`; True if it gave a result, False for a one-line PyBpfError."""
    try:
        step()
    except PyBpfError as err:
        one_line(err)
        return False
    return True


def consume(data: bytes, target: TargetBtf | None) -> str:
    """consume: parse `data` and run every consumer on the spec; "spec" or "error"."""
    try:
        spec = parse_object(data, name="fuzz")
    except PyBpfError as err:
        one_line(err)
        return "error"
    # show decodes .BTF.ext's CO-RE records (to count them): a bad one is a one-line error.
    attempt(lambda: json.dumps(object_to_json(spec, "fuzz.o")))
    console = Console(file=io.StringIO(), width=200, color_system=None)
    attempt(lambda: render_object(spec, "fuzz.o", console))
    if spec.btf is not None:
        attempt(lambda: sanitize(spec.btf))  # type: ignore[arg-type]
    requests(spec, target)
    return "spec"


def requests(spec: ObjectSpec, target: TargetBtf | None) -> int:
    """requests: build every program's load request, CO-RE against `target`; how many
    were built."""
    fds = {m.name: 10 + i for i, m in enumerate(spec.maps)}

    def opener(path: str) -> TargetBtf:
        if target is None:
            raise AssertionError("CO-RE relocations with no target")
        return target

    core = CoreRelocator(spec, opener=opener)
    built = 0
    for prog in spec.programs:
        ptype = prog.type if prog.type is not None else BpfProgType.BPF_PROG_TYPE_SCHED_CLS
        built += attempt(partial(program_request, spec, prog, ptype, fds, 1, None, core))
    return built


def target_btf(target: str) -> bytes:
    """target_btf: the .BTF of tests/bpf/core_reloc.c built with -DTARGET (a stand-in for a
    kernel's BTF, as tests/unit/test_core_reloc.py uses it)."""
    obj = bpfobjs.build("core_reloc", target, "-DTARGET")
    out = Path(str(obj) + ".btf")
    if not out.exists():
        subprocess.run(
            ["llvm-objcopy-14", f"--dump-section=.BTF={out}", str(obj)],
            check=True,
            capture_output=True,
        )
    return out.read_bytes()
