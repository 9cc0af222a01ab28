"""Completion for pyip and pytc comes from the parsers' own tables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pybpftool.cli.bpftool.complete import candidates


@pytest.mark.parametrize(
    ("tool", "words", "expected"),
    [
        ("ip", ["li"], ["link"]),
        ("ip", ["link", "s"], ["set", "show"]),
        ("ip", ["link", "set", "dev", "lo", "xdpg"], ["xdpgeneric"]),
        (
            "ip",
            ["link", "set", "dev", "lo", "xdp", "o"],
            ["off", "object-file", "obj", "object-pinned"],
        ),
        ("ip", ["link", "set", "lo", "xdp", "obj", "f.o", "s"], ["section"]),
        ("ip", ["-n"], ["-netns"]),  # case matters: -Numeric needs -N
        ("tc", ["-n"], ["-netns", "-names", "-nm"]),
        ("tc", ["filter", "add", "dev", "lo", "ingress", "bpf", "d"], ["direct-action", "da"]),
        ("tc", ["filter", "add", "dev", "lo", "e"], ["egress"]),
        ("tc", ["exec", "bpf", "g"], ["graft"]),
        ("tc", ["zz", ""], []),
    ],
)
def test_candidates_follow_the_grammar(tool: str, words: list[str], expected: list[str]) -> None:
    assert candidates(tool, words) == expected


def test_device_names_after_dev() -> None:
    assert "lo" in candidates("ip", ["link", "set", "dev", ""])


def test_bash_script_completes_through_the_callback(tmp_path: Path) -> None:
    bindir = Path(sys.executable).parent
    script = subprocess.run(
        [str(bindir / "pybpftool"), "completion", "bash"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    probe = script + "COMP_WORDS=(pyip link set dev lo xdpg); COMP_CWORD=5\n"
    probe += '_pybpftool_complete; printf "%s\\n" "${COMPREPLY[@]}"\n'
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, env=env)
    assert out.stdout.split() == ["xdpgeneric"], out.stderr
