"""Bounded work (issue 20): what a large object costs grows with the object, not with
programs x subprogram size. Memory is measured with tracemalloc (deterministic), never time."""

from __future__ import annotations

import io
import json
import tracemalloc
from collections.abc import Callable
from typing import TypeVar

import genobj
import pytest
from rich.console import Console
from workcount import growth

from pybpftool.cli.bpftool.objshow import object_to_json, render_object
from pybpftool.parser import parse_object
from pybpftool.spec import ObjectSpec

T = TypeVar("T")
PROGRAMS, SUBPROGRAM_INSNS = 100, 4000


def peak_of(work: Callable[[], T]) -> tuple[T, int]:
    """peak_of: what `work` returns and the most memory it held at once (bytes)."""
    tracemalloc.start()
    try:
        return work(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture
def shared(target: str) -> bytes:
    """100 programs calling one 4,000-instruction subprogram: linked, 3.2 MB of copies."""
    return genobj.build(genobj.shared_subprogram(PROGRAMS, SUBPROGRAM_INSNS), target)


def test_parse_keeps_one_copy_of_a_shared_subprogram(shared: bytes) -> None:
    spec, peak = peak_of(lambda: parse_object(shared))
    assert len(spec.programs) == PROGRAMS
    assert peak < 2 * len(shared), f"{peak} bytes for a {len(shared)}-byte object"


def show(spec: ObjectSpec) -> str:
    """show: what `pybpftool object show` and `--json` print of `spec`."""
    out = io.StringIO()
    render_object(spec, "obj.o", Console(file=out, width=200))
    return json.dumps(object_to_json(spec, "obj.o")) + out.getvalue()


def test_show_links_no_program(shared: bytes, target: str) -> None:
    """show's memory grows with the subprogram's size by the object's size, not by one copy
    of the subprogram per program (3.2 MB here)."""
    small = genobj.build(genobj.shared_subprogram(PROGRAMS, 1), target)
    show(parse_object(small))  # rich imported and warm
    _, small_peak = peak_of(lambda: show(parse_object(small)))
    text, peak = peak_of(lambda: show(parse_object(shared)))
    assert f"{SUBPROGRAM_INSNS + 5}" in text
    assert text.count('"subprograms": ["big"]') == PROGRAMS
    assert peak - small_peak < len(shared), f"{peak} bytes, {small_peak} with a small subprogram"


def parse_growth(source: Callable[[int], str], small: int, large: int, target: str) -> float:
    """parse_growth: workcount.growth of parsing the objects `source(small)` and
    `source(large)` (built before anything is counted)."""
    objects = {n: genobj.build(source(n), target) for n in (small, large)}
    return growth(lambda n: parse_object(objects[n]), small, large)


def test_static_slots_cost_grows_linearly(target: str) -> None:
    """4x the map-in-maps (each with 4 static slots) is at most ~4x the parse work; slot
    collection used to scan every map for each slot's relocation."""
    assert parse_growth(lambda n: genobj.map_in_maps(n, 4), 40, 160, target) < 1.5


@pytest.mark.parametrize(
    ("source", "small", "large"),
    [
        pytest.param(genobj.many_maps, 100, 400, id="maps"),
        pytest.param(genobj.many_programs, 50, 200, id="programs"),
        pytest.param(lambda n: genobj.shared_subprogram(n, 200), 25, 100, id="callers"),
    ],
)
def test_parse_work_grows_linearly(
    source: Callable[[int], str], small: int, large: int, target: str
) -> None:
    assert parse_growth(source, small, large, target) < 1.5
