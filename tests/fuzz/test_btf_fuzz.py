"""Hypothesis drives the BTF parser and the legacy map-definition parser directly.

Invariant for every input: a result or ObjectError, under a second, with bounded memory; a
BTF blob that parses can have every type decoded and sized without any other exception.
"""

from __future__ import annotations

import contextlib
import struct
import time
import tracemalloc

import bpfobjs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybpftool.btf import parse_btf
from pybpftool.elf import parse_elf
from pybpftool.errors import ObjectError
from pybpftool.parser import parse_object

MEMORY_LIMIT = 64 << 20
_real_btf = parse_elf(bpfobjs.build("btf_kinds", "bpfel").read_bytes())
REAL_BTF = _real_btf.section_data(_real_btf.section_by_name(".BTF"))  # type: ignore[arg-type]
_legacy = bpfobjs.build("legacy_maps", "bpfel").read_bytes()
_maps = parse_elf(_legacy).section_by_name("maps")
assert _maps is not None
MAPS_AT, MAPS_SIZE = _maps.offset, _maps.size


def exercise_btf(blob: bytes) -> None:
    try:
        btf = parse_btf(blob, "<")
        for type_id in range(1, len(btf)):
            btf.type(type_id)
            with contextlib.suppress(ObjectError):
                btf.resolve_size(type_id)
    except ObjectError:
        pass


def bounded(fn, arg) -> None:  # type: ignore[no-untyped-def]
    tracemalloc.start()
    start = time.perf_counter()
    try:
        fn(arg)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.perf_counter() - start < 1.0
    assert peak < MEMORY_LIMIT, peak


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512))
def test_random_blobs_behind_a_valid_header(tail: bytes) -> None:
    types = tail[: len(tail) // 2]
    strings = b"\0" + tail[len(tail) // 2 :]
    header = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings))
    bounded(exercise_btf, header + types + strings)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(REAL_BTF) - 1), st.integers(0, 255)), max_size=12))
def test_mutated_real_btf(edits: list[tuple[int, int]]) -> None:
    blob = bytearray(REAL_BTF)
    for pos, value in edits:
        blob[pos] = value
    bounded(exercise_btf, bytes(blob))


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=MAPS_SIZE, max_size=MAPS_SIZE))
def test_random_legacy_map_definitions(defs: bytes) -> None:
    data = _legacy[:MAPS_AT] + defs + _legacy[MAPS_AT + MAPS_SIZE :]

    def parse(obj: bytes) -> None:
        with contextlib.suppress(ObjectError):
            parse_object(obj)

    bounded(parse, data)
