"""workcount: how much Python work a call does, counted in bytecode instructions executed
(sys.settrace opcode events): deterministic, so tests can check how work grows with input
size without timing anything."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any


def opcodes(work: Callable[[], object]) -> int:
    """opcodes: the bytecode instructions Python executes while running `work()`."""
    count = 0

    def trace(frame: FrameType, event: str, arg: Any) -> Callable[..., Any]:
        nonlocal count
        frame.f_trace_opcodes = True
        if event == "opcode":
            count += 1
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        work()
    finally:
        sys.settrace(previous)
    return count


def growth(work: Callable[[int], object], small: int, large: int) -> float:
    """growth: how many times more work `work(large)` does than `work(small)`, per unit of
    size: about 1 when the work is linear in the size, about large/small when quadratic."""
    return opcodes(lambda: work(large)) / opcodes(lambda: work(small)) / (large / small)
