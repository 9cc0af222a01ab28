"""bench_parse's floor rebuilds every record of a spec from its own fields: it must keep
working whatever the records are (they became NamedTuples, and the bench broke unseen)."""

from __future__ import annotations

import sys
from pathlib import Path

from bpfobjs import build

from pybpftool.parser import parse_object

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from bench_parse import rebuild_records


def test_rebuild_records_takes_every_map_and_program_of_a_real_object() -> None:
    spec = parse_object(build("mixed_maps").read_bytes())
    assert spec.maps and spec.programs
    rebuild_records(spec)
