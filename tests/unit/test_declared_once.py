"""Constants, layouts and failure texts are declared in one module each (issue 18): a second
copy drifts (exec bpf graft loaded `lwt_seg6local` as type 18 while its own table said so).

Read as source text: what is checked is where a name is *assigned* or a text *written*.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pybpftool"


def sources() -> dict[str, str]:
    return {str(p.relative_to(PACKAGE)): p.read_text() for p in PACKAGE.rglob("*.py")}


def assigned_in(pattern: str) -> list[str]:
    """assigned_in: the modules with an assignment whose targets match `pattern`."""
    where = re.compile(rf"^\s*(?:[A-Za-z_0-9]+,\s*)*{pattern}\b[\w ,]*=(?!=)", re.MULTILINE)
    return sorted(name for name, text in sources().items() if where.search(text))


@pytest.mark.parametrize(
    ("pattern", "home"),
    [
        ("TC_H_ROOT", ["netlink/uapi.py"]),
        ("TC_H_INGRESS", ["netlink/uapi.py"]),
        ("(?:TC_H_INGRESS_HANDLE|CLSACT_HANDLE)", ["netlink/uapi.py"]),
        ("TCA_ACT_KIND", ["netlink/actions.py"]),
        ("TCA_ACT_[A-Z_]+", ["netlink/actions.py"]),
        ("RTM_[A-Z]+ACTION", ["netlink/uapi.py"]),
        ("BPF_PROG_TYPE_[A-Z_]+", ["uapi.py"]),
        ("XDP_FLAGS_[A-Z_]+", ["netlink/uapi.py"]),
        ("BPF_MAXINSNS", ["insn.py"]),
        ("(?:TC_FILTER_FLAGS|FILTER_FLAGS|MODIFY_FLAGS)", ["netlink/uapi.py"]),
    ],
)
def test_constants_are_assigned_in_one_module(pattern: str, home: list[str]) -> None:
    assert assigned_in(pattern) == home


def test_the_bpf_insn_layout_is_declared_once() -> None:
    layouts = sorted(name for name, text in sources().items() if '"BBhi"' in text)
    assert layouts == ["insn.py"]


@pytest.mark.parametrize(
    "text",
    ['Cannot find device "', "We have an error talking to the kernel", "RTNETLINK answers"],
)
def test_failure_texts_shared_by_commands_live_in_failures(text: str) -> None:
    cli = {name: body for name, body in sources().items() if name.startswith("cli/")}
    assert sorted(name for name, body in cli.items() if text in body) == [
        "cli/common/failures.py"
    ]
