"""fast_init and fast_builder: the specs' own __init__, and the parser's builders, behave as the
__init__ dataclasses would generate."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from dataclasses import MISSING

import pytest

from pybpftool.spec import (
    MapOrigin,
    MapSpec,
    ProgramSpec,
    build_map_spec,
    build_program_spec,
    fast_builder,
    fast_init,
)


@pytest.mark.parametrize("cls", [MapSpec, ProgramSpec])
def test_same_parameters_and_defaults_as_the_fields(cls: type) -> None:
    params = list(inspect.signature(cls).parameters.values())
    empty = inspect.Parameter.empty
    assert [(p.name, p.kind, p.default) for p in params] == [
        (
            f.name,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            empty if f.default is MISSING else f.default,
        )
        for f in dataclasses.fields(cls)
    ]


def test_fields_are_set_and_stay_frozen() -> None:
    spec = MapSpec("m", 1, 4, 8, 16, 0, MapOrigin.BTF, ".maps", map_extra=3)
    assert (spec.name, spec.max_entries, spec.map_extra, spec.inner) == ("m", 16, 3, None)
    assert spec == dataclasses.replace(spec)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        MapSpec("m", 1, 4, 8, 16, 0, MapOrigin.BTF)  # type: ignore[call-arg]


@pytest.mark.parametrize("generate", [fast_init, fast_builder])
def test_refuses_a_default_factory(generate: Callable[[type], object]) -> None:
    @dataclasses.dataclass(frozen=True)
    class Listed:
        items: list[int] = dataclasses.field(default_factory=list)

    with pytest.raises(TypeError, match="needs the generated __init__"):
        generate(Listed)


@pytest.mark.parametrize(
    ("cls", "builder"), [(MapSpec, build_map_spec), (ProgramSpec, build_program_spec)]
)
def test_builder_takes_the_same_parameters_as_the_class(
    cls: type, builder: Callable[..., object]
) -> None:
    theirs = inspect.signature(cls).parameters
    assert list(inspect.signature(builder).parameters.values()) == list(theirs.values())


def test_builder_builds_what_the_class_builds_and_it_stays_frozen() -> None:
    fields = dict(
        name="p", section="xdp", type=6, expected_attach_type=None, insns=b"\x95" + bytes(7)
    )
    more = dict(references=(), subprograms=(), layout=(), autoload=False)
    built, made = build_program_spec(**fields, **more), ProgramSpec(**fields, **more)
    assert type(built) is ProgramSpec
    assert built == made and hash(built) == hash(made)
    assert (built.sleepable, built.tail_call, built.insn_count) == (False, None, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        build_program_spec(name="p")  # type: ignore[call-arg]
