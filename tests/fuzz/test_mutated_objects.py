"""Mutated objects never crash the parser: each gives a spec or an ObjectError, never any
other exception, and none takes over a second. 250 cases x every test object (12 now) x 2
byte orders = 6,000 cases per CI run; tests/fuzz/README.md records a 100,000-case run."""

from __future__ import annotations

import contextlib
import time
import tracemalloc
import zlib

import bpfobjs
import pytest
from mutate import mutations

from pybpftool.errors import ObjectError
from pybpftool.parser import parse_object
from pybpftool.spec import ObjectSpec

CASES_PER_OBJECT = 250
TIME_LIMIT_S = 1.0
MEMORY_LIMIT = 64 << 20  # per case; a real parse of these objects stays under 1 MiB


@pytest.mark.parametrize("name", bpfobjs.sources())
def test_mutations_give_spec_or_object_error(name: str, target: str) -> None:
    data = bpfobjs.build(name, target).read_bytes()
    seed = zlib.crc32(f"{name}-{target}".encode())
    outcomes: dict[str, int] = {}
    slowest = 0.0
    for label, mutated in mutations(data, seed, CASES_PER_OBJECT):
        start = time.perf_counter()
        tracemalloc.start()
        try:
            result = parse_object(mutated)
        except ObjectError as err:
            assert str(err) and "\n" not in str(err), f"{label}: message must be one line"
            outcomes["error"] = outcomes.get("error", 0) + 1
        else:
            assert isinstance(result, ObjectSpec)
            outcomes["spec"] = outcomes.get("spec", 0) + 1
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        assert peak < MEMORY_LIMIT, f"{label}: {peak} bytes"
        slowest = max(slowest, time.perf_counter() - start)
        assert slowest < TIME_LIMIT_S, f"{label}: took {slowest:.2f}s"
    assert sum(outcomes.values()) == CASES_PER_OBJECT
    # The mutators must really break things: a run where every case parses proves nothing.
    assert outcomes.get("error", 0) > CASES_PER_OBJECT // 4, outcomes


# Cases tests/fuzz/long_run.py found, kept so they stay fixed: (object, byte order, index).
LONG_RUN_FINDINGS = [
    # Two functions starting at the same instruction shared one cached link plan.
    ("global_data", "bpfel", 340),
]


@pytest.mark.parametrize(("name", "target", "index"), LONG_RUN_FINDINGS)
def test_long_run_findings_stay_fixed(name: str, target: str, index: int) -> None:
    data = bpfobjs.build(name, target).read_bytes()
    seed = zlib.crc32(f"long-{name}-{target}".encode())
    *_, (_label, mutated) = mutations(data, seed, index + 1)
    with contextlib.suppress(ObjectError):
        parse_object(mutated)
