"""Mutated legacy objects through the converter: each gives a Conversion or an ObjectError,
never any other exception; and whatever output it writes parses again (a converter that
accepts an object must never write one our own parser, let alone libbpf, cannot read)."""

from __future__ import annotations

import zlib

import bpfobjs
import pytest
from mutate import mutations

from pybpftool.convert import ConvertOptions, PinChoice, TailCallMode, convert_object
from pybpftool.errors import ObjectError
from pybpftool.parser import parse_object

CASES_PER_OBJECT = 150
OBJECTS = ["legacy_maps", "twin_legacy", "iproute2/tailcall", "iproute2/map_in_map"]
OPTIONS = [
    ConvertOptions(),
    ConvertOptions(PinChoice.GLOBAL, PinChoice.NONE, TailCallMode.STATIC),
    ConvertOptions(PinChoice.NONE, PinChoice.GLOBAL, TailCallMode.GRAFT),
]


@pytest.mark.parametrize("name", OBJECTS)
def test_mutated_objects_convert_or_give_an_object_error(name: str, target: str) -> None:
    data = bpfobjs.build(name, target).read_bytes()
    seed = zlib.crc32(f"convert-{name}-{target}".encode())
    outcomes = {"error": 0, "refused": 0, "written": 0}
    for i, (label, mutated) in enumerate(mutations(data, seed, CASES_PER_OBJECT)):
        try:
            conversion = convert_object(mutated, OPTIONS[i % len(OPTIONS)])
        except ObjectError as err:
            assert str(err) and "\n" not in str(err), f"{label}: message must be one line"
            outcomes["error"] += 1
            continue
        if conversion.image is None:
            assert conversion.refused, label
            outcomes["refused"] += 1
            continue
        outcomes["written"] += 1
        parse_object(conversion.image)  # any exception here is a converter bug
    # The mutators must break things and leave some intact: both paths are exercised.
    assert outcomes["error"] > CASES_PER_OBJECT // 4, outcomes
    assert outcomes["written"] > 0, outcomes
