"""Mutated objects never crash a consumer: parsing each gives a spec or an ObjectError, and a
spec's show --json document and table, sanitized BTF and every program's load request (CO-RE
against a target BTF) are built or refused with a one-line error, never another exception;
no case takes over a second. CASES_PER_OBJECT x every test object x 2 byte orders per CI run
(every mutator of tests/mutate.py in turn), and the CO-RE object against mutated target
BTFs; tests/fuzz/README.md records a long run of over 100,000 cases, whose findings are
kept as direct tests of what they broke (named there)."""

from __future__ import annotations

import time
import tracemalloc
import zlib
from collections.abc import Callable
from functools import partial

import bpfobjs
import pytest
from mutate import MUTATORS, mutations, target_mutations

from fuzz.consumers import consume, requests, target_btf
from pybpftool.btf.target import TargetBtf
from pybpftool.errors import PyBpfError
from pybpftool.parser import parse_object

CASES_PER_OBJECT = 120
TARGET_CASES = 300
TIME_LIMIT_S = 1.0
MEMORY_LIMIT = 64 << 20  # per case; a real parse of these objects stays under 1 MiB


def bounded(label: str, work: Callable[[], str]) -> str:
    """bounded: what `work` returns, checked to take under a second and 64 MiB."""
    start = time.perf_counter()
    tracemalloc.start()
    try:
        return work()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < MEMORY_LIMIT, f"{label}: {peak} bytes"
        assert time.perf_counter() - start < TIME_LIMIT_S, f"{label}: too slow"


@pytest.mark.parametrize("name", bpfobjs.sources())
def test_mutations_give_results_or_one_line_errors(name: str, target: str) -> None:
    data = bpfobjs.build(name, target).read_bytes()
    core_target = TargetBtf(target_btf(target))
    seed = zlib.crc32(f"{name}-{target}".encode())
    outcomes = [
        bounded(label, partial(consume, mutated, core_target))
        for label, mutated in mutations(data, seed, CASES_PER_OBJECT)
    ]
    assert len(outcomes) == CASES_PER_OBJECT >= 10 * len(MUTATORS)
    # The mutators must really break things: a run where every case parses proves nothing.
    assert outcomes.count("error") > CASES_PER_OBJECT // 5, outcomes.count("error")


def test_mutated_core_targets(target: str) -> None:
    obj = bpfobjs.build("core_reloc", target).read_bytes()
    programs = len(parse_object(obj).programs)
    bo = "<" if target == "bpfel" else ">"
    seed = zlib.crc32(f"target-{target}".encode())
    built = refused = 0
    for i, raw in enumerate(target_mutations(target_btf(target), bo, seed, TARGET_CASES)):

        def work(raw: bytes = raw) -> str:
            try:
                core = TargetBtf(raw)
            except PyBpfError:
                return "refused"
            return str(requests(parse_object(obj), core))

        outcome = bounded(f"target #{i}", work)
        refused += outcome == "refused"
        built += outcome not in ("refused", str(programs), str(programs - 1))
    assert refused < TARGET_CASES // 2  # most targets index, so relocations run against them
    assert built > TARGET_CASES // 20  # and some lose programs: the mutations reach CO-RE
