"""The spec's records: frozen NamedTuples built by keyword, changed by copy (`_replace`),
an ObjectSpec whose repr leaves the file's bytes out and whose sha1 names the file."""

from __future__ import annotations

import hashlib

import bpfobjs
import pytest

from pybpftool.parser import parse_object
from pybpftool.spec import MapOrigin, MapSpec, Pinning, TailCall


def test_a_map_spec_is_built_by_keyword_with_its_defaults() -> None:
    spec = MapSpec(
        name="m", type=1, key_size=4, value_size=8, max_entries=1, flags=0,
        origin=MapOrigin.BTF, section=".maps",
    )  # fmt: skip
    assert (spec.pinning, spec.inner, spec.contents, spec.data) == (Pinning.NONE, None, (), None)
    with pytest.raises(AttributeError):
        spec.name = "other"  # type: ignore[misc]
    renamed = spec._replace(name="other")
    assert (renamed.name, renamed[1:]) == ("other", spec[1:])


def test_an_object_spec_names_its_file_and_keeps_its_bytes_out_of_its_repr() -> None:
    path = bpfobjs.build("xdp_pass")
    image = path.read_bytes()
    spec = parse_object(str(path))
    assert spec.sha1 == hashlib.sha1(image).hexdigest()
    shown = repr(spec)
    assert shown.startswith(f"ObjectSpec(name='{path.stem}', ")
    assert shown.endswith(f"image=<{len(image)} bytes>)")
    assert repr(image[:16])[2:-1] not in shown
    assert spec == spec._replace() and spec != spec._replace(license="MIT")


def test_a_tail_call_is_a_record_of_its_array_and_key() -> None:
    assert TailCall(map="jumps", key=3) == TailCall("jumps", 3)
    assert TailCall("jumps", 3)._replace(key=4).key == 4
