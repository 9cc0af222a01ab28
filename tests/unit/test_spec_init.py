"""fast_init: the specs' own __init__ behaves as the one dataclasses would generate."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import MISSING

import pytest

from pybpftool.spec import MapOrigin, MapSpec, ProgramSpec, fast_init


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


def test_refuses_a_default_factory() -> None:
    @dataclasses.dataclass(frozen=True)
    class Listed:
        items: list[int] = dataclasses.field(default_factory=list)

    with pytest.raises(TypeError, match="needs the generated __init__"):
        fast_init(Listed)
