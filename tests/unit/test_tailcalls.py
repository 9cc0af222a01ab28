"""`ID/KEY` section names are read with C's "%i/%i" (iproute2 bpf_fill_prog_arrays)."""

from __future__ import annotations

import pytest

from pybpftool.tailcalls import parse_tail_call_section


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        pytest.param("42/0", (42, 0), id="decimal"),
        pytest.param("0x2a/1", (42, 1), id="hex"),
        pytest.param("052/1", (42, 1), id="octal"),
        pytest.param("0xabccba/0", (0xABCCBA, 0), id="iproute2-example"),
        pytest.param(" 1/ 2", (1, 2), id="blanks-skipped"),
        pytest.param("1/0abc", (1, 0), id="trailing-garbage-ignored"),
        pytest.param("-1/0", (0xFFFFFFFF, 0), id="negative-wraps"),
        pytest.param("classifier", None, id="word"),
        pytest.param("1", None, id="no-slash"),
        pytest.param("1/", None, id="no-key"),
        pytest.param("tc/1", None, id="non-numeric-id"),
        pytest.param("1 /0", None, id="blank-before-slash"),
    ],
)
def test_parse_tail_call_section(name: str, parsed: tuple[int, int] | None) -> None:
    assert parse_tail_call_section(name) == parsed
